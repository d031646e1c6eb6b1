"""The account page's section about second factors: the authenticator app and backup codes."""
from __future__ import annotations

from .models import BackupCodeDevice, TotpDevice


def section(request) -> dict | None:
    totp = TotpDevice.objects.filter(user=request.user, confirmed=True).first()
    backup = BackupCodeDevice.objects.filter(user=request.user).first()
    return {"template": "account/_two_factor.html", "totp": totp,
            "backup_codes_left": backup.remaining() if backup else None}
