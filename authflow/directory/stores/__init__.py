"""Named user stores besides PRIMARY (this database): what a store can answer, and the configured ones.

A store answers three questions about a name in it, through `find_user` and
`authenticate`: whether it exists, which roles (through groups) and which
claims (through attributes) it has.  Stores are read-only: the directory's
owners change its users, not this server.  Other code reaches stores only
through authflow.directory.services.
"""
from __future__ import annotations

from .base import DirectoryEntry, DirectoryUnavailable, UserStoreBackend

PRIMARY = "PRIMARY"


def backend_for(store) -> UserStoreBackend:
    """The backend of a UserStore row (only LDAP exists)."""
    from .ldap import LdapUserStore

    return LdapUserStore(store)


def configured(name: str | None = None) -> list[UserStoreBackend]:
    """The enabled stores in the order unqualified names try them, or the one named `name` (case-insensitive)."""
    from ..models import UserStore

    stores = UserStore.objects.filter(enabled=True)
    if name is not None:
        stores = stores.filter(name=name.upper())
    return [backend_for(store) for store in stores]


__all__ = ["PRIMARY", "DirectoryEntry", "DirectoryUnavailable", "UserStoreBackend", "backend_for", "configured"]
