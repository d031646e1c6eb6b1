"""Warnings about a script that is valid but probably wrong, with their line and column: a call to a function
neither the script nor the API defines, and executeStep with a step number the application does not configure.
And the API's own names and context fields, for an editor to complete: both read from the sandbox's runtime, so
they are the functions scripts really get, never a second list kept by hand."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache

from .errors import ScriptLimitError
from .sandbox import Limits, pool

KIND_OF = {"script": "login", "library": "library", "callbacks": "callbacks", "login": "login"}


@dataclass(frozen=True)
class ScriptWarning:
    message: str
    line: int
    column: int

    def as_dict(self) -> dict:
        return asdict(self)


def script_warnings(source: str, *, kind: str = "script", applications: dict[str, dict] | None = None
                    ) -> list[ScriptWarning]:
    """The warnings of `source`; executeStep's numbers are compared with each application's steps
    (`applications`: {name: {"1": [...], ...}}).

    A script that does not parse has none (its error is check_syntax's); a check the sandbox could not finish
    gives none rather than failing what it accompanies.
    """
    runtime_kind = KIND_OF.get(kind)
    if runtime_kind is None or not isinstance(source, str):
        return []
    try:
        with pool.borrow(Limits(timeout_ms=2000)) as sandbox:
            found = sandbox.lint(source, runtime_kind)
    except ScriptLimitError:
        return []
    if not found.get("ok"):
        return []
    warnings = [ScriptWarning(f"{call['name']} is not a function of the script API nor defined in this script",
                              call["line"], call["column"]) for call in found["unknownCalls"]]
    for name, steps in sorted((applications or {}).items()):
        configured = sorted(int(number) for number in steps)
        for step in found["steps"]:
            if step["number"] not in configured:
                have = ", ".join(str(n) for n in configured) or "none"
                warnings.append(ScriptWarning(f"step {step['number']:g} is not configured for application {name} "
                                              f"(its steps: {have})", step["line"], step["column"]))
    return sorted(warnings, key=lambda w: (w.line, w.column))


@lru_cache(maxsize=4)
def script_api(kind: str = "script") -> dict:
    """{"functions": [...], "members": {"Log": [...]}, "context": {"": [fields of context], "request": [...],
    "steps[]": [...]}}."""
    with pool.borrow(Limits(timeout_ms=2000)) as sandbox:
        described = sandbox.describe(KIND_OF.get(kind, "login"))
    return {"functions": described.get("functions", []), "members": described.get("members", {}),
            "context": described.get("context", {})}
