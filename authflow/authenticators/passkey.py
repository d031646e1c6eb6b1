"""FIDOAuthenticator: passkeys and security keys (FIDO2/WebAuthn), as a first step or as a second factor.

**First step** (no earlier step identified anyone): the page asks for any
discoverable credential of this site (empty allowCredentials), so the user
signs in without typing a username; the credential's owner is the step's
user.  User verification (PIN, fingerprint, face) is *required*: the passkey
is the only factor.  **Second factor** (an earlier step found `step.subject`):
allowCredentials lists the subject's credentials and user verification is
*preferred* (a plain security key's touch is enough); a credential of anyone
else is refused.  A user who has no passkey yet and already passed a step
that checked a credential registers one on the spot (enrollment, see
authflow.login.steps); the enrollment page's *Not now* fails the step.

**Signature counter.**  A counter that does not increase, when the stored or
the presented one is not zero, means two authenticators hold the same key (a
cloned key): refused, a warning naming the flow is logged, and nothing is
updated.  Authenticators without a counter always send 0 and are accepted.
A success stores the new count (only if no concurrent sign-in with the same
key stored one as high: that one is refused the same way) and last_used_at.

**What the script sees.**  A response that was checked and does not prove
what it must (another origin or challenge, a bad signature, no user
verification where required, an unknown credential or someone else's, a
cloned key) is a *failed step* (step.failure), like a wrong password: it
counts against the account (when the user is known) and the client address
(authflow.directory.lockout), and the script's onFail decides (without one,
the page is shown again with the message).  *I cannot use a passkey now*
fails the step too (not counted: nothing was checked), so a user without
their key is never stuck.  What checked nothing is *shown again*
(ShowAgain, nothing journaled, a fresh challenge): no answer or one that
cannot be read, and a challenge that expired or was already used (a
replayed form).  At enrollment, a refused registration is counted and shown
again with its message (the user may retry, or choose *Not now*).

**Progressive enrollment** (the reference's passkey enrollment template).
On the first-step page a user without a passkey chooses *Create a passkey*:
the step fails (not counted: nothing was checked) with the request
parameter `scenario` = `INIT_FIDO_ENROLL`, which the script reads in onFail
(`context.request.params.scenario[0]`), signs the user in another way and
runs the passkey step again.  That step, once an earlier one verified the
user, honours the request: it registers a new passkey (even for a user who
has one already) instead of asking for one.  A later passkey step of the
same flow asks for a passkey again (the request was answered).

Challenges live server-side (authflow.passkeys.models.Ceremony), bound to
the flow and the position of the page that showed them, single use.
"""
from __future__ import annotations

import logging

from django.utils.translation import gettext_noop

from authflow.directory import lockout
from authflow.net import client_ip
from authflow.passkeys import ceremonies, service
from authflow.passkeys.models import Ceremony, Passkey

from .base import Authenticator, ShowAgain, Step

logger = logging.getLogger("authflow.passkeys")

