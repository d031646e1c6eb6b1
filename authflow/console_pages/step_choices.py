"""An application's steps as the console edits them: each step a choice among the authenticators and identity
providers that exist, never free text, so a step naming something unknown cannot be made from the console."""
from __future__ import annotations

from dataclasses import dataclass

from authflow.authenticators import registry
from authflow.federation import providers

LOCAL = "LOCAL"
EXTRA_ROWS = 2  # empty steps offered below the configured ones
MAX_STEPS = 20


@dataclass(frozen=True)
class Choice:
    value: str  # "local:<authenticator>" or "idp:<provider>"
    label: str
    option: dict  # as the API takes it: "<authenticator>" or {"idp": ...}


class UnknownChoice(ValueError):
    pass


def choices(configured: dict | None = None) -> list[Choice]:
    """What a step may offer; plus what the application's `configured` steps already offer that no longer
    exists (a plugin removed, a custom authenticator disabled), so that saving another change keeps it."""
    local = [Choice(f"local:{name}", f"{label} ({name})", name) for name, label in registry.available()]
    federated = [Choice(f"idp:{p.name}", f"{p.label} (identity provider{'' if p.enabled else ', disabled'})",
                        {"idp": p.name}) for p in providers.configured()]
    offered = local + federated
    known = {choice.value for choice in offered}
    for options in (configured or {}).values():
        for option in options:
            value = value_of(option)
            if value not in known:
                known.add(value)
                kept = dict(option) if (option.get("idp") or LOCAL) != LOCAL else option["authenticator"]
                offered.append(Choice(value, f"{value.split(':', 1)[1]} (configured, not available here)", kept))
    return offered


def value_of(option: dict) -> str:
    """The choice value of a normalised option ({"authenticator", "idp"})."""
    idp = option.get("idp") or LOCAL
    return f"local:{option.get('authenticator')}" if idp == LOCAL else f"idp:{idp}"


def rows(steps: dict) -> list[dict]:
    """The step rows of the form: the configured steps (normalised form), then empty ones to add."""
    numbers = sorted(int(n) for n in steps) if steps else []
    last = numbers[-1] if numbers else 0
    out = [{"number": n, "selected": [value_of(o) for o in steps[str(n)]]} for n in numbers]
    out += [{"number": last + i, "selected": []} for i in range(1, EXTRA_ROWS + 1)]
    return out


def from_form(post, configured: dict | None = None) -> dict:
    """{"<n>": [option, ...]} from the form's `step-<n>` selects; empty steps are left out.

    Raises UnknownChoice for a value no select offered (a forged or stale form)."""
    offered = {choice.value: choice.option for choice in choices(configured)}
    steps = {}
    for key in post:
        if not key.startswith("step-"):
            continue
        number = key[len("step-"):]
        if not (number.isascii() and number.isdigit() and 0 < int(number) <= MAX_STEPS):
            raise UnknownChoice(f"{key!r} is not a step of the form")
        selected = [value for value in post.getlist(key) if value]
        unknown = [value for value in selected if value not in offered]
        if unknown:
            raise UnknownChoice(f"step {int(number)}: {', '.join(unknown)} is not an authenticator or identity "
                                f"provider of this server")
        if selected:
            steps[str(int(number))] = [offered[value] for value in dict.fromkeys(selected)]
    return dict(sorted(steps.items(), key=lambda item: int(item[0])))
