"""What other apps may ask of the directory: a user's snapshot, and the changes scripts make."""
from __future__ import annotations

import functools

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import FieldError, ValidationError
from django.db import connections, router, transaction

from . import stores
from .claims import (ACCOUNT_LOCKED, FAILED_LOGIN_ATTEMPTS, MAPPED, STAFF, USERNAME as USERNAME_CLAIM, ClaimError,
                     read_claims, write_claim)
from .models import FederatedAssociation, Role, User, UserClaim
from .stores import DirectoryUnavailable  # noqa: F401 (callers catch it as services.DirectoryUnavailable)

USER_STORE_DOMAIN = stores.PRIMARY  # the default store: this database
# Claims only this server sets: a store's claim mapping may not name them (the configuration refuses it).
SERVER_CLAIMS = frozenset({USERNAME_CLAIM, FAILED_LOGIN_ATTEMPTS, ACCOUNT_LOCKED, STAFF})
SEPARATOR = "/"  # "CORP/alice": alice of the CORP store (Django's usernames cannot hold "/": no PRIMARY name clashes)


def _active_user(username: str):
    return User.objects.filter(username=username, is_active=True).first()


def _memberships(user) -> tuple[set[str], set[str], list]:
    """The user's role names, group names and claim rows, in one query (a UNION) instead of three.

    Written as SQL once per process: every login reads it, and Django takes longer to compile the UNION of
    three querysets than the database takes to answer it.
    """
    roles, groups, claims = set(), set(), []
    with connections[router.db_for_read(User)].cursor() as cursor:
        cursor.execute(_memberships_sql(), [user.pk, user.pk, user.pk])
        rows = cursor.fetchall()
    for kind, name, value in rows:
        if kind == "role":
            roles.add(name)
        elif kind == "group":
            groups.add(name)
        else:
            claims.append(UserClaim(user=user, uri=name, value=value))
    claims.sort(key=lambda row: row.uri)
    return roles, groups, claims


@functools.cache
def _memberships_sql() -> str:
    """SELECT kind, name, value of the user's roles, groups and claims (the user's id three times), without
    ordering (SQLite refuses ORDER BY in a compound statement)."""
    q = connections[router.db_for_read(User)].ops.quote_name

    def column(model, name):
        return q(model._meta.get_field(name).column)

    def membership(kind, target, through, user_field, target_field):
        return (f"SELECT '{kind}', t.{column(target, 'name')}, '' FROM {q(target._meta.db_table)} t "
                f"INNER JOIN {q(through._meta.db_table)} m ON t.{q(target._meta.pk.column)} = m.{column(through, target_field)} "
                f"WHERE m.{column(through, user_field)} = %s")

    roles = User.roles.through
    groups = User.groups.through
    roles_field = User._meta.get_field("roles")
    groups_field = User._meta.get_field("groups")
    return " UNION ALL ".join([
        membership("role", Role, roles, roles_field.m2m_field_name(), roles_field.m2m_reverse_field_name()),
        membership("group", Group, groups, groups_field.m2m_field_name(), groups_field.m2m_reverse_field_name()),
        f"SELECT 'claim', c.{column(UserClaim, 'uri')}, c.{column(UserClaim, 'value')} "
        f"FROM {q(UserClaim._meta.db_table)} c WHERE c.{column(UserClaim, 'user')} = %s",
    ])


def user_snapshot(username: str, *, known=None) -> dict | None:
    """Everything a script can read about a user, or None for an unknown or inactive user.

    `known`: a User this request read already (the signed-in user, the account whose password it checked),
    used when it is the active user named `username` instead of reading the row again.
    """
    if not isinstance(username, str):
        return None
    if known is not None and known.get_username() == username and known.is_active:
        user = known
    else:
        user = _active_user(username)
    if user is None:
        return None
    directory = user.directory or {}
    roles, groups, claim_rows = _memberships(user)
    return {
        "username": user.username,
        "uniqueId": str(user.unique_id),
        "tenantDomain": settings.AUTHFLOW_TENANT_DOMAIN,
        "userStoreDomain": user.user_store,
        "roles": sorted(roles | set(directory.get("roles", []))),
        "groups": sorted(groups | set(directory.get("groups", []))),
        "claims": {**read_claims(user, claim_rows), **directory.get("claims", {})},
    }


