"""The placeholder syntax of email templates: `{{ name }}`, nothing else.

Templates are written by administrators, so they are never run as Django
template code: the only thing a template can do is name a placeholder,
whose value comes from the placeholders map (a script's sendEmail call, or
the authenticator sending a code).  In the HTML body values are escaped;
in the subject line breaks are removed (an email header is one line).
"""
from __future__ import annotations

import re
from html import escape

NAME = r"[A-Za-z_][A-Za-z0-9_.-]{0,63}"
PLACEHOLDER = re.compile(r"\{\{\s*(" + NAME + r")\s*\}\}")
# Anything that looks like a placeholder or template code, well-formed or not.
_BRACES = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)


def names(text: str) -> set[str]:
    """The placeholder names `text` uses."""
    return set(PLACEHOLDER.findall(text or ""))


def problems(text: str) -> list[str]:
    """What in `text` is not a placeholder this syntax understands (it would be sent as it is)."""
    out = []
    for match in _BRACES.finditer(text or ""):
        token = match.group(0)
        if not PLACEHOLDER.fullmatch(token):
            out.append(token if len(token) <= 60 else token[:57] + "...")
    return out


def render(text: str, values: dict[str, str], *, html: bool = False, one_line: bool = False) -> tuple[str, set[str]]:
    """`text` with each placeholder replaced by its value; and the names that had no value (left empty)."""
    missing: set[str] = set()

    def substitute(match: re.Match) -> str:
        name = match.group(1)
        if name not in values or values[name] is None:
            missing.add(name)
            return ""
        value = str(values[name])
        if one_line:
            value = " ".join(value.split())
        return escape(value, quote=True) if html else value

    return PLACEHOLDER.sub(substitute, text or ""), missing
