"""An LDAP directory as a read-only user store (ldap3).

Users are found with a search as the service account (bind_dn), then a
password is checked by binding as the user's entry: the directory decides,
its hashes never leave it.  Every value that goes into a filter is escaped
(RFC 4515), an empty password is refused before any bind (an LDAP simple
bind with an empty password is an anonymous bind that "succeeds"), ldaps://
checks the directory's certificate, and every connection has a connect and
receive timeout, so a dead directory answers DirectoryUnavailable within
`timeout_seconds` instead of hanging a worker.
"""
from __future__ import annotations

import logging
import ssl

from ldap3 import NONE, SUBTREE, Connection, Server, Tls
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars

from authflow import keys

from .base import DirectoryEntry, DirectoryUnavailable, UserStoreBackend

logger = logging.getLogger("authflow.directory.ldap")

INVALID_CREDENTIALS = 49
MAX_GROUPS = 500


class LdapUserStore(UserStoreBackend):
    read_only = True

    def __init__(self, store):
        self.store = store
        self.domain = store.name
        self.claim_uris = frozenset(store.claim_mapping)

    # ------------------------------------------------------------ the interface

    def find_user(self, name: str) -> DirectoryEntry | None:
        if not _plausible_name(name):
            return None
        with self._service_connection() as conn:
            found = self._search_user(conn, name)
            return None if found is None else self._entry(conn, *found)

    def find_users(self, claims: dict[str, str], *, limit: int) -> list[DirectoryEntry]:
        if not claims or not all(uri in self.store.claim_mapping and isinstance(v, str) for uri, v in claims.items()):
            return []
        tests = "".join(f"({self.store.claim_mapping[uri]}={escape_filter_chars(value)})"
                        for uri, value in sorted(claims.items()))
        wanted = sorted({self.store.username_attribute, *self.store.claim_mapping.values()})
        with self._service_connection() as conn:
            entries = self._search(conn, self.store.user_search_base, f"(&{self.store.user_filter}{tests})", wanted,
                                   size_limit=limit)
            found = [self._entry(conn, e["dn"], e["attributes"]) for e in entries]
        # The directory compares by its own matching rules (often case-insensitive); a claim match is exact.
        return [entry for entry in found if entry.name and all(entry.claims.get(uri) == value
                                                               for uri, value in claims.items())]

    def authenticate(self, name: str, password: str) -> DirectoryEntry | None:
        if not _plausible_name(name) or not isinstance(password, str) or not password:
            return None
        with self._service_connection() as conn:
            found = self._search_user(conn, name)
            if found is None:
                return None
            if not self._password_matches(found[0], password):
                return None
            return self._entry(conn, *found)

    # ------------------------------------------------------------ LDAP

    def _server(self) -> Server:
        # ldaps:// checks the directory's certificate and name against the system's CAs (ldap3 would not by
        # default): a bind password never goes to a server that only claims to be the directory.
        tls = Tls(validate=ssl.CERT_REQUIRED) if self.store.url.lower().startswith("ldaps://") else None
        return Server(self.store.url, connect_timeout=self.store.timeout_seconds, get_info=NONE, tls=tls)

    def _service_connection(self) -> Connection:
        password = ""
        if self.store.bind_password_encrypted:
            try:
                password = keys.decrypt(self.store.bind_password_encrypted,
                                        purpose=self.store.BIND_PASSWORD_PURPOSE).decode()
            except keys.InvalidValue:
                raise self._unavailable("its bind password does not decrypt with the configured keys") from None
        conn = Connection(self._server(), user=self.store.bind_dn or None, password=password or None,
                          receive_timeout=self.store.timeout_seconds, read_only=True, raise_exceptions=False)
        try:
            bound = conn.bind()
        except LDAPException as exc:
            raise self._unavailable(type(exc).__name__) from None
        if not bound:
            raise self._unavailable(f"the service account's bind was refused ({conn.result.get('description')})")
        return conn

    def _search_user(self, conn: Connection, name: str) -> tuple[str, dict] | None:
        """(dn, attributes) of the only entry with this name, or None (none, or more than one)."""
        attribute = self.store.username_attribute
        query = f"(&{self.store.user_filter}({attribute}={escape_filter_chars(name)}))"
        wanted = sorted({attribute, *self.store.claim_mapping.values()})
        entries = self._search(conn, self.store.user_search_base, query, wanted, size_limit=2)
        if len(entries) != 1:
            if len(entries) > 1:
                logger.warning("directory name matches more than one entry: refused",
                               extra={"user_store": self.domain})
            return None
        return entries[0]["dn"], entries[0]["attributes"]

    def _password_matches(self, dn: str, password: str) -> bool:
        conn = Connection(self._server(), user=dn, password=password, receive_timeout=self.store.timeout_seconds,
                          read_only=True, raise_exceptions=False)
        try:
            if conn.bind():
                return True
        except LDAPException as exc:
            raise self._unavailable(type(exc).__name__) from None
        finally:
            conn.unbind()
        if conn.result.get("result") == INVALID_CREDENTIALS:
            return False
        raise self._unavailable(f"the user's bind failed ({conn.result.get('description')})")

    def _entry(self, conn: Connection, dn: str, attributes: dict) -> DirectoryEntry:
        name = _first(attributes.get(self.store.username_attribute))
        claims = {}
        for uri, attribute in self.store.claim_mapping.items():
            value = _text(attributes.get(attribute))
            if value is not None:
                claims[uri] = value
        groups = self._groups(conn, dn)
        roles = sorted({role for group in groups for role in self.store.role_mapping.get(group, [])})
        return DirectoryEntry(name=name, roles=roles, groups=groups, claims=claims)

    def _groups(self, conn: Connection, dn: str) -> list[str]:
        if not self.store.group_search_base:
            return []
        query = f"(&{self.store.group_filter}({self.store.group_member_attribute}={escape_filter_chars(dn)}))"
        entries = self._search(conn, self.store.group_search_base, query, [self.store.group_name_attribute],
                               size_limit=MAX_GROUPS)
        return sorted({_first(e["attributes"].get(self.store.group_name_attribute)) for e in entries} - {None})

    def _search(self, conn: Connection, base: str, query: str, attributes: list[str], *, size_limit: int) -> list:
        try:
            conn.search(base, query, search_scope=SUBTREE, attributes=attributes, size_limit=size_limit,
                        time_limit=self.store.timeout_seconds)
        except LDAPException as exc:
            raise self._unavailable(type(exc).__name__) from None
        result = conn.result.get("result")
        if result not in (0, 4, 32):  # success, sizeLimitExceeded (more than we asked: refused above), noSuchObject
            raise self._unavailable(f"the search failed ({conn.result.get('description')})")
        return [entry for entry in (conn.response or []) if entry.get("type") == "searchResEntry"]

    def _unavailable(self, reason: str) -> DirectoryUnavailable:
        logger.warning("user directory unavailable", extra={"user_store": self.domain, "reason": reason})
        return DirectoryUnavailable(self.domain, reason)


def _plausible_name(name) -> bool:
    return isinstance(name, str) and 0 < len(name) <= 150 and name == name.strip()


def _first(value):
    if isinstance(value, list):
        return str(value[0]) if value else None
    return None if value is None else str(value)


def _text(value) -> str | None:
    """An attribute as a claim value: several values joined with commas, as the reference does."""
    if isinstance(value, list):
        values = [str(v) for v in value]
        return ",".join(values) if values else None
    return None if value in (None, "") else str(value)
