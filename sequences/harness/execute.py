"""`manage.py simulate` for scripts that define execute() (custom authenticator scripts): one call, one trace.

The scenario names the call's arguments:

    {"execute": {"requestPayload": "...", "userIdentifier": "alice", "registrationData": "..."}}

(`registrationData` for authentication and deregistration scripts; without it
the script is called as a registration script). The trace holds the returned
value, the script's log lines and, when the server reads such results
(settings.SEQUENCES["EXECUTE_RESULTS"]: a module with `read_outcome`), what a
client would get: the status code and the HTTP status.
"""
from __future__ import annotations

from ..engine.errors import ScriptSyntaxError
from ..engine.execute import KIND, run_execute
from ..engine.sandbox import Limits
from ..engine.syntax import check_syntax
from .scenario import ScenarioError

EXIT_OK, EXIT_ERROR = 0, 1
_KEYS = {"requestPayload", "userIdentifier", "registrationData"}


def is_execute_scenario(data) -> bool:
    return isinstance(data, dict) and "execute" in data


def execute_arguments(data: dict) -> list:
    """The call's arguments from the scenario; ScenarioError naming what is wrong."""
    if set(data) != {"execute"}:
        raise ScenarioError("an execute scenario holds only the key execute")
    call = data["execute"]
    if not isinstance(call, dict):
        raise ScenarioError("execute: expected a mapping with requestPayload, userIdentifier and registrationData")
    for key in call:
        if key not in _KEYS:
            raise ScenarioError(f"execute: unknown key {key!r} (expected one of: {', '.join(sorted(_KEYS))})")
    for key in ("requestPayload", "userIdentifier"):
        if not isinstance(call.get(key), str):
            raise ScenarioError(f"execute.{key} is required (text)")
    args = [call["requestPayload"], call["userIdentifier"]]
    if "registrationData" in call:
        if not isinstance(call["registrationData"], str):
            raise ScenarioError("execute.registrationData must be text")
        args.append(call["registrationData"])
    return args


def default_result_reader():
    try:
        from django.conf import settings
        from django.utils.module_loading import import_module

        path = getattr(settings, "SEQUENCES", {}).get("EXECUTE_RESULTS")
        return import_module(path) if path else None
    except ImportError:
        return None


def simulate_execute(source: str, data: dict, limits: Limits | None = None, reader=None) -> tuple[dict, int]:
    args = execute_arguments(data)
    reader = reader or default_result_reader()
    try:
        check_syntax(source, kind=KIND)
    except ScriptSyntaxError as exc:
        return {"status": "error", "events": [{"type": "error", **exc.as_dict()}]}, EXIT_ERROR
    outcome = run_execute(source, args, name="simulate", limits=limits)
    events = [{"type": "log", **line} for line in outcome.logs]
    trace = {"status": "returned", "result": outcome.value} if outcome.ok else {"status": "error"}
    if not outcome.ok:
        events.append({"type": "error", **outcome.error})
    trace["events"] = events
    code = EXIT_OK if outcome.ok else EXIT_ERROR
    if reader is not None:
        answer = reader.read_outcome(outcome, needs_registration_data=len(args) == 2)
        trace["answer"] = answer
        if answer.get("engineError"):
            code = EXIT_ERROR
    return trace, code
