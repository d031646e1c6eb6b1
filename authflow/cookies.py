"""Scripts' cookies: the names a script may not set, and the values it sets signed or encrypted (sign/encrypt).

The server's own cookies (the session, CSRF token, browser binding, ...)
are reserved, whatever their case, and so are names with the __Host- and
__Secure- prefixes, whose promise (set by this host, over HTTPS) is the
server's to give: setCookie of such a name returns false.

A signed value is "s1.<value, base64url>.<key id>:<HMAC-SHA256>"; an
encrypted one is authflow.keys' AES-GCM value (which also proves it is
unchanged).  Both are bound to the cookie's name, so a value cannot be moved
to another cookie, and use the rotating keys of authflow.keys.  Reading gives
None for anything that does not verify: a changed value, another name, a key
no longer configured, or a plain value where a signed one was expected.
"""
from __future__ import annotations

import base64
import binascii

from django.conf import settings

from . import keys

SIGNED = "s1."
# Names of the server's cookies besides the configured session, CSRF and language ones: the browser binding
# (authflow.login.binding), Django's messages, the demo relying party's state (demo_rp).
_SERVERS_COOKIES = ("authflow_browser", "messages", "demo_rp")
_RESERVED_PREFIXES = ("__host-", "__secure-")


def reserved(name: str) -> bool:
    """Whether `name` is one of the server's cookies (or has a prefix only the server may use)."""
    lowered = str(name).lower()
    own = {settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME, settings.LANGUAGE_COOKIE_NAME, *_SERVERS_COOKIES}
    return lowered in {n.lower() for n in own} or lowered.startswith(_RESERVED_PREFIXES)


def _purpose(name: str) -> str:
    return f"script-cookie:{name}"


def encode(name: str, value: str, *, sign: bool = False, encrypt: bool = False) -> str:
    """The cookie value to send for `value`."""
    if encrypt:
        return keys.encrypt(value.encode(), purpose=_purpose(name))
    if sign:
        body = base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")
        return f"{SIGNED}{body}.{keys.mac(body.encode(), purpose=_purpose(name))}"
    return value


def decode(name: str, raw: str, *, decrypt: bool = False, validate: bool = False) -> str | None:
    """The script's value of cookie `name` sent as `raw`, or None when it does not verify."""
    if not isinstance(raw, str):
        return None
    if decrypt:
        try:
            return keys.decrypt(raw, purpose=_purpose(name)).decode()
        except (keys.InvalidValue, UnicodeDecodeError):
            return None
    if validate:
        if not raw.startswith(SIGNED):
            return None
        body, _, digest = raw[len(SIGNED):].partition(".")
        if not digest or not keys.mac_matches(body.encode(), digest, purpose=_purpose(name)):
            return None
        try:
            return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
    return raw
