"""Passkeys as the login and account pages use them: a request's relying party, storing and using credentials.

The relying party id is AUTHFLOW_WEBAUTHN_RP_ID, else the request's host
name; the origins allowed to answer are AUTHFLOW_WEBAUTHN_ORIGINS, else the
request's own origin (scheme://host[:port]).  Nothing else is accepted.
"""
from __future__ import annotations

import logging
import os

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http.request import split_domain_port
from django.utils import timezone

from . import ceremonies
from .models import NAME_MAX, Passkey

logger = logging.getLogger("authflow.passkeys")


class AlreadyRegistered(Exception):
    """The credential is already registered (to this account or another)."""


def relying_party(request) -> ceremonies.RelyingParty:
    host = request.get_host().lower()
    rp_id = settings.AUTHFLOW_WEBAUTHN_RP_ID or split_domain_port(host)[0]
    origins = tuple(o.rstrip("/") for o in settings.AUTHFLOW_WEBAUTHN_ORIGINS) or (f"{request.scheme}://{host}",)
    return ceremonies.RelyingParty(id=rp_id, name=settings.AUTHFLOW_WEBAUTHN_RP_NAME, origins=origins)


def passkeys_of(user):
    return Passkey.objects.filter(user=user)


def has_passkey(user) -> bool:
    return Passkey.objects.filter(user=user).exists()


def user_handle(user) -> bytes:
    """The user.id WebAuthn credentials of `user` are made with: random, no personal data, the same for all."""
    existing = Passkey.objects.filter(user=user).values_list("user_handle", flat=True).first()
    return bytes(existing) if existing is not None else os.urandom(32)


def registration_options(rp, user) -> tuple[dict, dict]:
    existing = [bytes(c) for c in Passkey.objects.filter(user=user).values_list("credential_id", flat=True)]
    name = user.get_username()
    display = " ".join(p for p in (user.first_name, user.last_name) if p) or name
    return ceremonies.registration_options(rp, user_handle=user_handle(user), username=name, display_name=display,
                                           exclude=existing)


def default_name(new: ceremonies.NewCredential) -> str:
    return "Security key" if new.attachment == "cross-platform" and not new.discoverable else "Passkey"


def clean_name(raw) -> str:
    """A name as the user typed it: one line, trimmed, at most NAME_MAX characters ("" when there is none).

    Control characters become spaces (a NUL, which PostgreSQL cannot store, may come in a JSON body).
    """
    if not isinstance(raw, str):
        return ""
    return " ".join("".join(c if c.isprintable() else " " for c in raw).split())[:NAME_MAX]


def store(user, new: ceremonies.NewCredential, name: str, *,
          flow_id: str | None = None) -> Passkey:
    """Keep a verified registration; raises AlreadyRegistered when the credential id is taken."""
    try:
        with transaction.atomic():
            passkey = Passkey.objects.create(
                user=user, credential_id=new.credential_id, public_key=new.credential_data,
                user_handle=new.user_handle, sign_count=new.sign_count, aaguid=new.aaguid,
                transports=new.transports, name=clean_name(name) or default_name(new),
                discoverable=new.discoverable)
    except IntegrityError:
        raise AlreadyRegistered() from None
    logger.info("passkey registered", extra={
        "flow_id": flow_id, "user": user.get_username(), "credential": passkey.fingerprint, "aaguid": new.aaguid,
        "discoverable": new.discoverable, "user_verified": new.user_verified})
    return passkey


def record_use(passkey: Passkey, assertion: ceremonies.Assertion) -> bool:
    """Store the new signature count, only if no other sign-in with this credential stored one as high meanwhile."""
    stored = Passkey.objects.filter(pk=passkey.pk)
    if assertion.sign_count:
        stored = stored.filter(sign_count__lt=assertion.sign_count)
    else:
        stored = stored.filter(sign_count=0)
    return stored.update(sign_count=assertion.sign_count, last_used_at=timezone.now()) == 1


def purge_abandoned_ceremonies() -> dict[str, int]:
    """Delete the challenges of ceremonies nobody finished (housekeeping)."""
    from .models import Ceremony

    return Ceremony.purge_expired()
