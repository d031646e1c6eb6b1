"""The client's address, as far as this server can trust it; what a valid header name is.

Behind N reverse proxies (AUTHFLOW_TRUSTED_PROXY_COUNT), the client is the
N-th address from the right of X-Forwarded-For: the entries further left were
written by the client itself and prove nothing.
"""
from __future__ import annotations

import ipaddress
import re

from django.conf import settings


# An HTTP header name (RFC 9110 token), at most 100 characters.
_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,100}$")


def is_header_name(name) -> bool:
    return isinstance(name, str) and _HEADER_NAME.match(name) is not None


def client_ip(request) -> str | None:
    hops = int(getattr(settings, "AUTHFLOW_TRUSTED_PROXY_COUNT", 0))
    address = request.META.get("REMOTE_ADDR")
    if hops > 0:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        if len(forwarded) >= hops:
            address = forwarded[-hops]
    try:
        return str(ipaddress.ip_address(address)) if address else None
    except ValueError:
        return None
