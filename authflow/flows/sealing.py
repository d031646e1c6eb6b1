"""Secrets a flow keeps stay encrypted at rest, with the server's keys (authflow.keys).

The script must see the same values on every replay, so what a user typed
into a password input of a prompt and the values of the cookies it read
are kept as long as the flow; but a database copy, a backup or the admin
console showing a flow must not reveal them.  The engine takes them out of
the state it hands over and gives them to the cipher below
(FlowState.to_stored / from_stored); the flow service stores the one and
replays the other.
"""
from __future__ import annotations

from authflow import keys
from sequences.api import FlowState, SealedUnreadable

__all__ = ["SealedUnreadable", "stored", "opened"]

STATE_PURPOSE = "flow-state-secrets"


def stored(state: FlowState) -> dict:
    """`state` as the flow's row keeps it: its secrets sealed."""
    return state.to_stored(lambda secrets: keys.seal_json(secrets, purpose=STATE_PURPOSE))


def opened(stored_state: dict) -> FlowState:
    """The state the engine replays; SealedUnreadable when its secrets do not open (their key was retired)."""
    return FlowState.from_stored(stored_state, lambda sealed: keys.open_json(sealed, purpose=STATE_PURPOSE))
