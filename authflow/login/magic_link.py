"""Opening a magic link (/login/magic/<token>/): the step's success, in the browser that asked for the link.

In order: a link that is not ours (unknown, changed) and one that no longer
works (used, expired, replaced by a newer one) get a page saying so and
count as a failed sign-in of the client address (and of the account, when
the link names one).  A genuine link opened in another browser gets a page
asking to open it where the sign-in started, and stays usable (a mail
scanner fetching links, or the user's other device, does not spend it).
Then the flow must still wait at the very step the link was sent for; the
link is used up and the step's success journaled in one transaction, and
the login continues as after any step page (authflow.login.views).
"""
from __future__ import annotations

import logging
from functools import wraps

from django.db import transaction
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _, gettext_noop
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from authflow.authenticators.magic_link import MagicLinkAuthenticator
from authflow.directory import lockout
from authflow.flows import service
from authflow.mail import codes
from authflow.net import client_ip

from . import binding, delivery, steps, targets
from .views import conclude, problem

logger = logging.getLogger("authflow.login")

NAME = MagicLinkAuthenticator.name

NOT_VALID = (gettext_noop("This sign-in link is not valid"),
             gettext_noop("The link is incomplete or was changed. Copy the whole link from the email, or start signing in again."))
NO_LONGER = {
    "used": (gettext_noop("This sign-in link was already used"), gettext_noop("Each link works once. Start signing in again to get a new one.")),
    "expired": (gettext_noop("This sign-in link expired"), gettext_noop("Links work for a limited time. Start signing in again to get a new one.")),
    "replaced": (gettext_noop("This sign-in link was replaced"),
                 gettext_noop("A newer link was sent, or the link was tried too often. Use the newest email, or start again.")),
}


class _Used(Exception):
    pass


def _not_logged_by_django(view):
    """Django logs 4xx responses with their path, which holds the link: this view logs its own lines instead."""
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response._has_been_logged = True  # django.utils.log.log_response skips it
        return response
    return wrapper


@never_cache
@_not_logged_by_django
@require_http_methods(["GET"])
def open_link(request, token):
    ip = client_ip(request)
    found = codes.find_link(token)
    record = found.record
    if not found.ok and found.reason in ("none", "wrong"):
        return _refused(request, record, ip, found.reason, *NOT_VALID, status=404)
    flow = service.get_flow(record.flow_id)
    restart = targets.restart_url(flow)
    if not found.ok:
        title, message = NO_LONGER.get(found.reason, NO_LONGER["expired"])
        return _refused(request, record, ip, found.reason, title, message, status=410, restart=restart)
    if not binding.matches(request, flow):
        logger.info("magic link opened in another browser (kept usable)", extra={"flow_id": str(flow.id)})
        return problem(request, _("Open the link in the browser where you started signing in"),
                       _("For your security, this sign-in link works only in the browser where you asked for it. "
                         "Open the email there, or copy the link into that browser."), status=403)
    if not service.is_running(flow):
        return problem(request, _("This sign-in is already finished"), _("The link was opened after the sign-in ended."),
                       status=409, restart=restart)
    if service.is_expired(flow):
        return problem(request, _("This sign-in expired"), _("It was not finished in time."), status=410, restart=restart)
    index = _magic_link_option(flow, record)
    if index is None:
        return problem(request, _("This sign-in link is out of date"),
                       _("The sign-in moved on since the link was sent (another tab, or another way to sign in)."),
                       status=409, restart=reverse("login-flow", args=[flow.id]))
    user = record.user
    if not user.is_active:
        return problem(request, _("This account cannot sign in"), _("The account is disabled."), status=403,
                       restart=restart)
    if lockout.address_blocked(ip):
        return problem(request, _("Too many failed sign-ins"), lockout.NETWORK_BLOCKED, status=429, restart=restart)
    if lockout.locked_for(user):
        return problem(request, _("This account is locked"), lockout.locked_message(user), status=403, restart=restart)
    step = steps.step_of(flow, flow.pending, index)
    answer = step.success(user.get_username(), {"username": [user.get_username()]})
    try:
        with transaction.atomic():
            if not codes.use_link(record):
                raise _Used
            flow = service.resume_flow(flow.id, answer, position=record.position)
    except _Used:
        return _refused(request, record, ip, "used", *NO_LONGER["used"], status=410, restart=restart)
    except service.StaleAnswer:
        return problem(request, _("This sign-in link is out of date"), _("The sign-in moved on meanwhile."), status=409,
                       restart=reverse("login-flow", args=[flow.id]))
    except service.FlowError as exc:
        return problem(request, _("This sign-in cannot continue"), str(exc), status=409, restart=restart)
    lockout.record_success(user)
    logger.info("magic link accepted", extra={"flow_id": str(flow.id), "step": step.number})
    flow = steps.settle(request, flow)
    if service.is_running(flow):
        return HttpResponseRedirect(reverse("login-flow", args=[flow.id]))  # the flow's page delivers the rest
    return delivery.respond(request, flow.id, conclude(request, flow))


def _magic_link_option(flow, record) -> int | None:
    """The pending step's magic link option, when the flow still waits at the step the link was sent for."""
    pending = flow.pending or {}
    if pending.get("type") != "step" or pending.get("position") != record.position:
        return None
    if pending.get("subject") and pending["subject"] != record.user.get_username():
        return None
    for index, option in enumerate(pending.get("options") or []):
        if option.get("authenticator") == NAME and option.get("idp", "LOCAL") == "LOCAL":
            return index
    return None


def _refused(request, record, ip, reason, title, message, *, status, restart=None):
    """A link that does not sign in: a failed attempt for the address, and the account it names."""
    username = record.user.get_username() if record is not None else ""
    lockout.record_failure(username, ip, flow_id=str(record.flow_id) if record is not None else None,
                           authenticator=NAME)
    logger.info("magic link refused", extra={"reason": reason, "flow_id": str(record.flow_id) if record else None})
    return problem(request, title, message, status=status, restart=restart)
