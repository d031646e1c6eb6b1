"""`manage.py simulate` for callbacks scripts: one callback function, its inputs, and what it returned.

A scenario for a callbacks script is a JSON object:

    {"callback": "onAuthenticateSuccess",
     "inputs": {"username": "alice", "remoteAddress": "10.0.0.1",
                "claims": {"patient": "123"}, "approvedScopes": "openid launch/patient"}}

The inputs each function takes are in INPUTS; anything else is refused with
a message naming it.
"""
from __future__ import annotations

from ..engine.callbacks import CALLBACK_FUNCTIONS, run_callback
from ..engine.errors import ScriptSyntaxError
from ..engine.syntax import check_syntax
from .scenario import ScenarioError

EXIT_OK, EXIT_ERROR = 0, 1
INPUTS = {
    "onAuthenticateSuccess": {"username": str, "remoteAddress": str, "claims": dict, "approvedScopes": list},
    "onSmartLoginPreContextSelection": {"username": str, "authorities": list, "approvedScopes": list, "userData": dict},
    "onTokenGenerating": {"session": dict, "approvedScopes": list, "clientId": str, "audience": str, "launch": str,
                          "requestParameters": dict, "launchContext": dict},
    "onPostAuthorize": {"grantType": str, "grantedScopes": list, "clientId": str, "username": str},
    "authenticate": {"username": str, "password": str, "remoteAddress": str, "clientId": str},
    "getUserName": {"claims": dict, "server": dict},
}
_TYPE_NAMES = {str: "a string", dict: "an object", list: "a list (or a space-separated string)"}


def is_callback_scenario(data) -> bool:
    return isinstance(data, dict) and "callback" in data


def parse_callback_scenario(data: dict) -> tuple[str, dict]:
    """(function name, inputs), or ScenarioError naming what is wrong."""
    unknown = sorted(set(data) - {"callback", "inputs"})
    if unknown:
        raise ScenarioError(f"scenario: unknown key {unknown[0]!r} (a callbacks scenario has callback and inputs)")
    name = data["callback"]
    if name not in CALLBACK_FUNCTIONS:
        raise ScenarioError(f"callback: expected one of {', '.join(CALLBACK_FUNCTIONS)}")
    inputs = data.get("inputs", {})
    if not isinstance(inputs, dict):
        raise ScenarioError("inputs: expected an object")
    allowed = INPUTS[name]
    out = {}
    for key, value in inputs.items():
        if key not in allowed:
            raise ScenarioError(f"inputs.{key}: not an input of {name} (its inputs: {', '.join(allowed)})")
        expected = allowed[key]
        if expected is list and isinstance(value, str):
            value = [word for word in value.split(" ") if word]
        if key == "session" and value is None:
            out[key] = None  # onTokenGenerating for a client, without a user
            continue
        if not isinstance(value, expected) or (expected is list and not all(isinstance(v, (str, dict)) for v in value)):
            raise ScenarioError(f"inputs.{key}: expected {_TYPE_NAMES[expected]}")
        out[key] = value
    return name, out


def simulate_callback(source: str, data: dict, limits=None) -> tuple[dict, int]:
    name, inputs = parse_callback_scenario(data)
    try:
        check_syntax(source, kind="callbacks")
    except ScriptSyntaxError as exc:
        return {"status": "error", "callback": name, "error": str(exc), "logs": []}, EXIT_ERROR
    result = run_callback(source, name, inputs, application_name="simulation", ip=inputs.get("remoteAddress"),
                          limits=limits)
    if result.absent:
        return {"status": "absent", "callback": name, "logs": result.logs}, EXIT_OK
    if not result.ok:
        return {"status": "error", "callback": name, "error": result.error, "logs": result.logs}, EXIT_ERROR
    return {"status": "returned", "callback": name, "result": result.value, "logs": result.logs}, EXIT_OK
