"""Running one of a custom authenticator's scripts and reading its answer into a status.

The script runs in the script engine's sandbox (sequences.api.run_execute):
same process isolation, time and memory limits as login scripts. Whatever
goes wrong on the way (no published script, an exception, a limit, a result
of the wrong shape) becomes a 3000-range status, logged for the
administrator with the script's message and never shown to the client.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from sequences.api import ExecuteOutcome, run_execute
from sequences.models import Sequence

from . import status as codes

logger = logging.getLogger("authflow.custom_authenticators")

_LOG_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING, "error": logging.ERROR}
_MISSING_EXECUTE = "does not define execute"
MAX_REGISTRATION_DATA_CHARS = 64 * 1024


@dataclass(frozen=True)
class ScriptAnswer:
    status: int
    registration_data: str | None = None
    response_payload: str = ""


def run_script(sequence: Sequence | None, args: list, *, authenticator: str, purpose: str,
               needs_registration_data: bool = False) -> ScriptAnswer:
    """Call the published version of `sequence`'s execute(*args); `purpose` names the script in logs."""
    where = {"authenticator": authenticator, "script": purpose}
    version = sequence.published_version() if sequence is not None else None
    if version is None:
        logger.error("custom authenticator script not available", extra=where)
        return ScriptAnswer(codes.SCRIPT_NOT_AVAILABLE)
    outcome = run_execute(version.source, args, name=f"{authenticator}:{purpose}")
    for line in outcome.logs:
        logger.log(_LOG_LEVELS.get(line.get("level"), logging.INFO), "script: %s", line.get("message", ""),
                   extra={**where, "version": version.number})
    answer, problem = interpret(outcome, needs_registration_data)
    if problem:
        error = outcome.error or {}
        logger.warning("custom authenticator script failed: %s", problem,
                       extra={**where, "version": version.number, "status": answer.status,
                              "error_kind": error.get("kind", "result"), "line": error.get("line"),
                              "column": error.get("column")})
    return answer


def interpret(outcome: ExecuteOutcome, needs_registration_data: bool) -> tuple[ScriptAnswer, str | None]:
    """The status of one call (the script's, or the engine's 3000 range) and, for the latter, what went wrong."""
    if not outcome.ok:
        return ScriptAnswer(_engine_status(outcome.error)), outcome.error.get("message") or "the script failed"
    answer, problem = _read_result(outcome.value, needs_registration_data)
    if problem:
        return ScriptAnswer(codes.INVALID_RESULT), f"invalid result: {problem}"
    return answer, None


def read_outcome(outcome: ExecuteOutcome, needs_registration_data: bool) -> dict:
    """What `manage.py simulate` shows of a call: the status, the HTTP status a client gets, what is stored."""
    answer, problem = interpret(outcome, needs_registration_data)
    shown = {"status": answer.status, "httpStatus": codes.http_status(answer.status)}
    if codes.is_engine_error(answer.status):
        shown.update(engineError=True, problem=problem)
    else:
        shown["responsePayload"] = answer.response_payload
        if answer.registration_data is not None:
            shown["registrationData"] = answer.registration_data
    return shown


def _engine_status(error: dict) -> int:
    kind = error.get("kind")
    if kind == "syntax":
        return codes.SCRIPT_NOT_COMPILABLE
    if kind == "runtime" and _MISSING_EXECUTE in (error.get("message") or ""):
        return codes.EXECUTE_NOT_AVAILABLE
    return codes.SCRIPT_EXECUTION_FAILURE  # an exception, a limit (time, memory), the sandbox stopping


def _read_result(value, needs_registration_data: bool) -> tuple[ScriptAnswer | None, str | None]:
    if not isinstance(value, dict):
        return None, "execute must return an object {status, registrationData, responsePayload}"
    status = value.get("status")
    if isinstance(status, bool) or not isinstance(status, int) or status not in codes.SCRIPT_STATUSES:
        allowed = ", ".join(str(s) for s in sorted(codes.SCRIPT_STATUSES))
        return None, f"status must be one of {allowed}, not {status!r}"[:300]
    payload = value.get("responsePayload")
    if payload is None:
        payload = ""
    if not isinstance(payload, str):
        return None, "responsePayload must be a string"
    data = value.get("registrationData")
    if data is not None and not isinstance(data, str):
        return None, "registrationData must be a string"
    if data is not None and len(data) > MAX_REGISTRATION_DATA_CHARS:
        return None, f"registrationData is longer than {MAX_REGISTRATION_DATA_CHARS} characters"
    if needs_registration_data and status == codes.SUCCESS and data is None:
        return None, "a successful registration must return registrationData (a string)"
    return ScriptAnswer(status, data, payload), None