# ---------------------------------------------------------------- user stores

def split_username(username: str) -> tuple[str, str]:
    """("CORP", "alice") for "CORP/alice"; (PRIMARY, name) for a name without a store."""
    domain, separator, name = username.partition(SEPARATOR)
    if not separator:
        return USER_STORE_DOMAIN, username
    return domain.upper(), name


def qualified_username(domain: str, name: str) -> str:
    """The local username of `name` in store `domain` (its shadow row's): "CORP/alice", or "alice" in PRIMARY."""
    return name if domain.upper() == USER_STORE_DOMAIN else f"{domain.upper()}{SEPARATOR}{name}"


_NOT_READ = object()


def sign_in_name(typed: str, *, local=_NOT_READ) -> str:
    """The local username a typed sign-in name stands for; raises DirectoryUnavailable.

    "CORP/alice" is alice of the CORP store; a name without a store is the
    PRIMARY user of that name if there is one, else the user of the first store
    (in order) that has it.  A name nobody has comes back as typed (it fails
    like any unknown name).  The first store with the name decides: a wrong
    password is not tried against the next store.  `local`: the account named
    `typed` when the caller read it already (None: no account has that name).
    """
    domain, name = split_username(typed)
    if SEPARATOR in typed:
        if domain == USER_STORE_DOMAIN:
            return name
        backends = stores.configured(domain)
        entry = backends[0].find_user(name) if backends else None
        return typed if entry is None else _local_name(domain, entry, typed)
    if local is _NOT_READ:
        if User.objects.filter(username=typed, user_store=USER_STORE_DOMAIN).exists():
            return typed
    elif local is not None and local.user_store == USER_STORE_DOMAIN:
        return typed
    for backend in stores.configured():
        entry = backend.find_user(typed)
        if entry is not None:
            return _local_name(backend.domain, entry, typed)
    return typed


def _local_name(domain: str, entry: stores.DirectoryEntry, typed: str) -> str:
    """The shadow row's name, spelt as the directory spells it (so "Carol" and "carol" count as one account)."""
    local = qualified_username(domain, entry.name)
    return local if len(local) <= 150 else typed  # longer than a username can be: no account can have it


MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def check_password(request, username: str, password: str, *, account=None):
    """The active account when `password` is the password of local `username` (from sign_in_name), else None.

    PRIMARY passwords are checked by Django's auth backends; a store's user by
    the store, and its shadow row is then created or refreshed with the roles,
    groups and claims the store holds.  Raises DirectoryUnavailable.
    `account`: the row of `username` when the caller read it already (the lockout's): with Django's model
    backend alone, the password is checked on it as the backend would, without reading it again.
    """
    from django.contrib.auth import authenticate
    from django.contrib.auth.hashers import make_password

    domain, name = split_username(username)
    if domain == USER_STORE_DOMAIN:
        if not (username and password):
            return None
        if account is not None and account.username == username and list(settings.AUTHENTICATION_BACKENDS) == [
                MODEL_BACKEND]:
            return _checked(request, account, password)
        return authenticate(request, username=username, password=password)
    # The Argon2 work a PRIMARY check does (Django does it for unknown names too): a store's answer, faster,
    # must not tell its users from names nobody has.
    make_password(password)
    backends = stores.configured(domain)
    if not backends:
        return None
    entry = backends[0].authenticate(name, password)
    if entry is None or qualified_username(domain, entry.name) != username:
        return None  # (a name sign_in_name did not resolve to this entry)
    user = _sync_shadow(domain, entry)
    return user if user.is_active else None


def _checked(request, account, password: str):
    """What django.contrib.auth.authenticate() answers with the model backend, for an account already read."""
    from django.contrib.auth.signals import user_login_failed

    if account.check_password(password) and account.is_active:  # ModelBackend.user_can_authenticate
        account.backend = MODEL_BACKEND
        return account
    user_login_failed.send(sender="django.contrib.auth", request=request,
                           credentials={"username": account.username, "password": "********************"})
    return None


