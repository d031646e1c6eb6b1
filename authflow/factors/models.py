"""Second factors as django-otp devices: TOTP and backup codes.

They are django-otp devices (one `verify_token`, throttling after failures,
`devices_for_user`), but keep their secrets as this project keeps secrets:
the TOTP seed encrypted (authflow.keys, purpose "totp-seed"), backup codes
as keyed digests, so a copy of the database gives neither away.
"""
from __future__ import annotations

import base64
import os
import secrets
import time
from urllib.parse import quote, urlencode

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from django_otp.oath import TOTP

from authflow import keys

SEED_PURPOSE = "totp-seed"
CODE_PURPOSE = "backup-code"
CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i
CODE_LENGTH = 10
CODE_COUNT = 10
# Wrong codes a device takes before it slows down: a typo or two cost nothing; after that each try waits
# OTP_TOTP_THROTTLE_FACTOR x 2^(misses - 1) seconds (4, 8, 16...), and the account lockout counts every miss.
FREE_TRIES = 3


class SlowsDownAfterFreeTries:
    """django-otp's throttling, from the FREE_TRIES-th wrong code in a row only."""

    def verify_is_allowed(self):
        if self.throttling_failure_count < FREE_TRIES:
            return super(ThrottlingMixin, self).verify_is_allowed()  # the device's own checks, not the delay
        return super().verify_is_allowed()


class TotpDevice(TimestampMixin, SlowsDownAfterFreeTries, ThrottlingMixin, Device):
    encrypted_seed = models.TextField()
    step = models.PositiveSmallIntegerField(default=30)
    digits = models.PositiveSmallIntegerField(default=6)
    # Time steps of clock difference accepted either way, and the drift learnt from the device.
    tolerance = models.PositiveSmallIntegerField(default=1)
    drift = models.SmallIntegerField(default=0)
    # The time step of the last code accepted: a code is accepted once, and none older than it.
    last_t = models.BigIntegerField(default=-1)
    # The login flow in which the device was confirmed (the backup codes made then are shown in it).
    enrolled_in_flow = models.CharField(max_length=36, blank=True)

    class Meta(Device.Meta):
        verbose_name = "TOTP device"

    @classmethod
    def start(cls, user) -> TotpDevice:
        """A new, unconfirmed device with a fresh seed (replacing an earlier unconfirmed one)."""
        with transaction.atomic():
            cls.objects.filter(user=user, confirmed=False).delete()
            return cls.objects.create(user=user, name="Authenticator app", confirmed=False,
                                      encrypted_seed=keys.encrypt(os.urandom(20), purpose=SEED_PURPOSE))

    @property
    def bin_key(self) -> bytes:
        return keys.decrypt(self.encrypted_seed, purpose=SEED_PURPOSE)

    @property
    def secret(self) -> str:
        """The seed as authenticator apps take it typed in (base32, no padding)."""
        return base64.b32encode(self.bin_key).decode().rstrip("=")

    @property
    def config_url(self) -> str:
        issuer = settings.AUTHFLOW_TOTP_ISSUER.replace(":", "")
        label = quote(f"{issuer}:{self.user.get_username()}")
        query = urlencode({"secret": self.secret, "issuer": issuer, "algorithm": "SHA1", "digits": self.digits,
                           "period": self.step})
        return f"otpauth://totp/{label}?{query}"

    def verify_token(self, token) -> bool:
        allowed, _ = self.verify_is_allowed()
        if not allowed:
            return False
        token = str(token).strip().replace(" ", "")
        verified = False
        if token.isdigit() and len(token) == self.digits:
            totp = TOTP(self.bin_key, self.step, 0, self.digits, self.drift)
            totp.time = time.time()
            verified = totp.verify(int(token), self.tolerance, self.last_t + 1)
        if verified:
            self.last_t = totp.t()
            self.drift = totp.drift
            self.throttle_reset(commit=False)
            self.set_last_used_timestamp(commit=False)
            self.save()
        else:
            self.throttle_increment(commit=True)
        return verified

    def was_used(self, token) -> bool:
        """Whether `token` is a code of this device whose time was already used (refused as a replay)."""
        token = str(token).strip().replace(" ", "")
        if self.last_t < 0 or not (token.isdigit() and len(token) == self.digits):
            return False
        totp = TOTP(self.bin_key, self.step, 0, self.digits, self.drift)
        totp.time = time.time()
        return totp.verify(int(token), self.tolerance) and totp.t() <= self.last_t

    def get_throttle_factor(self):
        return getattr(settings, "OTP_TOTP_THROTTLE_FACTOR", 1)


class BackupCodeDevice(SlowsDownAfterFreeTries, ThrottlingMixin, Device):
    """A user's set of single-use backup codes."""

    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(Device.Meta):
        verbose_name = "backup codes"

    @classmethod
    @transaction.atomic
    def replace_for(cls, user) -> list[str]:
        """New codes for `user` (the old ones stop working); the only time they are seen in clear."""
        cls.objects.filter(user=user).delete()
        device = cls.objects.create(user=user, name="Backup codes", confirmed=True)
        codes = ["".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH)) for _ in range(CODE_COUNT)]
        BackupCode.objects.bulk_create(
            BackupCode(device=device, digest=keys.mac(code.encode(), purpose=CODE_PURPOSE)) for code in codes)
        return [f"{code[:5]}-{code[5:]}" for code in codes]

    def remaining(self) -> int:
        return self.codes.filter(used_at__isnull=True).count()

    def verify_token(self, token) -> bool:
        allowed, _ = self.verify_is_allowed()
        if not allowed:
            return False
        typed = "".join(str(token).lower().split()).replace("-", "").encode()
        with transaction.atomic():
            for code in self.codes.select_for_update().filter(used_at__isnull=True):
                if keys.mac_matches(typed, code.digest, purpose=CODE_PURPOSE):
                    code.used_at = timezone.now()
                    code.save(update_fields=["used_at"])
                    self.throttle_reset(commit=True)
                    return True
        self.throttle_increment(commit=True)
        return False

    def was_used(self, token) -> bool:
        """Whether `token` is one of this device's codes that was already used."""
        typed = "".join(str(token).lower().split()).replace("-", "").encode()
        return any(keys.mac_matches(typed, code.digest, purpose=CODE_PURPOSE)
                   for code in self.codes.filter(used_at__isnull=False))

    def get_throttle_factor(self):
        return getattr(settings, "OTP_TOTP_THROTTLE_FACTOR", 1)


class BackupCode(models.Model):
    device = models.ForeignKey(BackupCodeDevice, on_delete=models.CASCADE, related_name="codes")
    digest = models.CharField(max_length=80)
    used_at = models.DateTimeField(null=True, blank=True)
