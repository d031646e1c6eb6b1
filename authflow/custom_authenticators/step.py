"""A custom authenticator as a login step: the page collects the payload, the authentication script decides.

The step verifies the user an earlier step identified (the registration is
that user's). The page has one field, `request_payload`; integrators who
collect the payload with their own JavaScript (a card reader, a partner app)
override the template `login/custom_authenticator.html` and fill that field.
"""
from __future__ import annotations

from django.utils.translation import gettext, gettext_noop

from authflow.authenticators.base import Authenticator, ShowAgain, Step

from . import services
from . import status as codes
from .models import CustomAuthenticator, Registration

NOT_IDENTIFIED = gettext_noop("Sign in with another method first: this one confirms who you are.")


def step_plugin(name: str | None) -> CustomAuthenticatorStep | None:
    authenticator = services.enabled_authenticator(name) if name else None
    return CustomAuthenticatorStep(authenticator) if authenticator is not None else None


def authenticator_names() -> list[str]:
    return list(CustomAuthenticator.objects.filter(enabled=True).values_list("name", flat=True))


class CustomAuthenticatorStep(Authenticator):
    identifies_user = False
    proves_identity = True
    template = "login/custom_authenticator.html"

    def __init__(self, authenticator: CustomAuthenticator):
        self.authenticator = authenticator
        self.name = authenticator.name
        self.display_name = authenticator.display_name

    def is_enrolled(self, user) -> bool:
        return Registration.objects.filter(user=user, authenticator=self.authenticator).exists()

    def context(self, request, step: Step) -> dict:
        return {"authenticator_display_name": self.display_name}

    def answer(self, request, step: Step) -> dict:
        user = step.user
        if user is None:
            return step.failure(NOT_IDENTIFIED)
        payload = request.POST.get("request_payload", "")
        if not payload:
            raise ShowAgain(gettext("Fill in %(name)s.") % {"name": self.display_name})
        if services.payload_problem(payload):
            raise ShowAgain(gettext("That is too long for %(name)s.") % {"name": self.display_name})
        outcome = services.authenticate(self.authenticator, user, payload)
        if outcome.succeeded:
            return step.success(user.get_username())
        return step.failure(_message(self.display_name, outcome), user=user.get_username())


def _message(display_name: str, outcome: services.Outcome) -> str:
    if outcome.error == services.RATE_LIMITED:
        return gettext_noop("Too many attempts. Try again in a minute.")
    if outcome.status == codes.FAILURE and not outcome.registration_removed:
        left = outcome.remaining_attempts
        refused = gettext("%(name)s did not accept that.") % {"name": display_name}
        return refused if left is None else refused + " " + gettext("Attempts left: %(left)d.") % {"left": left}
    if outcome.status in (codes.NOT_REGISTERED, codes.NON_RECOVERABLE, codes.FAILURE):
        return gettext("%(name)s is not set up for your account. Register it in the app first.") % {"name": display_name}
    return gettext("%(name)s is not available right now.") % {"name": display_name}
