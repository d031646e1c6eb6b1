"""What each effect a script can cause does to the directory.

Effects run inside the flow's transaction; one that fails to apply returns
False to the script (as the reference API's functions do) instead of raising.
"""
from __future__ import annotations

import logging

from authflow.directory import services as directory
from authflow.mail import service as mail
from authflow.sso import service as sso

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
}


def apply(name: str, args: list):
    handler = HANDLERS.get(name)
    if handler is None:
        logger.warning("script asked for an unknown effect", extra={"effect": name})
        return False
    try:
        return handler(*args)
    except TypeError:
        logger.warning("script effect called with the wrong arguments", extra={"effect": name})
        return False
