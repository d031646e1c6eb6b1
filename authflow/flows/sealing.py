"""Secrets a flow keeps stay encrypted at rest, with the server's keys (authflow.keys).

The script must see the same values on every replay, so what a user typed
into a password input of a prompt and the values of the cookies it read
are kept as long as the flow; but a database copy, a backup or the admin
console showing a flow must not reveal them.  The engine takes them out of
the state it hands over and gives them to the cipher below
(FlowState.to_stored / from_stored); the flow service stores the one and
replays the other.

Cookies a script sets (setCookie) wait in the flow's outbox until the next
response to its browser: each is kept sealed, bound to its flow, and opened
only to be sent.  The record of each effect keeps the value of such a
cookie sealed too, and never keeps what the engine says is a secret
(sequences.api.redacted: a new password).
"""
from __future__ import annotations

from authflow import keys
from sequences.api import FlowState, SealedUnreadable, redacted

__all__ = ["SealedUnreadable", "stored", "opened", "sealed_cookie", "opened_cookie", "effect_args"]

STATE_PURPOSE = "flow-state-secrets"
# Effect arguments kept only sealed at rest (by index): the value of a cookie a script sets.
SEALED_ARGUMENTS = {"setCookie": {1}}


def stored(state: FlowState) -> dict:
    """`state` as the flow's row keeps it: its secrets sealed."""
    return state.to_stored(lambda secrets: keys.seal_json(secrets, purpose=STATE_PURPOSE))


def opened(stored_state: dict) -> FlowState:
    """The state the engine replays; SealedUnreadable when its secrets do not open (their key was retired)."""
    return FlowState.from_stored(stored_state, lambda sealed: keys.open_json(sealed, purpose=STATE_PURPOSE))


def _cookie_purpose(flow_id) -> str:
    return f"flow-outbox:{flow_id}"


def sealed_cookie(flow_id, cookie: dict) -> dict:
    """A cookie as the flow's outbox keeps it: its name (a later one of that name replaces it), the rest sealed."""
    return {"name": cookie["name"], "sealed": keys.seal_json(cookie, purpose=_cookie_purpose(flow_id))}


def opened_cookie(flow_id, kept: dict) -> dict | None:
    """The cookie `sealed_cookie` kept, to send; None when it does not open (its key was retired)."""
    try:
        return keys.open_json(kept["sealed"], purpose=_cookie_purpose(flow_id))
    except (keys.InvalidValue, KeyError, TypeError, ValueError):
        return None


def effect_args(name: str, args: list) -> list:
    """The arguments of an effect as its record keeps them: secrets left out, cookie values sealed."""
    kept = redacted(name, args)
    hidden = SEALED_ARGUMENTS.get(name, ())
    return [{"sealed": keys.seal_json(a, purpose=f"effect-argument:{name}")} if i in hidden else a
            for i, a in enumerate(kept)]