# A request keeps the account whose credential it checked: the flow's replay and the sign-in that follow
# in the same request read its snapshot and sign it in without reading the row again.
_CHECKED = "_authflow_checked_account"


def remember_checked(request, user) -> None:
    setattr(request, _CHECKED, user)


def checked_account(request, username: str | None):
    """The active account named `username` whose credential this request checked, or None."""
    user = getattr(request, _CHECKED, None)
    if user is None or not username or user.get_username() != username or not user.is_active:
        return None
    return user


def _sync_shadow(domain: str, entry: stores.DirectoryEntry):
    """The local row of a store's user, with what the store says now (claims that columns hold go there)."""
    user, created = User.objects.get_or_create(username=qualified_username(domain, entry.name),
                                               defaults={"user_store": domain})
    if created:
        user.set_unusable_password()  # the password is the directory's; this row never accepts one
    claims = {}
    for uri, value in entry.claims.items():
        if uri in SERVER_CLAIMS:
            continue  # the server's own (the lockout's, staff): never the directory's to set
        mapped = MAPPED.get(uri)
        if mapped is not None and not mapped.read_only:
            try:
                setattr(user, mapped.attribute, mapped.parse(uri, value))
                continue
            except ClaimError:
                pass  # a value the column cannot hold: the snapshot still shows it as the directory has it
        claims[uri] = value
    user.user_store = domain
    user.directory = {"roles": list(entry.roles), "groups": list(entry.groups), "claims": claims}
    # Only what the store gives: a whole-row save could undo a failed sign-in the lockout counted meanwhile.
    user.save(update_fields=["user_store", "directory", "password",
                             *{m.attribute for m in MAPPED.values() if not m.read_only} - {"failed_login_attempts"}])
    return user


def _store_claim_uris(user) -> frozenset | None:
    """The claim URIs a store user's store holds (read-only); None for a PRIMARY user."""
    if user.user_store == USER_STORE_DOMAIN:
        return None
    backends = stores.configured(user.user_store)
    # A store removed from the configuration: everything it gave stays read-only.
    return backends[0].claim_uris if backends else frozenset((user.directory or {}).get("claims", {}))


def assign_roles(username: str, role_names: list[str]) -> bool:
    """Give the user every named role; False (nothing changed) if the user or any role does not exist."""
    return _change_roles(username, role_names, add=True)


def remove_roles(username: str, role_names: list[str]) -> bool:
    """Take the named roles away; False (nothing changed) if the user or any role does not exist."""
    return _change_roles(username, role_names, add=False)


@transaction.atomic
def _change_roles(username: str, role_names: list[str], *, add: bool) -> bool:
    user = User.objects.filter(username=username, is_active=True).first()
    roles = list(Role.objects.filter(name__in=set(role_names)))
    if user is None or len(roles) != len(set(role_names)):
        return False
    if not add and set(role_names) & set((user.directory or {}).get("roles", [])):
        return False  # a role the user's store grants (through a group): only the directory can take it away
    (user.roles.add if add else user.roles.remove)(*roles)
    return True


def set_local_claim(username: str, uri: str, value: str | None) -> bool:
    """Store one claim of the user; False for an unknown user, a bad URI or value, or a read-only claim."""
    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        return False
    store_claims = _store_claim_uris(user)
    if store_claims is not None and (uri in store_claims or uri == USERNAME_CLAIM):
        return False  # the user's store holds this claim, and stores are read-only
    try:
        with transaction.atomic():
            write_claim(user, uri, value)
    except ClaimError:
        return False
    return True


MAX_USERS_BY_CLAIMS = 100


