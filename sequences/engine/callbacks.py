"""Running one function of a callbacks script (the Smile CDR dialect) in the login scripts' sandbox.

A callback never halts for a person: it gets objects built from `args`
(engine/js/api/callbacks.js), runs to its end, and the runtime reads back
what it did as plain data. It goes through the same driver as a login, so it
has the same limits (time, memory, output size) and the same error reports.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .driver import Program, advance
from .sandbox import Limits
from .state import FlowState, request_inputs

CALLBACK_FUNCTIONS = ("onAuthenticateSuccess", "onSmartLoginPreContextSelection", "onTokenGenerating",
                      "onPostAuthorize", "authenticate", "getUserName")


@dataclass
class CallbackResult:
    value: Any = None  # what the runtime read back (see js/api/callbacks.js); None after an error
    error: str | None = None  # the script's error, with its line when known
    logs: list[dict] = field(default_factory=list)  # [{"level", "message"}]
    absent: bool = False  # the script does not define this function: nothing ran


    @property
    def ok(self) -> bool:
        return self.error is None


class _NoHost:
    """Callbacks read nothing from the directory and change nothing: their API has no such calls."""

    def load_user(self, username):
        return None

    def apply_effect(self, name, args):
        return False

    def lookup(self, kind, key):
        return None


def run_callback(source: str, entry: str, args: dict, *, application_name: str, ip: str | None = None,
                 limits: Limits | None = None, now_ms: int | None = None) -> CallbackResult:
    """Run `entry` of the callbacks script `source` with the objects `args` describes."""
    if entry not in CALLBACK_FUNCTIONS:
        raise ValueError(f"{entry!r} is not a callback function")
    state = FlowState.start(application_name, {}, request_inputs(ip=ip), entry=entry)
    state.inputs["args"] = args
    outcome = advance(Program.from_source(source, "callbacks"), state, _NoHost(), now_ms=now_ms, limits=limits)
    logs = [{"level": e["level"], "message": e["message"]} for e in outcome.events if e.get("type") == "log"]
    command = outcome.command
    if command["type"] == "return":
        return CallbackResult(value=command.get("value"), logs=logs)
    if command["type"] == "error" and command.get("message") == f"Error: the script does not define {entry} as a function":
        return CallbackResult(error=command["message"], logs=logs, absent=True)
    if command["type"] == "error":
        where = f" (line {command['line']}, column {command['column']})" if command.get("line") else ""
        return CallbackResult(error=f"{command['message']}{where}", logs=logs)
    return CallbackResult(error=f"{entry} did something a callback cannot do ({command['type']})", logs=logs)
