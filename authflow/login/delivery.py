"""What a script adds to the HTTP response of its flow's browser: headers (context.response.headers) and cookies.

Headers come with the command the response shows (a step, a prompt, the
final redirect); cookies set with setCookie wait in the flow's outbox until
the next response to the browser that started the flow (the cookie may have
been set while a worker resumed the flow).

A script may set headers of its own only: names that start with X-, with
printable ASCII values, at most MAX_HEADERS of them.  Every standard header
is the server's, because each one changes what the page does: Refresh and
Link redirect or load from elsewhere, Clear-Site-Data wipes the browser's
data, Cache-Control would let a proxy keep a page that holds a form token.
So are the X- headers a browser reads as protection (X-Frame-Options, ...)
and those a reverse proxy reads as an instruction (X-Accel-Redirect and
X-Sendfile serve files, X-Forwarded-* and X-Real-IP speak for the client).
A header refused is logged with the flow id, and not sent.
"""
from __future__ import annotations

import logging
import re

from authflow import cookies as script_cookies
from authflow.flows import service
from authflow.net import is_header_name

from . import binding

logger = logging.getLogger("authflow.login")

MAX_HEADERS = 20
_VALUE = re.compile(r"[\x20-\x7e]{0,4096}")
_SERVERS_X_HEADERS = frozenset({
    "x-frame-options", "x-content-type-options", "x-xss-protection", "x-permitted-cross-domain-policies",
    "x-dns-prefetch-control", "x-download-options", "x-ua-compatible", "x-sendfile", "x-lighttpd-send-file",
    "x-real-ip",
})
_SERVERS_X_PREFIXES = ("x-accel-", "x-forwarded-", "x-litespeed-", "x-content-security-policy", "x-webkit-csp")


def script_may_set(name) -> bool:
    """Whether a script may set the response header `name`: an X- header that is not the server's."""
    if not is_header_name(name):
        return False
    lowered = name.lower()
    return lowered.startswith("x-") and lowered not in _SERVERS_X_HEADERS and not lowered.startswith(_SERVERS_X_PREFIXES)


def respond(request, flow_id, response, *, current=None):
    """Add the flow's pending headers and cookies to `response`, when it goes to the flow's browser.

    `current`: the flow as this request left it, when nothing else can have moved it since (a flow
    that started in this request and waits for its browser or finished): it is not read again.
    """
    flow = current if current is not None else service.for_response(flow_id)
    if flow is None or not binding.matches(request, flow):
        return response
    cookies = service.claim_outbox(flow)
    command = flow.pending or flow.result or {}
    for index, (name, value) in enumerate((command.get("responseHeaders") or {}).items()):
        if index >= MAX_HEADERS or not script_may_set(name) or not isinstance(value, str) or not _VALUE.fullmatch(value):
            logger.warning("a script header was not sent", extra={"flow_id": str(flow.id), "header": str(name)[:100]})
            continue
        response[name] = value
    for cookie in cookies:
        if script_cookies.reserved(cookie["name"]):  # refused by setCookie; kept from an older outbox
            continue
        response.set_cookie(cookie["name"], cookie["value"], max_age=cookie.get("max_age"), path=cookie.get("path", "/"),
                            domain=cookie.get("domain"), secure=cookie.get("secure", False),
                            httponly=cookie.get("httponly", False), samesite=cookie.get("samesite", "Lax"))
    return response
