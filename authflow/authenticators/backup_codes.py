"""backup-code-authenticator: one of the user's single-use backup codes.

Codes are made with the first authenticator app, or on the account page,
and kept as keyed digests; each works once.  They are not made during a
login step of their own (that would let a password alone set up the second
factor it then passes): a user without unused codes gets the not-set-up page.
"""
from __future__ import annotations

from django.utils.translation import gettext_noop

from authflow.factors.models import BackupCode, BackupCodeDevice

from . import _codes
from .base import Authenticator, Step


class BackupCodeAuthenticator(Authenticator):
    name = "backup-code-authenticator"
    display_name = gettext_noop("Backup code")
    identifies_user = False
    proves_identity = True
    amr = "otp"
    template = "login/backup_code.html"

    def is_enrolled(self, user) -> bool:
        return BackupCode.objects.filter(device__user=user, used_at__isnull=True).exists()

    def answer(self, request, step: Step) -> dict:
        user = step.user
        device = BackupCodeDevice.objects.filter(user=user).first() if user else None
        return _codes.check(request, step, user, device, _codes.typed_code(request), "The backup code is not correct.",
                            "This backup code was already used: each one works once.")
