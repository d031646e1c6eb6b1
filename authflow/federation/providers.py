"""Identity providers as the login sees them: which exist, and which user a remote identity becomes.

This is the federation app's surface for the rest of the server: the login
pages ask `enabled()` for a step option's provider, and `local_user()`
applies the provider's user policy to the claims it vouched for.

A remote identity is named `<provider>:<sub>` inside this server (the
username a script sees under the "No local account" policy, and the subject
of its links to local accounts): a provider's `sub` can never pass for a
local username, so no provider can sign someone in as a local account it
was not linked to.
"""
from __future__ import annotations

import logging
import re

from django.db import IntegrityError, transaction

from authflow.directory.claims import ClaimError, write_claim
from authflow.directory.models import FederatedAssociation, Role, User

from .models import IdentityProvider

logger = logging.getLogger("authflow.federation")

# Remote claim values a script sees: JSON scalars, strings cut to this length.
MAX_REMOTE_VALUE = 1000
MAX_REMOTE_CLAIMS = 100
# What a link to a local account can hold ("<provider>:<sub>", FederatedAssociation.subject).
MAX_IDENTITY = 255
_USERNAME = re.compile(r"^[\w.@+-]{1,150}$")


class UserRefused(Exception):
    """The provider vouched for the user, but this server's policy gives no local account; safe to show."""


def enabled(name: str) -> IdentityProvider | None:
    if not isinstance(name, str) or not name or name == "LOCAL":
        return None
    return IdentityProvider.objects.filter(name=name, enabled=True).first()


def configured() -> list[IdentityProvider]:
    """Every identity provider configured, enabled or not (by name): what a step may offer."""
    return list(IdentityProvider.objects.order_by("name"))


def federated_username(provider: IdentityProvider, subject: str) -> str:
    return f"{provider.name}:{subject}"


def is_remote_identity(username) -> bool:
    """Whether `username` names a remote identity ("<provider>:<sub>") rather than a local account."""
    if not isinstance(username, str) or ":" not in username:
        return False
    return IdentityProvider.objects.filter(name=username.split(":", 1)[0]).exists()


def remote_claims(claims: dict) -> dict:
    """What scripts see as user.remoteClaims: the scalar claims, bounded."""
    kept = {}
    for name, value in list(claims.items())[:MAX_REMOTE_CLAIMS]:
        if isinstance(value, str):
            kept[name] = value[:MAX_REMOTE_VALUE]
        elif isinstance(value, (bool, int, float)) or value is None:
            kept[name] = value
    return kept


def mapped_claims(provider: IdentityProvider, claims: dict) -> dict[str, str]:
    """{local claim URI: text} for the remote claims the provider's mapping names."""
    mapped = {}
    for remote, local in (provider.claim_mapping or {}).items():
        value = claims.get(remote)
        if isinstance(value, bool):
            value = "true" if value else "false"
        if isinstance(value, (str, int, float)) and str(value) != "":
            mapped[local] = str(value)[:MAX_REMOTE_VALUE]
    return mapped


def local_user(provider: IdentityProvider, claims: dict, name_new_user=None) -> str:
    """The username the login continues with for the identity `claims` describe (UserRefused if none).

    `name_new_user(provider, claims)`, when given, names a user about to be provisioned (the
    application's getUserName callback) instead of username_claim and username_prefix; None from
    it keeps those.
    """
    identity = federated_username(provider, claims["sub"])
    if len(identity) > MAX_IDENTITY:
        raise UserRefused(f"Your {provider.label} account's identifier is too long for this server.")
    policy = provider.user_policy
    if policy == IdentityProvider.UserPolicy.NONE:
        return identity
    link = FederatedAssociation.objects.filter(idp=provider.name, subject=identity).select_related("user").first()
    if policy == IdentityProvider.UserPolicy.LINK:
        if link is None:
            # Not linked yet: the remote identity, which a script links once the user proved a local account.
            return identity
        if not link.user.is_active:
            raise UserRefused("Your account here is disabled.")
        return link.user.username
    if link is not None:
        if not link.user.is_active:
            raise UserRefused("Your account here is disabled.")
        _update_claims(provider, link.user, claims)
        _update_roles(provider, link.user, claims, provisioned=False)
        return link.user.username
    return _provision(provider, claims, identity, name_new_user)


def _provision(provider: IdentityProvider, claims: dict, identity: str, name_new_user=None) -> str:
    username = name_new_user(provider, claims) if name_new_user is not None else None
    if username is not None:
        if not _USERNAME.match(username):
            raise UserRefused(f"The application's sign-in rules named your {provider.label} account "
                              f"{username[:60]!r}, which this server cannot use as a username.")
    else:
        raw = claims.get(provider.username_claim)
        username = f"{provider.username_prefix}{raw}" if isinstance(raw, str) and raw else ""
    if not _USERNAME.match(username):
        raise UserRefused(f"Your {provider.label} account has no {provider.username_claim} this server can use "
                          "as a username.")
    try:
        with transaction.atomic():
            if User.objects.filter(username=username).exists():
                # Never take over an account the provider was not linked to.
                raise UserRefused(f"An account named {username} already exists here and is not linked to your "
                                  f"{provider.label} account.")
            user = User(username=username)
            user.set_unusable_password()
            user.save()
            FederatedAssociation.objects.create(idp=provider.name, subject=identity, user=user)
            _update_claims(provider, user, claims)
            _update_roles(provider, user, claims, provisioned=True)
    except IntegrityError:
        raise UserRefused("Your account is being created by another sign-in: try again.") from None
    logger.info("user provisioned", extra={"idp": provider.name, "username": username})
    return username


def _update_claims(provider: IdentityProvider, user, claims: dict) -> None:
    for uri, value in mapped_claims(provider, claims).items():
        try:
            write_claim(user, uri, value)
        except ClaimError as exc:
            logger.warning("a mapped claim was not stored", extra={"idp": provider.name, "claim": uri,
                                                                   "error": str(exc)})


def mapped_roles(provider: IdentityProvider, claims: dict) -> set[str] | None:
    """The local roles role_mapping gives the role claim's values; None when the claim is absent (unknown)."""
    if not provider.role_claim or provider.role_claim not in claims:
        return None
    values = claims[provider.role_claim]
    values = values if isinstance(values, list) else [values]
    mapping = provider.role_mapping or {}
    return {mapping[v] for v in values if isinstance(v, str) and isinstance(mapping.get(v), str)}


def _update_roles(provider: IdentityProvider, user, claims: dict, *, provisioned: bool) -> None:
    """Grant provisioning_roles to a new account; give the mapped roles the claim names and take away the
    mapped roles it no longer names (roles outside the mapping are never touched)."""
    granted = set(provider.provisioning_roles or []) if provisioned else set()
    mapped = mapped_roles(provider, claims)
    if mapped is not None:
        granted |= mapped
        dropped = {r for r in (provider.role_mapping or {}).values() if isinstance(r, str)} - granted
        if dropped:
            user.roles.remove(*Role.objects.filter(name__in=dropped))
    if granted:
        roles = list(Role.objects.filter(name__in=granted))
        missing = granted - {r.name for r in roles}
        if missing:
            logger.warning("a provider's role does not exist", extra={"idp": provider.name,
                                                                      "roles": sorted(missing)})
        user.roles.add(*roles)
