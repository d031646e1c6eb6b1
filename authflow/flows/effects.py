"""What each effect a script can cause does (the directory, sessions, email, the browser's cookies).

Effects run inside the flow's transaction; one that fails to apply returns
False to the script (as the reference API's functions do) instead of raising.
FLOW_HANDLERS also receive the flow (a cookie goes to the flow's browser:
into its outbox, which the flow service saves with the round trip).
"""
from __future__ import annotations

import logging

from django.conf import settings

from authflow import cookies
from authflow.directory import services as directory
from authflow.mail import service as mail
from authflow.outbound import analytics
from authflow.sso import service as sso

from . import sealing

logger = logging.getLogger(__name__)

HANDLERS = {
    "assignUserRoles": lambda username, roles: directory.assign_roles(username, roles),
    "removeUserRoles": lambda username, roles: directory.remove_roles(username, roles),
    "setLocalClaim": lambda username, uri, value: directory.set_local_claim(username, uri, value),
    "terminateUserSession": lambda username, session_id: sso.terminate_for_username(
        username, session_id, "ended by a login script"),
    # Queued when the flow's transaction commits (a rolled-back round trip sends nothing).
    "sendEmail": lambda username, template_id, placeholders: mail.send_template(
        username, template_id, placeholders if isinstance(placeholders, dict) else {}),
    "updateUserPassword": lambda username, password: directory.set_password(username, password),
    "associateFederatedUser": lambda idp, subject, username: directory.associate(idp, subject, username),
}


MAX_COOKIES = 20
MAX_COOKIE_VALUE = 4096


def _set_cookie(flow, name: str, value: str, properties: dict) -> bool:
    """Keep the cookie, sealed, for the next response to the flow's browser (authflow.login sends it)."""
    if cookies.reserved(name):
        logger.warning("a script cookie was refused: the name is the server's",
                       extra={"flow_id": str(flow.pk), "cookie": str(name)[:100]})
        return False
    properties = properties if isinstance(properties, dict) else {}
    encoded = cookies.encode(name, value, sign=bool(properties.get("sign")), encrypt=bool(properties.get("encrypt")))
    same_site = str(properties.get("sameSite", "Lax")).capitalize()
    if len(encoded) > MAX_COOKIE_VALUE or same_site not in ("Lax", "Strict", "None") or len(flow.outbox) >= MAX_COOKIES:
        return False
    for text in (properties.get("path"), properties.get("domain")):
        if text is not None and (not isinstance(text, str) or any(c in text for c in ";,\r\n ")):
            return False
    cookie = {"name": name, "value": encoded, "path": properties.get("path") or "/",
              "domain": properties.get("domain") or None, "httponly": bool(properties.get("httpOnly")),
              "secure": bool(properties.get("secure")) or settings.AUTHFLOW_HTTPS or same_site == "None",
              "samesite": same_site}
    if properties.get("maxAge") is not None:
        cookie["max_age"] = int(properties["maxAge"])
    flow.outbox = [c for c in flow.outbox if c["name"] != name] + [sealing.sealed_cookie(flow.pk, cookie)]
    return True


FLOW_HANDLERS = {
    "setCookie": _set_cookie,
    # Posted to the analytics endpoint by a worker once the flow's transaction commits (once per login).
    "publishToAnalytics": lambda flow, metadata, payload: analytics.publish(
        metadata, payload, flow_id=str(flow.pk) if flow is not None else None),
}


def apply(name: str, args: list, *, flow=None):
    flow_handler = FLOW_HANDLERS.get(name)
    handler = HANDLERS.get(name)
    if handler is None and flow_handler is None:
        logger.warning("script asked for an unknown effect", extra={"effect": name})
        return False
    try:
        return flow_handler(flow, *args) if flow_handler else handler(*args)
    except (TypeError, ValueError):
        logger.warning("script effect called with the wrong arguments", extra={"effect": name})
        return False
