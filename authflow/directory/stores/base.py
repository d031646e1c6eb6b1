"""The interface every user store implements (see ldap.py for the LDAP directory)."""
from __future__ import annotations

from dataclasses import dataclass, field


class DirectoryUnavailable(Exception):
    """The store could not answer (down, unreachable, refused our bind): a sign-in cannot be decided."""

    def __init__(self, store: str, reason: str = ""):
        super().__init__(f"the user directory {store} is unavailable" + (f": {reason}" if reason else ""))
        self.store = store
        self.reason = reason

    @property
    def message(self) -> str:
        """What a person signing in is told (never the technical reason)."""
        return f"The user directory ({self.store}) is unavailable. Try again later."


@dataclass(frozen=True)
class DirectoryEntry:
    """A user as the store knows it: the name in the store, mapped roles, groups and claims."""

    name: str
    roles: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    claims: dict[str, str] = field(default_factory=dict)


class UserStoreBackend:
    domain: str
    read_only: bool = True
    # Claim URIs the store holds (they are read-only for scripts and the admin alike).
    claim_uris: frozenset = frozenset()

    def find_user(self, name: str) -> DirectoryEntry | None:
        """The user named `name` in this store, or None; raises DirectoryUnavailable."""
        raise NotImplementedError

    def find_users(self, claims: dict[str, str], *, limit: int) -> list[DirectoryEntry]:
        """Users whose claims (all of them claims this store holds) have these values; raises DirectoryUnavailable."""
        raise NotImplementedError

    def authenticate(self, name: str, password: str) -> DirectoryEntry | None:
        """The user when `password` is theirs (the store checks it), else None; raises DirectoryUnavailable."""
        raise NotImplementedError
