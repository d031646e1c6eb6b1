"""MagicLinkAuthenticator: a sign-in link sent by email, opened in the browser that asked for it.

The page asks for a username or email address (or, when an earlier step
identified the user, just offers to send the link); submitting it sends the
link and shows "check your email".  An identifier without an account (or
without an email address) gets the same page and nothing is sent, so the
page tells nothing about accounts.

The link is /login/magic/<selector>.<verifier>/: both halves random, the
server keeps the selector (to find the record) and a keyed digest of the
verifier (authflow.mail.codes).  It expires after
AUTHFLOW_MAGIC_LINK_TTL_SECONDS, works once, and answers this step of this
flow only, in the browser that started the flow (authflow.login.magic_link
checks all that and journals the step's success).

amr: `otp`.  The link carries a one-time secret sent out of band, as an
emailed code does (email-otp is `otp` too); RFC 8176 has no value of its own
for "proved control of a mailbox", and an ID token without `amr` would
leave the application guessing how the user signed in.
"""
from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils.translation import gettext_noop

from authflow.directory import lockout
from authflow.mail import codes
from authflow.mail import service as mail
from authflow.net import client_ip

from .base import Authenticator, ShowAgain, ShowPage, Step

logger = logging.getLogger("authflow.authenticators")

PURPOSE = codes.Purpose.MAGIC_LINK
TEMPLATE_ID = "magic-link"
SENT_TEMPLATE = "login/magic_sent.html"
RESEND = "resend"


def identifier_field(request) -> str:
    return request.POST.get("identifier", "").strip()[:254]


class MagicLinkAuthenticator(Authenticator):
    name = "MagicLinkAuthenticator"
    display_name = gettext_noop("Magic Link")
    identifies_user = True
    proves_identity = True
    amr = "otp"
    template = "login/magic_link.html"

    def is_enrolled(self, user) -> bool:
        return bool(user.email)

    def context(self, request, step: Step) -> dict:
        return {"minutes": max(1, codes.ttl(PURPOSE) // 60)}

    def answer(self, request, step: Step) -> dict:
        identifier = step.subject or identifier_field(request)
        if not identifier:
            raise ShowAgain(gettext_noop("Enter your username or email address."))
        if lockout.address_blocked(client_ip(request)):
            raise ShowAgain(lockout.NETWORK_BLOCKED)
        page = {"identifier": identifier, "minutes": max(1, codes.ttl(PURPOSE) // 60),
                "resend_action": RESEND, "masked_email": ""}
        try:
            if not codes.first_send(PURPOSE, step.flow_id, step.position):
                codes.note_resend(PURPOSE, step.flow_id, step.position)
        except codes.TooSoon as exc:
            if request.POST.get("action") == RESEND:
                raise ShowPage(SENT_TEMPLATE, {**page, "warning": exc.message}) from None
            raise ShowAgain(exc.message) from None
        user = self._user(step, identifier)
        if user is not None:
            if step.subject_verified:
                page["masked_email"] = mail.mask_address(user.email)
            self._send(request, step, user)
        else:
            logger.info("magic link not sent: no account with an email address for the identifier",
                        extra={"flow_id": step.flow_id, "step": step.number})
        notice = gettext_noop("We sent you a new link.") if request.POST.get("action") == RESEND else ""
        raise ShowPage(SENT_TEMPLATE, {**page, "notice": notice})

    def _user(self, step: Step, identifier: str):
        users = get_user_model().objects.filter(is_active=True).exclude(email="")
        if step.subject:
            return users.filter(username=step.subject).first()
        user = users.filter(username=identifier).first()
        if user is None and "@" in identifier:
            matches = list(users.filter(email__iexact=identifier)[:2])
            user = matches[0] if len(matches) == 1 else None  # an address shared by accounts names none of them
        return user

    def _send(self, request, step: Step, user) -> None:
        if lockout.locked_for(user):
            return
        issued = codes.issue(PURPOSE, user, step.flow_id, step.position, step.number)
        if issued is None:
            logger.warning("magic link not sent: too many emails to this account lately",
                           extra={"flow_id": step.flow_id, "user": user.get_username()})
            return
        _, token = issued
        link = request.build_absolute_uri(reverse("login-magic-link", args=[token]))
        mail.send_template(user, TEMPLATE_ID, {"link": link, "minutes": max(1, codes.ttl(PURPOSE) // 60),
                                               "application": step.application}, flow_id=step.flow_id,
                           allowance_taken=True)