def usernames_with_claims(claims: dict) -> list[str]:
    """Active users whose claims have all these values (exact match), at most MAX_USERS_BY_CLAIMS, sorted.

    PRIMARY's users are searched here; each user store's users in the store
    itself (for the claims it holds: its users need not have signed in before)
    and locally for the rest.  A store that cannot answer is left out, with a
    warning in the log.
    """
    if not all(isinstance(uri, str) and isinstance(value, str) for uri, value in claims.items()):
        return []
    found = set(_local_matches(User.objects.filter(is_active=True, user_store=USER_STORE_DOMAIN), claims))
    for backend in stores.configured():
        if len(found) >= MAX_USERS_BY_CLAIMS:
            break
        try:
            found |= set(_store_matches(backend, claims))
        except DirectoryUnavailable:
            continue  # logged by the store
    return sorted(found)[:MAX_USERS_BY_CLAIMS]


def _local_matches(query, claims: dict) -> list[str]:
    for uri, value in claims.items():
        if uri == USERNAME_CLAIM:
            query = query.filter(username=value)
            continue
        mapped = MAPPED.get(uri)
        if mapped is None:
            query = query.filter(claim_values__uri=uri, claim_values__value=value)
            continue
        try:
            query = query.filter(**{mapped.attribute: mapped.parse(uri, value)})
        except (ClaimError, FieldError):
            return []  # a value the claim cannot hold, or a claim no column holds (accountLocked)
    return list(query.values_list("username", flat=True).distinct()[:MAX_USERS_BY_CLAIMS])


def _store_matches(backend, claims: dict) -> list[str]:
    """Users of one store: the claims it holds asked of the store, the others matched on the shadow rows."""
    held = {uri: value for uri, value in claims.items() if uri in backend.claim_uris}
    local = {uri: value for uri, value in claims.items() if uri not in held}
    query = User.objects.filter(is_active=True, user_store=backend.domain)
    if not held and USERNAME_CLAIM not in local:
        return _local_matches(query, local)  # claims the server keeps for the store's users
    if USERNAME_CLAIM in local:
        domain, name = split_username(local.pop(USERNAME_CLAIM))
        if domain != backend.domain:
            return []
        entry = backend.find_user(name)
        if entry is None:
            return []
        query = query.filter(username=_sync_shadow(backend.domain, entry).username)
    if held:
        entries = backend.find_users(held, limit=MAX_USERS_BY_CLAIMS)
        query = query.filter(username__in=[_sync_shadow(backend.domain, entry).username for entry in entries])
    return _local_matches(query, local)


def username_for_login_identifier(identifier: str) -> str | None:
    """The one active account whose username or other allowed attribute (AUTHFLOW_LOGIN_IDENTIFIER_ATTRIBUTES)
    is `identifier`; None when none is, or when several are (an identifier must name one account)."""
    if not isinstance(identifier, str) or not identifier.strip():
        return None
    found: set[str] = set()
    for uri in settings.AUTHFLOW_LOGIN_IDENTIFIER_ATTRIBUTES:
        found.update(usernames_with_claims({uri: identifier.strip()}))
        if len(found) > 1:
            return None
    return found.pop() if found else None


def set_password(username: str, password: str) -> bool:
    """Change the user's password if Django's password validators accept it; False otherwise (nothing changes)."""
    user = User.objects.filter(username=username, is_active=True).first()
    if user is None or not isinstance(password, str) or user.user_store != USER_STORE_DOMAIN:
        return False  # a store's user's password is the directory's, and stores are read-only
    try:
        validate_password(password, user)
    except ValidationError:
        return False
    user.set_password(password)
    user.save(update_fields=["password"])
    return True


def associated_username(idp: str, subject: str) -> str | None:
    """The active local user linked to `subject` at identity provider `idp`, or None."""
    link = FederatedAssociation.objects.filter(idp=idp, subject=subject, user__is_active=True).select_related("user").first()
    return link.user.username if link else None


def associate(idp: str, subject: str, username: str) -> bool:
    """Link the federated identity to the local user (replacing an earlier link); False for an unknown user."""
    user = User.objects.filter(username=username, is_active=True).first()
    if user is None or not all(isinstance(v, str) and v for v in (idp, subject)) or len(idp) > 100 or len(subject) > 255:
        return False
    FederatedAssociation.objects.update_or_create(idp=idp, subject=subject, defaults={"user": user})
    return True
