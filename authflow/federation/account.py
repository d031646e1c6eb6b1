"""The account page's section about linked identities: which provider accounts sign in here, and unlinking one."""
from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from authflow.directory.models import FederatedAssociation

from .models import IdentityProvider

logger = logging.getLogger("authflow.federation")


def section(request) -> dict | None:
    links = list(FederatedAssociation.objects.filter(user=request.user).order_by("idp", "subject"))
    if not links:
        return None
    labels = dict(IdentityProvider.objects.filter(name__in={link.idp for link in links})
                  .values_list("name", "display_name"))
    return {"template": "account/_linked_identities.html", "links": [
        {"pk": link.pk, "provider": labels.get(link.idp) or link.idp,
         "identity": link.subject.split(":", 1)[1] if link.subject.startswith(link.idp + ":") else link.subject,
         "created_at": link.created_at} for link in links]}


@login_required
@require_http_methods(["POST"])
def unlink(request, link_id):
    """Unlink one identity, unless it is the only way left to sign in (an account without a password)."""
    link = FederatedAssociation.objects.filter(pk=link_id, user=request.user).first()
    if link is None:
        messages.error(request, _("That linked identity is not one of yours."))
    elif (not request.user.has_usable_password()
          and not FederatedAssociation.objects.filter(user=request.user).exclude(pk=link.pk).exists()):
        messages.error(request, _("This is the only way to sign in to your account: it cannot be unlinked."))
    else:
        link.delete()
        logger.info("identity unlinked", extra={"user": request.user.get_username(), "idp": link.idp})
        messages.success(request, f"Your {link.idp} identity was unlinked: it no longer signs in to your account.")
    return HttpResponseRedirect(reverse("account"))
