"""totp: a code from an authenticator app (django-otp TOTP device, seed kept encrypted).

Verification accepts one time step of clock difference either way (and
learns the device's drift), never accepts the same or an older code twice,
and slows down after wrong codes (django-otp throttling).  A user without a
device sets one up during the login, once an earlier step checked a
credential: a QR code (SVG made here, nothing leaves the server) and the
secret as text, then a code from the app confirms it.  Confirming the
first device also makes backup codes, shown once.
"""
from __future__ import annotations

import segno
from django.utils.translation import gettext, gettext_noop

from authflow.factors.models import BackupCodeDevice, TotpDevice

from . import _codes
from .base import Authenticator, ShowAgain, ShowPage, Step

WRONG = gettext_noop("The code is not correct.")
USED = gettext_noop("This code was already used. Wait for the next code in your authenticator app.")
CODES_SAVED = "codes_saved"


class TotpAuthenticator(Authenticator):
    name = "totp"
    display_name = gettext_noop("Authenticator app")
    identifies_user = False
    proves_identity = True
    amr = "otp"
    template = "login/totp.html"
    enrolls_during_login = True
    enroll_template = "login/totp_enroll.html"

    def is_enrolled(self, user) -> bool:
        return TotpDevice.objects.filter(user=user, confirmed=True).exists()

    def answer(self, request, step: Step) -> dict:
        user = step.user
        device = TotpDevice.objects.filter(user=user, confirmed=True).first() if user else None
        if request.POST.get("action") == CODES_SAVED:
            # The backup codes page after enrolling in this very flow: the code was checked then.
            if device is not None and device.enrolled_in_flow == step.flow_id:
                return step.success(user.get_username())
        return _codes.check(request, step, user, device, _codes.typed_code(request), WRONG, USED)

    def enroll_context(self, request, step: Step, user) -> dict:
        device = TotpDevice.objects.filter(user=user, confirmed=False).first() or TotpDevice.start(user)
        qr = segno.make(device.config_url, error="m").svg_inline(scale=4, title=gettext("QR code for your authenticator app"))
        secret = device.secret
        return {"qr_svg": qr, "secret": " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))}

    def enroll(self, request, step: Step, user) -> dict:
        device = TotpDevice.objects.filter(user=user, confirmed=False).first()
        if device is None:
            raise ShowAgain(gettext_noop("Scan the new QR code and enter the code it shows."))
        answer = _codes.check(request, step, user, device, _codes.typed_code(request),
                              gettext_noop("The code is not correct: check that your phone's clock is right and try again."), USED)
        if answer["r"] != "success":  # while setting up, a wrong code is tried again on this page
            raise ShowAgain(answer.get("error") or WRONG)
        device.confirmed = True
        device.enrolled_in_flow = step.flow_id
        device.save(update_fields=["confirmed", "enrolled_in_flow"])
        codes = None if BackupCodeDevice.objects.filter(user=user).exists() else BackupCodeDevice.replace_for(user)
        raise ShowPage("login/totp_enrolled.html", {"codes": codes})
