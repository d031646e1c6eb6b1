"""Which applications this browser session has logged in to, and when.

An authorization request is answered from the session only for an application
whose own login flow already succeeded in it (and recently enough for
`max_age`); any other application runs its script first.
"""
from __future__ import annotations

import time

SESSION_KEY = "authflow_logins"


def record_login(session, client_id: str, flow_id: str) -> None:
    logins = dict(session.get(SESSION_KEY, {}))
    logins[client_id] = {"flow": flow_id, "at": int(time.time())}
    session[SESSION_KEY] = logins


def login_for(session, client_id: str) -> dict | None:
    if session is None:
        return None
    return session.get(SESSION_KEY, {}).get(client_id)


def is_fresh(session, client_id: str, max_age: int | None) -> bool:
    login = login_for(session, client_id)
    if login is None:
        return False
    return max_age is None or time.time() - login["at"] <= max_age
