"""Claims: well-known WSO2 claim URIs map to user attributes; any other claim is a UserClaim row.

Scripts read and write claims as strings (`user.localClaims[uri]`), so every
value crosses this module as text and is validated here before it is stored.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

WSO2 = "http://wso2.org/claims/"
USERNAME = WSO2 + "username"
GIVEN_NAME = WSO2 + "givenname"
LAST_NAME = WSO2 + "lastname"
EMAIL = WSO2 + "emailaddress"
DATE_OF_BIRTH = WSO2 + "dob"
MOBILE = WSO2 + "mobile"
FAILED_LOGIN_ATTEMPTS = WSO2 + "identity/failedLoginAttempts"
FAILED_LOGIN_ATTEMPTS_BEFORE_SUCCESS = WSO2 + "identity/failedLoginAttemptsBeforeSuccess"
ACCOUNT_LOCKED = WSO2 + "identity/accountLocked"
# "true" for staff, who may open the admin console (the account application's script asks them more).
STAFF = "urn:authflow:claims:staff"

_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")


class ClaimError(ValueError):
    pass


@dataclass(frozen=True)
class MappedClaim:
    attribute: str
    read_only: bool = False

    def read(self, user) -> str | None:
        value = getattr(user, self.attribute)
        if isinstance(value, bool):
            return "true" if value else "false"
        if value in (None, ""):
            return None
        if isinstance(value, date):
            return value.isoformat()
        return str(value)

    def parse(self, uri: str, value: str | None):
        if self.read_only:
            raise ClaimError(f"{uri} is read-only")
        if self.attribute == "date_of_birth":
            if value is None:
                return None
            try:
                return date.fromisoformat(value)
            except ValueError:
                raise ClaimError(f"{uri}: {value!r} is not a date such as 1990-01-31") from None
        if self.attribute in ("failed_login_attempts", "failed_login_attempts_before_success"):
            if value is None:
                return 0
            if not value.isdigit():
                raise ClaimError(f"{uri}: {value!r} is not a whole number of attempts")
            return int(value)
        if value is None:
            return ""
        if self.attribute == "email" and value:
            try:
                validate_email(value)
            except ValidationError:
                raise ClaimError(f"{uri}: {value!r} is not an email address") from None
        max_length = {"first_name": 150, "last_name": 150, "email": 254, "mobile": 32}[self.attribute]
        if len(value) > max_length:
            raise ClaimError(f"{uri}: longer than {max_length} characters")
        return value


MAPPED = {
    USERNAME: MappedClaim("username", read_only=True),
    GIVEN_NAME: MappedClaim("first_name"),
    LAST_NAME: MappedClaim("last_name"),
    EMAIL: MappedClaim("email"),
    DATE_OF_BIRTH: MappedClaim("date_of_birth"),
    MOBILE: MappedClaim("mobile"),
    FAILED_LOGIN_ATTEMPTS: MappedClaim("failed_login_attempts"),
    FAILED_LOGIN_ATTEMPTS_BEFORE_SUCCESS: MappedClaim("failed_login_attempts_before_success"),
    ACCOUNT_LOCKED: MappedClaim("account_locked", read_only=True),
    STAFF: MappedClaim("is_staff", read_only=True),
}
MAX_VALUE_LENGTH = 4096

# The OpenID Connect names of the claims that have one; other claims keep their URI as name.
OIDC_NAMES = {
    USERNAME: "preferred_username",
    GIVEN_NAME: "given_name",
    LAST_NAME: "family_name",
    EMAIL: "email",
    DATE_OF_BIRTH: "birthdate",
    MOBILE: "phone_number",
}


def check_uri(uri) -> str:
    if not isinstance(uri, str) or len(uri) > 255 or not _URI.match(uri):
        raise ClaimError(f"{uri!r} is not a claim URI such as http://wso2.org/claims/country")
    return uri


def read_claims(user, rows=None) -> dict[str, str]:
    """All claims of `user` as {uri: text}; unset mapped attributes are left out.

    `rows`: the user's claim rows when the caller read them already (else they are read here).
    """
    claims = {}
    for uri, mapped in MAPPED.items():
        value = mapped.read(user)
        if value is not None:
            claims[uri] = value
    for row in (user.claim_values.all() if rows is None else rows):
        claims[row.uri] = row.value
    return claims


def write_claim(user, uri: str, value: str | None) -> None:
    """Set (or, with None, clear) one claim; raises ClaimError for a bad URI or value."""
    from .models import UserClaim

    check_uri(uri)
    if value is not None and not isinstance(value, str):
        raise ClaimError(f"{uri}: claim values are text")
    mapped = MAPPED.get(uri)
    if mapped is not None:
        setattr(user, mapped.attribute, mapped.parse(uri, value))
        user.save(update_fields=[mapped.attribute])
        return
    if value is None:
        UserClaim.objects.filter(user=user, uri=uri).delete()
        return
    if len(value) > MAX_VALUE_LENGTH:
        raise ClaimError(f"{uri}: longer than {MAX_VALUE_LENGTH} characters")
    UserClaim.objects.update_or_create(user=user, uri=uri, defaults={"value": value})
