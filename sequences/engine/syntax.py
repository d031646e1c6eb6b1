"""Checking a script's syntax when it is saved, with the line and column of the error.

The check compiles the script exactly as the runtime will, but in a throwaway
isolate with the usual limits, so nothing a hostile script does while being
checked can reach the isolates that run logins.
"""
from __future__ import annotations

import json
import re

from py_mini_racer import JSEvalException, JSParseException, MiniRacer

from .errors import ScriptSyntaxError
from .v8 import Limits

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
    limits = limits or Limits()
    mr = MiniRacer()
    try:
        mr.set_hard_memory_limit(limits.memory_mb * 1024 * 1024 * 2)
        # Same construction as the runtime: a body the Function constructor accepts.
        verdict = mr.eval(
            "(function (body) { try { Function('__scope', body); return ''; } catch (e) { return String(e.message); } })"
            f"({json.dumps(_BODY_PREFIX + source + chr(10) + ';}')})",
            timeout_sec=1,
        )
        if not verdict:
            return
        # Function() does not say where; compiling the same text as a script does.
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
