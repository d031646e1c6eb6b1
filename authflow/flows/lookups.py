"""What each lookup a script makes reads (besides users): users by claims, verified cookies, secrets, libraries,
federated associations and a user's sessions.

A lookup that cannot be answered (a bad key, nothing by that name) answers
None, which the script API turns into null, [] or an error it documents.
"""
from __future__ import annotations

import logging

from authflow import cookies
from authflow.directory import services as directory
from authflow.sso import service as sso
from authflow.vault import service as vault
from sequences.api import library_for

logger = logging.getLogger(__name__)


def _cookie(key: dict):
    return cookies.decode(key["name"], key["value"], decrypt=bool(key.get("decrypt")),
                          validate=bool(key.get("validateSignature")))


HANDLERS = {
    "usersByClaims": lambda key: directory.usernames_with_claims((key or {}).get("claims") or {}),
    "loginIdentifier": directory.username_for_login_identifier,  # resolveMultiAttributeLoginIdentifier
    "cookie": _cookie,
    "secret": vault.value_of,
    "library": library_for,
    "associatedUser": lambda key: directory.associated_username(key["idp"], key["subject"]),
    "sessions": sso.sessions_of,  # a user's active sign-on sessions (getUserSessions)
}


def lookup(kind: str, key):
    handler = HANDLERS.get(kind)
    if handler is None:
        logger.warning("script asked for an unknown lookup", extra={"lookup": kind})
        return None
    try:
        return handler(key)
    except (TypeError, KeyError, AttributeError):
        logger.warning("script lookup with a malformed key", extra={"lookup": kind})
        return None
