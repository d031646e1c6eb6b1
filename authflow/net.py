"""The client's address, as far as this server can trust it.

Behind N reverse proxies (AUTHFLOW_TRUSTED_PROXY_COUNT), the client is the
N-th address from the right of X-Forwarded-For: the entries further left were
written by the client itself and prove nothing.
"""
from __future__ import annotations

import ipaddress

from django.conf import settings


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
