"""Steps the browser's single sign-on session already satisfies.

A flow may start in a browser that is signed in: the session's user and the
authenticators that user passed in it are an input of the flow (fixed at its
start, so replay stays deterministic).  A step offering one of those
authenticators is answered from the session, without a page, unless the
script asks for `stepOptions: {forceAuth: true}` or the step must verify a
different user.  The answer is journaled like any other, marked
`"via": "session"`.
"""
from __future__ import annotations

from .state import step_answer


def session_input(*, session_id: str, user: str, authenticated: list[dict], applications: list[dict]) -> dict:
    """The `session` input of a flow: who is signed in, with what, and to which applications."""
    return {
        "id": str(session_id),
        "user": user,
        "authenticated": [{"authenticator": a.get("authenticator"), "idp": a.get("idp") or "LOCAL"}
                          for a in authenticated],
        "applications": [{"subject": a.get("subject"), "appName": a.get("appName"), "appId": a.get("appId")}
                         for a in applications],
    }


def answer_from_session(command: dict, session: dict | None) -> dict | None:
    """The step answer the session gives to `command`, or None when the user must take the step."""
    if not session or command.get("type") != "step":
        return None
    if (command.get("stepOptions") or {}).get("forceAuth"):
        return None
    if command.get("subject") not in (None, session["user"]):
        return None
    passed = {(a["authenticator"], a.get("idp") or "LOCAL") for a in session.get("authenticated", [])}
    for option in command["options"]:
        if (option.get("authenticator"), option.get("idp") or "LOCAL") in passed:
            answer = step_answer(command["step"], "success", user=session["user"],
                                 authenticator=option.get("authenticator"), idp=option.get("idp") or "LOCAL")
            answer["via"] = "session"
            return answer
    return None
