"""What other apps may ask of the directory: a user's snapshot, and the changes scripts make."""
from __future__ import annotations

from django.db import transaction

from .claims import ClaimError, read_claims, write_claim
from .models import Role, User

TENANT_DOMAIN = "carbon.super"
USER_STORE_DOMAIN = "PRIMARY"


def _active_user(username: str):
    return (User.objects.filter(username=username, is_active=True)
            .prefetch_related("roles", "groups", "claim_values").first())


def user_snapshot(username: str) -> dict | None:
    """Everything a script can read about a user, or None for an unknown or inactive user."""
    if not isinstance(username, str):
        return None
    user = _active_user(username)
    if user is None:
        return None
    return {
        "username": user.username,
        "tenantDomain": TENANT_DOMAIN,
        "userStoreDomain": USER_STORE_DOMAIN,
        "roles": sorted(role.name for role in user.roles.all()),
        "groups": sorted(group.name for group in user.groups.all()),
        "claims": read_claims(user),
    }


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
    (user.roles.add if add else user.roles.remove)(*roles)
    return True


def set_local_claim(username: str, uri: str, value: str | None) -> bool:
    """Store one claim of the user; False for an unknown user, a bad URI or value, or a read-only claim."""
    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        return False
    try:
        with transaction.atomic():
            write_claim(user, uri, value)
    except ClaimError:
        return False
    return True
