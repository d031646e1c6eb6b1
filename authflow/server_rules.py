"""The server's checks, for `manage.py simulate` (settings.SEQUENCES["SERVER_RULES"] names this module).

The harness (sequences/harness) knows nothing of this project; through these
functions it checks a scenario the way the server checks the real thing, with
the same code: the authenticators of the application's steps (as `apply`
does), that a step passed with a local authenticator has a plugin, and each
httpGet, httpPost and callChoreo against the scenario's allowedEndpoints and
secrets (as a login does).  So a script that passes in simulate does not fail
on the server for a name, a URL or an authConfig.
"""
from __future__ import annotations

from authflow.authenticators import registry
from authflow.outbound import allowlist, checks


def check_steps(steps: dict) -> None:
    """ValueError naming the step and the authenticator when `steps` has one the server does not know."""
    registry.check_steps(steps)


def check_passable(authenticator: str) -> None:
    """ValueError when a user cannot pass this local authenticator on the server (no plugin implements it)."""
    registry.check_available(authenticator)


def allowed_endpoints(urls: list[str]) -> list[allowlist.Address]:
    """The scenario's allowedEndpoints, normalised as the admin console stores them; ValueError naming a bad one."""
    endpoints = []
    for index, url in enumerate(urls):
        try:
            endpoints.append(allowlist.normalise(url.strip(), prefix=True))
        except allowlist.NotAllowed as exc:
            raise ValueError(f"allowedEndpoints[{index}]: {exc}") from None
    return endpoints


def refused_call(command: dict, endpoints: list[allowlist.Address], secrets: dict) -> dict | None:
    """The data of the fail the server answers `command` with at once, or None when it would make the call.

    callAnalytics goes to the operator's endpoint, not the script's: the scenario's outcome decides it.
    """
    if command.get("function") == "callAnalytics":
        return None
    try:
        checks.request_for(command, is_allowed=lambda address: allowlist.covered(address, endpoints),
                           secret=secrets.get)
    except checks.Refused as refused:
        return refused.data
    return None


def shown_call(command: dict, secrets: dict | None = None) -> dict:
    """The call as simulate's trace shows it: authConfig's and connection's secrets masked, and any text holding
    one of the scenario's secrets (a header built from getSecretByName, ...)."""
    values = [v for v in (secrets or {}).values() if v]
    return _masked(checks.redacted(command), values)


def _masked(value, secrets: list[str]):
    if isinstance(value, str):
        return "***" if any(secret in value for secret in secrets) else value
    if isinstance(value, dict):
        return {key: _masked(item, secrets) for key, item in value.items()}
    if isinstance(value, list):
        return [_masked(item, secrets) for item in value]
    return value
