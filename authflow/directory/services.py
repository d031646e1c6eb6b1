"""What other apps may ask of the directory: a user's snapshot, and the changes scripts make."""
from __future__ import annotations

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import FieldError, ValidationError
from django.db import transaction

from .claims import MAPPED, USERNAME as USERNAME_CLAIM, ClaimError, read_claims, write_claim
from .models import FederatedAssociation, Role, User

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
        "uniqueId": str(user.unique_id),
        "tenantDomain": settings.AUTHFLOW_TENANT_DOMAIN,
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


MAX_USERS_BY_CLAIMS = 100


def usernames_with_claims(claims: dict) -> list[str]:
    """Active users whose claims have all these values (exact match), at most MAX_USERS_BY_CLAIMS, sorted."""
    query = User.objects.filter(is_active=True)
    for uri, value in claims.items():
        if not isinstance(uri, str) or not isinstance(value, str):
            return []
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
    return sorted(set(query.values_list("username", flat=True)[:MAX_USERS_BY_CLAIMS]))


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
    if user is None or not isinstance(password, str):
        return False
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
