"""Passkeys users registered, and the state of WebAuthn ceremonies in progress.

A `Passkey` keeps the public half only (the AttestedCredentialData: AAGUID,
credential id, COSE public key) and the signature counter; nothing in it
signs anything.  A `Ceremony` is what fido2's *_begin returned (the
challenge and the user verification asked for), kept server-side until the
browser answers: bound to the login flow and the position of the page that
showed it (or, on the account page, to the user), single use (`take` deletes
it in the same transaction that reads it, so a replayed response finds
nothing), and only for a few minutes.
"""
from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

if TYPE_CHECKING:
    from . import ceremonies


NAME_MAX = 64
# A little longer than the browser is told it may take (the options' timeout).
CEREMONY_SECONDS = 240 + 60  # ceremonies.TIMEOUT_SECONDS + 60 (ceremonies, with fido2, loads at first use)


class Passkey(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="passkeys")
    credential_id = models.BinaryField(max_length=1023, unique=True)
    # fido2's AttestedCredentialData: AAGUID, credential id and the COSE public key.
    public_key = models.BinaryField()
    # The user.id the credential was created with (random, the same for all of a user's passkeys).
    user_handle = models.BinaryField(max_length=64)
    sign_count = models.PositiveBigIntegerField(default=0)
    aaguid = models.CharField(max_length=36, blank=True)
    transports = models.JSONField(default=list, blank=True)
    name = models.CharField(max_length=NAME_MAX)
    # The browser said the credential is discoverable: it can sign in without a username.
    discoverable = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.name} ({self.user})"

    @property
    def stored(self) -> ceremonies.StoredCredential:
        from . import ceremonies

        return ceremonies.StoredCredential(credential_id=bytes(self.credential_id),
                                           credential_data=bytes(self.public_key), sign_count=self.sign_count,
                                           user_handle=bytes(self.user_handle))

    @property
    def fingerprint(self) -> str:
        """A short, stable reference for logs (the credential id is not secret, but long)."""
        return hashlib.sha256(bytes(self.credential_id)).hexdigest()[:16]


class Ceremony(models.Model):
    class Kind(models.TextChoices):
        REGISTER = "register"
        AUTHENTICATE = "authenticate"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # A login page: its flow and the position of the command it showed.
    flow = models.ForeignKey("flows.LoginFlow", null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+")
    position = models.IntegerField(null=True, blank=True)
    # Registration, and anything on the account page: the user.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+")
    state = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    @classmethod
    def begin(cls, kind: str, state: dict, *, flow_id: str | None = None, position: int | None = None,
              user=None) -> Ceremony:
        now = timezone.now()  # abandoned ceremonies are deleted by the housekeeping (purge_expired)
        return cls.objects.create(kind=kind, state=state, flow_id=flow_id, position=position, user=user,
                                  expires_at=now + timedelta(seconds=CEREMONY_SECONDS))

    @classmethod
    def purge_expired(cls) -> dict[str, int]:
        """Delete the abandoned ceremonies (a used one is deleted when it is taken)."""
        _, per_model = cls.objects.filter(expires_at__lt=timezone.now()).delete()
        return per_model

    @classmethod
    def take(cls, ceremony_id, kind: str, *, flow_id: str | None = None, position: int | None = None,
             user=None) -> dict | None:
        """The state of that ceremony if it is this page's (or user's), unexpired and unused; it is used up."""
        try:
            ceremony_id = uuid.UUID(str(ceremony_id))
        except ValueError:
            return None
        mine = cls.objects.filter(pk=ceremony_id, kind=kind)
        mine = mine.filter(flow_id=flow_id) if flow_id else mine.filter(flow__isnull=True)
        mine = mine.filter(position=position) if position is not None else mine.filter(position__isnull=True)
        mine = mine.filter(user=user) if user is not None else mine.filter(user__isnull=True)
        with transaction.atomic():
            ceremony = mine.select_for_update().first()
            if ceremony is None:
                return None
            ceremony.delete()
        return ceremony.state if ceremony.expires_at >= timezone.now() else None
