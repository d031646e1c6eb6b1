"""Checking a script when it is saved, with the line and column of what is wrong.

The check runs in a sandbox process, like a login: the runtime parses the
script with a real parser (acorn), refuses what the sandbox does not support
(async functions, await, generators, import), requires the entry point the
kind of script needs (`onLoginRequest` for a login script), and compiles it
without running any of it.
"""
from __future__ import annotations

from .errors import ScriptLimitError, ScriptSyntaxError
from .sandbox import Limits, pool

MAX_SOURCE_BYTES = 256 * 1024


def check_syntax(source: str, limits: Limits | None = None, *, kind: str = "login") -> None:
    """Raise ScriptSyntaxError naming the line and column if `source` is not a script of `kind` the engine runs."""
    if not isinstance(source, str):
        raise ScriptSyntaxError("the script must be text")
    if len(source.encode("utf-8")) > MAX_SOURCE_BYTES:
        raise ScriptSyntaxError(f"the script is larger than {MAX_SOURCE_BYTES // 1024} KB")
    try:
        with pool.borrow(limits or Limits(timeout_ms=2000)) as sandbox:
            verdict = sandbox.check(source, kind)
    except ScriptLimitError as exc:
        raise ScriptSyntaxError(f"the script could not be checked: {exc.message}") from None
    if verdict is not None:
        raise ScriptSyntaxError(verdict["message"], line=verdict["line"], column=verdict["column"])
