"""Which network addresses a script's call may reach once its host name is resolved.

The allow-list is about URLs; this is about where they lead.  A host name on
the list could resolve (by mistake, or by whoever controls its DNS) to a
loopback, private, link-local or otherwise internal address, such as a
cloud's metadata service.  A connection to such an address is refused,
unless the administrator named the address itself in the allowed endpoint
(an IP literal: they meant it) or its network is in
AUTHFLOW_CALL_INTERNAL_NETWORKS.  The check is made on the connected
socket's peer address, so a second DNS answer cannot slip past it.
"""
from __future__ import annotations

import ipaddress

from django.conf import settings


class InternalAddress(ConnectionError):
    """The host resolved to an address scripts may not reach."""


def is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _ip(address: str):
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # without an IPv6 zone
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _internal_networks():
    text = settings.AUTHFLOW_CALL_INTERNAL_NETWORKS or ""
    return [ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip()]


def check_peer(host: str, peer_address: str) -> None:
    """Raise InternalAddress when a call to `host` connected to an internal `peer_address` it may not reach."""
    if is_ip_literal(host):
        return
    ip = _ip(peer_address)
    if (ip.is_global and not ip.is_multicast) or any(ip in network for network in _internal_networks()):
        return
    raise InternalAddress(f"{host} resolves to an internal address")