WITHOUT = "without"  # the submit button's action: I cannot use a passkey now
# The submit button's action, and the request parameter the script reads: create a passkey (the reference's
# value; its older spelling is understood too).
ENROLL_REQUEST = "INIT_FIDO_ENROLL"
ENROLL_REQUESTS = (ENROLL_REQUEST, "INIT_FIDO_ENROL")
ENROLL_REQUESTED = gettext_noop("To create a passkey, sign in another way first.")
NO_PASSKEY = gettext_noop("No passkey was used.")
EXPIRED = gettext_noop("This passkey request expired or was already used. Try again.")
UNKNOWN = gettext_noop("This passkey is not registered here.")
NOT_YOURS = gettext_noop("This passkey is not registered for your account.")
ALREADY = gettext_noop("This passkey is already registered. Use it to sign in, or set up another one.")
class FIDOAuthenticator(Authenticator):
    name = "FIDOAuthenticator"
    display_name = gettext_noop("Security Key/Biometrics")
    identifies_user = True
    proves_identity = True
    template = "login/passkey.html"
    amr = "hwk"
    enrolls_during_login = True
    enroll_template = "login/passkey_enroll.html"

    def is_enrolled(self, user) -> bool:
        return service.has_passkey(user)

    def stays_after(self, error: str) -> bool:
        # "I cannot use a passkey now", "Create a passkey": back to the other ways
        return error not in (NO_PASSKEY, ENROLL_REQUESTED)

    def wants_enrollment(self, step: Step, user) -> bool:
        return not self.is_enrolled(user) or enrollment_requested(step)

    # ------------------------------------------------------------ signing in

    def context(self, request, step: Step) -> dict:
        rp = service.relying_party(request)
        if step.subject:
            subject = step.user
            allow = [(bytes(p.credential_id), p.transports) for p in service.passkeys_of(subject)] if subject else []
            verification = ceremonies.PREFERRED
        else:
            allow, verification = None, ceremonies.REQUIRED
        options, state = ceremonies.authentication_options(rp, allow=allow, user_verification=verification)
        ceremony = Ceremony.begin(Ceremony.Kind.AUTHENTICATE, state, flow_id=step.flow_id, position=step.position)
        return {"webauthn": {"mode": "get", "publicKey": options}, "ceremony_id": str(ceremony.pk),
                "usernameless": not step.subject, "enroll_request": ENROLL_REQUEST}

    def answer(self, request, step: Step) -> dict:
        if request.POST.get("action") == WITHOUT:
            logger.info("passkey step skipped by the user", extra={"flow_id": step.flow_id, "step": step.number})
            return step.failure(NO_PASSKEY)
        if request.POST.get("action") in ENROLL_REQUESTS and not step.subject:
            logger.info("passkey enrollment asked for", extra={"flow_id": step.flow_id, "step": step.number})
            return step.failure(ENROLL_REQUESTED, params={"scenario": [ENROLL_REQUEST]})
        ip = client_ip(request)
        if lockout.address_blocked(ip):
            return step.failure(lockout.NETWORK_BLOCKED)
        subject = step.user
        if subject is not None and lockout.locked_for(subject):
            return step.failure(lockout.locked_message(subject))
        state = Ceremony.take(request.POST.get("ceremony"), Ceremony.Kind.AUTHENTICATE, flow_id=step.flow_id,
                              position=step.position)
        if state is None:
            raise ShowAgain(EXPIRED)
        try:
            response = ceremonies.parse_json(request.POST.get("credential"))
            claim = ceremonies.read_assertion(response)
        except ceremonies.Malformed as exc:
            logger.info("unreadable passkey response", extra={"flow_id": step.flow_id, "detail": exc.detail})
            raise ShowAgain(str(exc)) from None
        passkey = Passkey.objects.select_related("user").filter(credential_id=claim.credential_id).first()
        if step.subject:
            if passkey is None or passkey.user.get_username() != step.subject or not passkey.user.is_active:
                reason = "unknown-credential" if passkey is None else "another-users-credential"
                return _refuse(request, step, step.subject, reason, NOT_YOURS, passkey)
        elif passkey is None or not passkey.user.is_active:
            return _refuse(request, step, None, "unknown-credential", UNKNOWN, None)
        user = passkey.user
        try:
            assertion = ceremonies.verify_assertion(service.relying_party(request), state, passkey.stored, response)
        except ceremonies.Refused as exc:
            return _refuse(request, step, user.get_username(), exc.reason, str(exc), passkey, **exc.details)
        if lockout.locked_for(user):  # said only to whoever holds the key (a first step knew no user before)
            return step.failure(lockout.locked_message(user))
        if not service.record_use(passkey, assertion):
            return _refuse(request, step, user.get_username(), "cloned", ceremonies.CLONED, passkey,
                           stored_count=passkey.sign_count, presented_count=assertion.sign_count, concurrent=True)
        lockout.record_success(user)
        logger.info("passkey sign-in", extra={
            "flow_id": step.flow_id, "step": step.number, "user": user.get_username(),
            "credential": passkey.fingerprint, "usernameless": not step.subject,
            "user_verified": assertion.user_verified})
        return step.success(user.get_username())

    # ------------------------------------------------------------ enrollment during a login

    def enroll_context(self, request, step: Step, user) -> dict:
        options, state = service.registration_options(service.relying_party(request), user)
        ceremony = Ceremony.begin(Ceremony.Kind.REGISTER, state, flow_id=step.flow_id, position=step.position,
                                  user=user)
        return {"webauthn": {"mode": "create", "publicKey": options}, "ceremony_id": str(ceremony.pk)}

    def enroll(self, request, step: Step, user) -> dict:
        state = Ceremony.take(request.POST.get("ceremony"), Ceremony.Kind.REGISTER, flow_id=step.flow_id,
                              position=step.position, user=user)
        if state is None:
            raise ShowAgain(EXPIRED)
        try:
            response = ceremonies.parse_json(request.POST.get("credential"))
            new = ceremonies.verify_registration(service.relying_party(request), state, response)
        except ceremonies.Malformed as exc:
            logger.info("unreadable passkey registration", extra={"flow_id": step.flow_id, "detail": exc.detail})
            raise ShowAgain(str(exc)) from None
        except ceremonies.Refused as exc:
            lockout.record_failure(user.get_username(), client_ip(request), flow_id=step.flow_id,
                                   authenticator=step.authenticator)
            logger.warning("passkey registration refused", extra={
                "flow_id": step.flow_id, "user": user.get_username(), "reason": exc.reason})
            raise ShowAgain(str(exc)) from None
        try:
            service.store(user, new, request.POST.get("name"), flow_id=step.flow_id)
        except service.AlreadyRegistered:
            logger.warning("passkey registration of a credential id already registered", extra={
                "flow_id": step.flow_id, "user": user.get_username()})
            raise ShowAgain(ALREADY) from None
        return step.success(user.get_username())


def enrollment_requested(step: Step) -> bool:
    """Whether the user's last answer to this authenticator in the flow asked to create a passkey."""
    return any(value in ENROLL_REQUESTS for value in step.last_request.get("scenario") or [])


def _refuse(request, step: Step, username: str | None, reason: str, message: str, passkey: Passkey | None,
            **details) -> dict:
    """A checked response that proves nothing: a failed attempt for the account (when known) and the address."""
    # With no known user only the address counts (no account has the empty username).
    lockout.record_failure(username or "", client_ip(request), flow_id=step.flow_id, authenticator=step.authenticator)
    logger.warning("possible cloned authenticator: passkey refused" if reason == "cloned" else "passkey refused",
                   extra={"flow_id": step.flow_id, "step": step.number, "user": username, "reason": reason,
                          "credential": passkey.fingerprint if passkey else None, **details})
    return step.failure(message)
