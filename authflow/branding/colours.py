"""A theme: four colours, each #rrggbb, whose pairs a reader sees together meet WCAG AA's 4.5:1 contrast.

No free-text CSS: these values are all a brand may change, and the stylesheet that carries them is written
by this module's caller from checked values only.
"""
from __future__ import annotations

import re

# The built-in theme (static/css/authflow.css): what an unset colour means.
DEFAULTS = {"text": "#1b1f24", "background": "#ffffff", "accent": "#0b5cad", "accent_text": "#ffffff"}
NAMES = tuple(DEFAULTS)
MIN_CONTRAST = 4.5  # WCAG 2.1 AA, normal text
# Pairs shown together: (foreground, background, what it is).
PAIRS = (("text", "background", "text on the page"), ("accent", "background", "links on the page"),
         ("accent_text", "accent", "text on buttons"))
_HEX = re.compile(r"^#[0-9a-f]{6}$")


class ThemeError(ValueError):
    pass


def normalised(value) -> str:
    """`value` as #rrggbb (lower case), or "" for unset; raises ThemeError for anything else."""
    if value is None or value == "":
        return ""
    text = str(value).strip().lower()
    if len(text) == 4 and text.startswith("#"):
        text = "#" + "".join(c * 2 for c in text[1:])
    if not _HEX.match(text):
        raise ThemeError(f"{str(value)[:20]!r} is not a colour written #rrggbb")
    return text


def luminance(colour: str) -> float:
    """WCAG 2.1 relative luminance of #rrggbb."""
    def channel(hex_pair: str) -> float:
        c = int(hex_pair, 16) / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(colour[i:i + 2]) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(first: str, second: str) -> float:
    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def effective(theme: dict, fallback: dict | None = None) -> dict:
    """Every colour: the theme's, else the fallback's (the default brand's), else the built-in one."""
    fallback = fallback or {}
    return {name: theme.get(name) or fallback.get(name) or DEFAULTS[name] for name in NAMES}


def check(theme: dict, fallback: dict | None = None) -> dict:
    """The theme's colours normalised; raises ThemeError naming each pair below 4.5:1 (with the default's
    colours standing in for unset ones, as the page will show them)."""
    unknown = set(theme) - set(NAMES)
    if unknown:
        raise ThemeError(f"unknown colours: {', '.join(sorted(unknown))} (a theme has {', '.join(NAMES)})")
    colours = {name: normalised(theme.get(name)) for name in NAMES}
    shown = effective(colours, fallback)
    low = [f"{what} ({fg} {shown[fg]} on {bg} {shown[bg]}): {contrast(shown[fg], shown[bg]):.2f}:1"
           for fg, bg, what in PAIRS if contrast(shown[fg], shown[bg]) < MIN_CONTRAST]
    if low:
        raise ThemeError("contrast below 4.5:1 (WCAG AA): " + "; ".join(low))
    return colours
