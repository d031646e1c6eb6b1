"""What a user typed into a password input of a prompt stays encrypted in the flow's journal.

The script must see the same answer on every replay, so the value is kept
as long as the flow; but a database copy, a backup or the admin console
showing a flow must not reveal it.  A prompt answer lists its secret
parameters under "secret"; at rest they are taken out of "params" and kept
under "sealed", encrypted with the server's keys (authflow.keys).  The flow
service seals the state it stores and opens the state it replays.
"""
from __future__ import annotations


from authflow import keys

PURPOSE = "flow-journal-secret"


class SealedUnreadable(Exception):
    """A sealed answer does not decrypt (its key was retired): the flow cannot be replayed."""


def sealed(state: dict) -> dict:
    """`state` as it is stored: secret prompt parameters encrypted."""
    return _with_answers(state, _seal)


def opened(state: dict) -> dict:
    """`state` as the engine replays it: secret prompt parameters back in place."""
    return _with_answers(state, _open)


def _with_answers(state: dict, change) -> dict:
    answers = state.get("journal", {}).get("answers", [])
    changed = [change(answer) for answer in answers]
    if all(new is old for new, old in zip(changed, answers)):
        return state
    return {**state, "journal": {**state["journal"], "answers": changed}}


def _seal(answer: dict) -> dict:
    secret = answer.get("secret") or []
    params = answer.get("params") or {}
    if answer.get("k") != "prompt" or not any(name in params for name in secret):
        return answer
    hidden = {name: params[name] for name in secret if name in params}
    return {**answer, "params": {k: v for k, v in params.items() if k not in hidden},
            "sealed": keys.seal_json(hidden, purpose=PURPOSE)}


def _open(answer: dict) -> dict:
    if answer.get("k") != "prompt" or "sealed" not in answer:
        return answer
    try:
        hidden = keys.open_json(answer["sealed"], purpose=PURPOSE)
    except (keys.InvalidValue, ValueError):
        raise SealedUnreadable("a sealed prompt answer does not decrypt") from None
    opened_answer = {k: v for k, v in answer.items() if k != "sealed"}
    opened_answer["params"] = {**(answer.get("params") or {}), **hidden}
    return opened_answer
