"""What a script adds to the HTTP response of its flow's browser: headers (context.response.headers) and cookies.

Headers come with the command the response shows (a step, a prompt, the
final redirect); cookies set with setCookie wait in the flow's outbox until
the next response to the browser that started the flow (the cookie may have
been set while a worker resumed the flow).  Headers that would change what
the response is or how it is protected are never taken from a script.
"""
from __future__ import annotations

import logging

from authflow.flows import service
from authflow.net import is_header_name

from . import binding

logger = logging.getLogger("authflow.login")

PROTECTED_HEADERS = {
    "set-cookie", "location", "content-type", "content-length", "content-encoding", "transfer-encoding",
    "connection", "cache-control", "expires", "pragma", "x-frame-options", "content-security-policy",
    "strict-transport-security", "x-content-type-options", "referrer-policy", "vary",
}


def respond(request, flow_id, response):
    """Add the flow's pending headers and cookies to `response`, when it goes to the flow's browser."""
    flow = service.for_response(flow_id)
    if flow is None or not binding.matches(request, flow):
        return response
    cookies = service.claim_outbox(flow)
    command = flow.pending or flow.result or {}
    for name, value in (command.get("responseHeaders") or {}).items():
        if not is_header_name(name) or name.lower() in PROTECTED_HEADERS or name.lower().startswith("access-control-"):
            logger.warning("a script header was not sent", extra={"flow_id": str(flow.id), "header": name[:100]})
            continue
        if not isinstance(value, str) or "\r" in value or "\n" in value or len(value) > 4096:
            continue
        response[name] = value
    for cookie in cookies:
        response.set_cookie(cookie["name"], cookie["value"], max_age=cookie.get("max_age"), path=cookie.get("path", "/"),
                            domain=cookie.get("domain"), secure=cookie.get("secure", False),
                            httponly=cookie.get("httponly", False), samesite=cookie.get("samesite", "Lax"))
    return response
