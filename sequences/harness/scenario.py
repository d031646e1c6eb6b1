"""Reading a simulation scenario, with an error naming exactly what is wrong in it."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from ..engine.state import STEP_RESULTS, request_inputs
from ..engine.steps import StepConfigError, normalize_steps

_TOP_KEYS = {"application", "request", "now", "seed", "users", "roles", "outcomes"}
_APP_KEYS = {"name", "steps"}
_REQUEST_KEYS = {"ip", "headers", "params", "cookies"}
_USER_KEYS = {"roles", "groups", "claims"}
_STEP_OUTCOME_KEYS = {"step", "result", "user", "authenticator", "idp", "params", "error", "remoteClaims", "at"}
_PROMPT_OUTCOME_KEYS = {"prompt", "action", "params", "at"}
DEFAULT_NOW = "2026-01-01T00:00:00Z"


class ScenarioError(ValueError):
    pass


@dataclass
class Scenario:
    application_name: str
    steps: dict
    request: dict
    now_ms: int
    seed: int
    users: dict
    roles: list | None
    outcomes: list = field(default_factory=list)


def parse_scenario(data) -> Scenario:
    if not isinstance(data, dict):
        raise ScenarioError("scenario: expected a JSON object")
    _no_unknown_keys(data, _TOP_KEYS, "scenario")

    app = data.get("application")
    if not isinstance(app, dict):
        raise ScenarioError("application: expected an object with name and steps")
    _no_unknown_keys(app, _APP_KEYS, "application")
    name = app.get("name", "application")
    if not isinstance(name, str) or not name:
        raise ScenarioError("application.name: expected a non-empty string")
    try:
        steps = normalize_steps(app.get("steps"))
    except StepConfigError as exc:
        raise ScenarioError(f"application.steps: {exc}") from None

    request = data.get("request", {})
    if not isinstance(request, dict):
        raise ScenarioError("request: expected an object")
    _no_unknown_keys(request, _REQUEST_KEYS, "request")
    for key in ("headers", "params", "cookies"):
        if not isinstance(request.get(key, {}), dict):
            raise ScenarioError(f"request.{key}: expected an object")
    if request.get("ip") is not None and not isinstance(request["ip"], str):
        raise ScenarioError("request.ip: expected a string")

    seed = data.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ScenarioError("seed: expected a whole number")

    users = data.get("users", {})
    if not isinstance(users, dict):
        raise ScenarioError("users: expected an object of usernames")
    for username, user in users.items():
        where = f"users.{username}"
        if not isinstance(user, dict):
            raise ScenarioError(f"{where}: expected an object")
        _no_unknown_keys(user, _USER_KEYS, where)
        for key in ("roles", "groups"):
            if not _is_string_list(user.get(key, [])):
                raise ScenarioError(f"{where}.{key}: expected a list of names")
        claims = user.get("claims", {})
        if not isinstance(claims, dict) or not all(isinstance(v, str) for v in claims.values()):
            raise ScenarioError(f"{where}.claims: expected an object of claim URIs to strings")

    roles = data.get("roles")
    if roles is not None and not _is_string_list(roles):
        raise ScenarioError("roles: expected a list of role names")

    outcomes = data.get("outcomes", [])
    if not isinstance(outcomes, list):
        raise ScenarioError("outcomes: expected a list")
    for index, outcome in enumerate(outcomes):
        _check_outcome(index, outcome, users)

    return Scenario(
        application_name=name,
        steps=steps,
        request=request_inputs(request.get("ip"), request.get("headers"), request.get("params"), request.get("cookies")),
        now_ms=parse_time(data.get("now", DEFAULT_NOW), "now"),
        seed=seed,
        users={u: {"roles": list(v.get("roles", [])), "groups": list(v.get("groups", [])),
                   "claims": dict(v.get("claims", {}))} for u, v in users.items()},
        roles=list(roles) if roles is not None else None,
        outcomes=outcomes,
    )


def parse_time(value, where: str) -> int:
    if not isinstance(value, str):
        raise ScenarioError(f"{where}: expected an ISO 8601 time such as 2026-05-01T10:00:00Z")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ScenarioError(f"{where}: {value!r} is not an ISO 8601 time such as 2026-05-01T10:00:00Z") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1000)


def _check_outcome(index: int, outcome, users: dict) -> None:
    where = f"outcomes[{index}]"
    if not isinstance(outcome, dict):
        raise ScenarioError(f"{where}: expected an object")
    if "step" in outcome and "prompt" in outcome:
        raise ScenarioError(f"{where}: an outcome answers either a step or a prompt, not both")
    if "step" in outcome:
        _no_unknown_keys(outcome, _STEP_OUTCOME_KEYS, where)
        if not isinstance(outcome["step"], int) or isinstance(outcome["step"], bool) or outcome["step"] < 1:
            raise ScenarioError(f"{where}.step: expected a step number from 1")
        result = outcome.get("result")
        if result not in STEP_RESULTS:
            raise ScenarioError(f"{where}.result: expected one of {', '.join(STEP_RESULTS)}, got {result!r}")
        user = outcome.get("user")
        if result == "success" and not user:
            raise ScenarioError(f"{where}.user: a successful step names the user it authenticated")
        if user is not None and user not in users:
            raise ScenarioError(f"{where}.user: {user!r} is not one of the scenario's users")
        for key in ("authenticator", "idp", "error"):
            if key in outcome and not isinstance(outcome[key], str):
                raise ScenarioError(f"{where}.{key}: expected a string")
        if "remoteClaims" in outcome and not isinstance(outcome["remoteClaims"], dict):
            raise ScenarioError(f"{where}.remoteClaims: expected an object")
    elif "prompt" in outcome:
        _no_unknown_keys(outcome, _PROMPT_OUTCOME_KEYS, where)
        if not isinstance(outcome["prompt"], str) or not outcome["prompt"]:
            raise ScenarioError(f"{where}.prompt: expected the prompt's templateId")
        action = outcome.get("action", "success")
        if not isinstance(action, str) or not action:
            raise ScenarioError(f"{where}.action: expected an action name such as success")
    else:
        raise ScenarioError(f"{where}: expected a step outcome (\"step\": N) or a prompt outcome (\"prompt\": ID)")
    if "params" in outcome and not isinstance(outcome["params"], dict):
        raise ScenarioError(f"{where}.params: expected an object")
    if "at" in outcome:
        parse_time(outcome["at"], f"{where}.at")


def _no_unknown_keys(obj: dict, allowed: set, where: str) -> None:
    unknown = sorted(set(obj) - allowed)
    if unknown:
        raise ScenarioError(f"{where}: unknown key {unknown[0]!r} (expected: {', '.join(sorted(allowed))})")


def _is_string_list(value) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)
