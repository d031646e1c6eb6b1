"""What an authenticator is: a page for one step of a flow, and the answer it gives the script.

An authenticator sees the step it serves as a `Step` (who is already known,
its authenticatorParams, the previous error) and turns a browser submission
into a step answer for the engine.  It never touches the flow itself: the
login pages journal its answer (authflow.login).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from django.contrib.auth import get_user_model

from sequences.api import step_answer


class ShowAgain(Exception):
    """The submission cannot answer the step yet: show the page again with this message (nothing is journaled)."""


class ShowPage(Exception):
    """The submission leads to another page of the same step (e.g. "check your email"); nothing is journaled.

    The page gets the step's usual context plus `context`; its form posts to
    the flow like any step page.
    """

    def __init__(self, template: str, context: dict | None = None):
        super().__init__(template)
        self.template = template
        self.context = context or {}


@dataclass(frozen=True)
class Step:
    """One step of a flow, as the authenticator chosen for it sees it."""

    flow_id: str
    number: int
    authenticator: str
    # The name of the application the user signs in to (for the pages and the emails).
    application: str = ""
    idp: str = "LOCAL"
    # The user earlier steps identified; an authenticator that cannot identify
    # users verifies this one.
    subject: str | None = None
    # Whether an earlier step checked a credential of `subject` (not only an
    # identifier): only then may the user set up a missing authenticator.
    subject_verified: bool = False
    # This authenticator's authenticatorParams: `common`, overridden by `local[name]`.
    params: dict = field(default_factory=dict)
    attempt: int = 1
    error: str | None = None
    # The command's position in the flow (what the page's form answers): binds per-page state such as a
    # WebAuthn challenge to this page.
    position: int = 0
    # The identifier to suggest: what the user typed in a failed attempt, else the application's login_hint.
    login_hint: str = ""
    # The request parameters of this authenticator's newest answer in the flow (what the user last asked of it,
    # e.g. to enroll a passkey); {} when it has not answered yet.
    last_request: dict = field(default_factory=dict)

    @cached_property
    def user(self):
        """The active account of `subject`, or None; read once per request however many parts ask."""
        if not self.subject:
            return None
        return get_user_model().objects.filter(username=self.subject, is_active=True).first()

    def success(self, user: str, params: dict | None = None) -> dict:
        return step_answer(self.number, "success", user=user, authenticator=self.authenticator, idp=self.idp,
                           params=params)

    def failure(self, error: str, params: dict | None = None, *, user: str | None = None) -> dict:
        """A failed attempt; `user` names the existing account it was for (the script's context.lastLoginFailedUser)."""
        return step_answer(self.number, "fail", user=user, authenticator=self.authenticator, idp=self.idp,
                           params=params, error=error)

    def param(self, name: str, default=None):
        return self.params.get(name, default)


class Authenticator:
    """Base class of authenticator plugins; subclasses set the attributes and override what they need."""

    name: str = ""
    display_name: str = ""
    # True when it can find out who the user is (a first step); False when it
    # verifies a user an earlier step identified.
    identifies_user: bool = False
    # False for steps that do not check any credential (identifier first,
    # active sessions limit): a login must pass at least one that does.
    proves_identity: bool = True
    # The page's template; it receives `step`, `form_token`, `position` and what context() adds.
    template: str = ""
    # Its authentication method reference (RFC 8176) for the ID token's amr claim, if it checks a credential.
    amr: str = ""

    # A user who is not enrolled may set this authenticator up during a login,
    # once an earlier step of that login checked who they are; else the step
    # says it is not set up, and fails (the script's onFail decides).
    enrolls_during_login: bool = False
    enroll_template: str = ""

    def is_enrolled(self, user) -> bool:
        """Whether `user` has what this authenticator checks (a password, a device...)."""
        return True

    def wants_enrollment(self, step: Step, user) -> bool:
        """Whether the step shows the enrollment page to `user` (whom an earlier step verified): when they
        have not set it up, or (authenticators that allow it) when they asked to set up another."""
        return not self.is_enrolled(user)

    def enroll_context(self, request, step: Step, user) -> dict:
        """What the enrollment page needs."""
        return {}

    def enroll(self, request, step: Step, user) -> dict:
        """Set up the authenticator from the enrollment page's submission; the step answer (or ShowAgain)."""
        raise NotImplementedError

    def silent_answer(self, request, step: Step) -> dict | None:
        """An answer without showing a page (e.g. nothing to ask), or None to show the page."""
        return None

    def context(self, request, step: Step) -> dict:
        """What the page needs besides the step."""
        return {}

    def answer(self, request, step: Step) -> dict:
        """The step answer for the page's submission; raise ShowAgain to show the page again."""
        raise NotImplementedError

    def stays_after(self, error: str) -> bool:
        """Whether the step shown again after this page's failed answer (`error`) comes back to this page
        (a wrong password or code: try again) rather than to the step's options (the user chose to give up)."""
        return True


def username_field(request) -> str:
    """The submitted username, trimmed to what a username can be."""
    return request.POST.get("username", "").strip()[:150]
