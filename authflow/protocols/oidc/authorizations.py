"""The hand-over from a finished login flow to the authorization endpoint.

Each authorization request runs the application's script (steps the sign-on
session satisfies pass without a page).  When the flow succeeds, it leaves
a one-time authorization in the browser's session for exactly that request;
the authorization endpoint takes it and issues the code.  A request without
one starts a flow, so no code is ever issued without the script's say.

The session only says which flow authorized the request: sessions are read
and written without a lock, so concurrent requests may all find the same
entry, and an entry stays after its code was issued.  That the flow's code
is issued once is claimed on the flow itself (authflow.flows.service.claim_code).
"""
from __future__ import annotations

import hashlib
import time
from urllib.parse import parse_qsl, urlsplit

SESSION_KEY = "authflow_authorized"
LIFETIME_SECONDS = 300
MAX_PENDING = 16


def _key(path: str) -> str:
    parts = urlsplit(path)
    canonical = parts.path + "?" + "&".join(f"{k}={v}" for k, v in sorted(parse_qsl(parts.query, keep_blank_values=True)))
    return hashlib.sha256(canonical.encode()).hexdigest()


def allow(session, path: str, flow_id: str) -> None:
    now = int(time.time())
    pending = {k: v for k, v in session.get(SESSION_KEY, {}).items() if v["until"] > now}
    pending[_key(path)] = {"flow": flow_id, "until": now + LIFETIME_SECONDS}
    session[SESSION_KEY] = dict(sorted(pending.items(), key=lambda item: item[1]["until"])[-MAX_PENDING:])


def same_request(path: str, other: str) -> bool:
    """Whether two local URLs are the same authorization request (parameters in any order or encoding)."""
    return _key(path) == _key(other)


def take(session, path: str, *, remove: bool = False) -> str | None:
    """The flow that authorized `path` in this session, or None.

    The entry stays unless `remove`: whether the flow's code was issued is settled on the flow
    (claim_code), entries end after LIFETIME_SECONDS and at most MAX_PENDING are kept, and leaving it
    spares the code's request a write of the session.  `remove` takes out an entry this same request
    added (a login that finished here), so that the session is left as it was read.
    """
    key = _key(path)
    entry = session.get(SESSION_KEY, {}).get(key)
    if entry is None:
        return None
    if remove:
        session[SESSION_KEY] = {k: v for k, v in session[SESSION_KEY].items() if k != key}
    return entry["flow"] if entry["until"] > time.time() else None
