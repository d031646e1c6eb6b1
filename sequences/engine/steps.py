"""The step configuration an application gives its script, in the one shape the engine reads.

Configuration files may write a step's options briefly (`[BasicAuthenticator]`)
or fully (`[{authenticator: OpenIDConnect, idp: google}]`); the engine always
receives `{"1": [{"authenticator": ..., "idp": ...}, ...], ...}`.
"""
from __future__ import annotations

LOCAL_IDP = "LOCAL"


class StepConfigError(ValueError):
    pass


def normalize_steps(steps) -> dict[str, list[dict]]:
    if not isinstance(steps, dict) or not steps:
        raise StepConfigError("steps must be a non-empty mapping of step numbers to lists of options")
    normalized: dict[str, list[dict]] = {}
    for raw_number, options in steps.items():
        number = _step_number(raw_number)
        if str(number) in normalized:
            raise StepConfigError(f"step {number} is listed twice")
        if isinstance(options, (str, dict)):
            options = [options]
        if not isinstance(options, list) or not options:
            raise StepConfigError(f"step {number}: expected a non-empty list of authenticators or identity providers")
        normalized[str(number)] = [_option(number, option) for option in options]
    return dict(sorted(normalized.items(), key=lambda item: int(item[0])))


def _step_number(raw) -> int:
    if isinstance(raw, bool):
        raise StepConfigError(f"bad step number {raw!r}: expected a whole number from 1")
    try:
        number = int(raw)
    except (TypeError, ValueError):
        raise StepConfigError(f"bad step number {raw!r}: expected a whole number from 1") from None
    if number < 1 or str(raw).strip() not in {str(number)}:
        raise StepConfigError(f"bad step number {raw!r}: expected a whole number from 1")
    return number


def _option(number: int, option) -> dict:
    if isinstance(option, str) and option.strip():
        return {"authenticator": option.strip(), "idp": LOCAL_IDP}
    if isinstance(option, dict):
        unknown = set(option) - {"authenticator", "idp"}
        if unknown:
            raise StepConfigError(f"step {number}: unknown option key(s) {sorted(unknown)}; use authenticator and idp")
        authenticator = option.get("authenticator")
        idp = option.get("idp", LOCAL_IDP)
        if authenticator is not None and (not isinstance(authenticator, str) or not authenticator.strip()):
            raise StepConfigError(f"step {number}: authenticator must be a name")
        if not isinstance(idp, str) or not idp.strip():
            raise StepConfigError(f"step {number}: idp must be a name")
        if authenticator is None and idp == LOCAL_IDP:
            raise StepConfigError(f"step {number}: a local option needs an authenticator")
        return {"authenticator": authenticator, "idp": idp}
    raise StepConfigError(f"step {number}: each option is an authenticator name or {{authenticator, idp}}")


def brief_steps(steps: dict[str, list[dict]]) -> dict[int, list]:
    """The short form configuration files use (the inverse of normalize_steps)."""
    out: dict[int, list] = {}
    for number, options in steps.items():
        out[int(number)] = [
            option["authenticator"] if option.get("idp", LOCAL_IDP) == LOCAL_IDP else dict(option)
            for option in options
        ]
    return out
