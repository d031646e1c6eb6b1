"""Checking a script when it is saved, with the line and column of what is wrong.

The runtime compiles the script exactly as it will for a login (without running
any of it) and refuses what the sandbox does not support.
"""
from __future__ import annotations

import re

from py_mini_racer import JSEvalException, JSParseException, MiniRacer

from .errors import ScriptSyntaxError
from .v8 import Limits, pool

# Mirrors runtime.js: Function() adds two header lines and the body opens a `with` block.
_HEADER = "(function anonymous(__scope\n) {\nwith (__scope) {"
_HEADER_LINES = 2
_BODY_PREFIX = "with (__scope) {"
_LOCATION = re.compile(r"^<anonymous>:(\d+): (.*)$", re.M)
MAX_SOURCE_BYTES = 256 * 1024


def check_syntax(source: str, limits: Limits | None = None) -> None:
    """Raise ScriptSyntaxError naming the line and column if `source` does not parse."""
    if not isinstance(source, str):
        raise ScriptSyntaxError("the script must be text")
    if len(source.encode("utf-8")) > MAX_SOURCE_BYTES:
        raise ScriptSyntaxError(f"the script is larger than {MAX_SOURCE_BYTES // 1024} KB")
    # The runtime compiles without running anything, and finds what it refuses.
    with pool.borrow(limits) as isolate:
        verdict = isolate.check(source)
    if verdict is None:
        return
    if verdict["kind"] != "syntax":
        raise ScriptSyntaxError(verdict["message"], line=verdict["line"], column=verdict["column"])
    _locate_syntax_error(source, verdict["message"], limits or Limits())


def _locate_syntax_error(source: str, verdict: str, limits: Limits) -> None:
    """Function() does not say where a syntax error is; compiling the same text as a script does.

    That compilation runs the script's top level if it breaks out of the
    wrapper, so it happens in a throwaway isolate, under limits.
    """
    mr = MiniRacer()
    try:
        mr.set_hard_memory_limit(limits.memory_mb * 1024 * 1024 * 2)
        try:
            mr.eval(_HEADER + source + "\n;}})", timeout_sec=1)
        except JSParseException as exc:
            raise _located(str(exc), verdict, source.count("\n") + 1) from None
        except JSEvalException:
            pass
        raise ScriptSyntaxError(f"SyntaxError: {verdict}")
    finally:
        mr.close()


def _located(text: str, fallback: str, last_line: int) -> ScriptSyntaxError:
    match = _LOCATION.search(text)
    if not match:
        return ScriptSyntaxError(f"SyntaxError: {fallback}")
    line = int(match.group(1)) - _HEADER_LINES
    message = match.group(2).strip()
    lines = text.splitlines()
    column = None
    for index, candidate in enumerate(lines):
        if set(candidate.strip()) == {"^"}:
            column = candidate.index("^") + 1
            if line == 1 and index > 0:
                column -= len(_BODY_PREFIX)
            break
    if line > last_line:  # the error is the end of the text (an unclosed block)
        line, column = last_line, None
    line = max(line, 1)
    return ScriptSyntaxError(message, line=line, column=column)
