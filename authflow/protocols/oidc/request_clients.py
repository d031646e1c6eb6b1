"""One read of an application's client row per request.

The protocol library reads it again for each of its steps (the request's validation, then the
code's, then the token's): inside remembered(), the validator keeps the row it read for the rest
of the request.  Nothing is kept between requests, so a changed or removed client is seen at once.
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

_read: ContextVar[dict | None] = ContextVar("authflow_oidc_clients_read", default=None)


@contextmanager
def remembered():
    """Within the block, read() keeps each client it read (by client id)."""
    token = _read.set({})
    try:
        yield
    finally:
        _read.reset(token)


def known(client_id):
    """The client read for `client_id` in this request's block, or None."""
    kept = _read.get()
    return kept.get(client_id) if kept is not None and isinstance(client_id, str) else None


def keep(client_id, client) -> None:
    kept = _read.get()
    if kept is not None and client is not None and isinstance(client_id, str):
        kept[client_id] = client
