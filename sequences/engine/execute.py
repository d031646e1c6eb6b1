"""Running one named function of a script once, outside any login flow.

Custom authenticator scripts define `execute(...)`: a single call with
plain-data arguments and a plain-data result, in the same sandbox, with the
same limits, as login scripts. There is no journal to replay and nothing to
look up: the script's profile has no API beyond logging.
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field

from .errors import ScriptCompileError, ScriptLimitError
from .sandbox import Limits, pool
from .state import empty_journal

KIND = "custom-authenticator"


@dataclass
class ExecuteOutcome:
    """What one call returned: `value` (plain JSON) or an `error` ({"kind", "message", "line", "column"})."""

    value: object = None
    error: dict | None = None
    logs: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None


def run_execute(source: str, args: list, *, entry: str = "execute", name: str = "script",
                limits: Limits | None = None) -> ExecuteOutcome:
    """Call `entry(*args)` of `source` (a script of the custom authenticator kind) once."""
    # The key names the text *and* its kind: the same text compiled as a login script is another program.
    key = hashlib.sha256(f"{KIND}\0{source}".encode("utf-8")).hexdigest()
    inputs = {"application": {"name": name, "steps": {}}, "request": {}, "entry": entry}
    payload = json.dumps({"inputs": inputs, "journal": empty_journal(0), "prefetch": {}, "lookups": {},
                          "now": int(time.time() * 1000), "entry": entry, "args": list(args)},
                         separators=(",", ":"))
    try:
        with pool.borrow(limits) as sandbox:
            result = sandbox.run(key, source, payload, kind=KIND)
    except ScriptLimitError as exc:
        return ExecuteOutcome(error={"kind": exc.kind, "message": exc.message, "line": None, "column": None})
    except ScriptCompileError as exc:
        return ExecuteOutcome(error={"kind": "syntax", "message": exc.message, "line": exc.line, "column": exc.column})
    command = result["command"]
    logs = list(result.get("logs", []))
    if command.get("type") == "return":
        return ExecuteOutcome(value=command.get("value"), logs=logs)
    if command.get("type") == "error":
        return ExecuteOutcome(error={k: command.get(k) for k in ("kind", "message", "line", "column")}, logs=logs)
    # Anything else (a lookup, a step) cannot come from this profile's API; say so rather than guess.
    return ExecuteOutcome(error={"kind": "engine", "message": f"unexpected command {command.get('type')!r}",
                                 "line": None, "column": None}, logs=logs)
