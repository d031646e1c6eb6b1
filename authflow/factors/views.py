"""Account page actions for second factors (Django's CSRF protection guards them)."""
from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from authflow.account.recent import recent_login_required

from .models import BackupCodeDevice, TotpDevice

logger = logging.getLogger("authflow.factors")


@never_cache
@login_required
@require_http_methods(["POST"])
@recent_login_required
def new_backup_codes(request):
    """New backup codes, shown this once (the old ones stop working)."""
    codes = BackupCodeDevice.replace_for(request.user)
    logger.info("backup codes replaced", extra={"user": request.user.get_username()})
    return render(request, "account/backup_codes.html", {"codes": codes})


@login_required
@require_http_methods(["POST"])
@recent_login_required
def remove_totp(request):
    removed = TotpDevice.objects.filter(user=request.user).delete()[0]
    if removed:
        logger.info("authenticator app removed", extra={"user": request.user.get_username()})
        messages.info(request, _("The authenticator app was removed from your account."))
    return HttpResponseRedirect(reverse("account"))
