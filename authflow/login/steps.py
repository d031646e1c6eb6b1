"""A step's page: the option the user chose, shown and answered by its authenticator.

A step offering several options first asks which one (the options are those
the script left after `authenticationOptions` filtering); a step with one
option shows it at once.  A step shown again after a failed try stays on the
option that was tried, with its error and the username typed (?choose goes
back to the list); once an earlier step checked who the user is, the list
asks for a second way to sign in.  An authenticator may answer without a page
(`silent_answer`), and the login pages then move on by themselves (`settle`).

A known user who has not set the authenticator up (`is_enrolled`) sets it up
here when it allows that and an earlier step checked who they are;
otherwise the page says it is not set up and the step fails, so the
script's onFail decides what comes next.  Before any credential was
checked the ordinary page is shown, so that it tells nothing about the
account.
"""
from __future__ import annotations

from django.shortcuts import render
from django.utils.translation import gettext, gettext_noop

from authflow.authenticators import registry
from authflow.authenticators.base import ShowAgain, ShowPage, Step
from authflow.federation import providers as federation
from authflow.federation.oidc import ProviderError
from authflow.federation.redirect import redirect_out
from authflow.flows import service
from sequences.api import last_step_answer, latest_answer_params, passed_steps, request_param

from . import binding

NOT_ENROLLED = "not_enrolled"
CHOOSE = "choose"  # the query parameter of "Choose another way to sign in"
# Steps answered without a page, one after another, in one request at most.
MAX_SILENT_STEPS = 16


def chosen_option(options: list[dict], raw: str | None) -> int | None:
    if len(options) == 1:
        return 0
    raw = raw or ""
    return int(raw) if raw.isdigit() and int(raw) < len(options) else None


def proves_identity(passed: dict) -> bool:
    """Whether a step passed (sequences.api.passed_steps) checked a credential (or a session where one was)."""
    if passed.get("via") == "session" or passed.get("idp", "LOCAL") != "LOCAL":
        return True
    authenticator = registry.get(passed.get("authenticator"))
    return authenticator is not None and authenticator.proves_identity


def retried_option(flow, command: dict) -> int | None:
    """The option whose failed try brought this step back, when its page is to be shown again; else None."""
    last = last_step_answer(flow.state)
    if not command.get("attempt") or last is None or last["step"] != command["step"] or last["result"] == "success":
        return None
    for index, option in enumerate(command["options"]):
        if (option.get("authenticator"), option.get("idp") or "LOCAL") == (last["authenticator"], last["idp"]):
            authenticator = registry.get(last["authenticator"]) if last["idp"] == "LOCAL" else None
            error = command.get("error") or ""
            if error == not_set_up(option) or (authenticator is not None and not authenticator.stays_after(error)):
                return None
            return index
    return None


def not_set_up(option: dict) -> str:
    """The error of a step failed because the user has not set up the option (its page offers the others).

    In English, whatever the page's language: the journal keeps it, and retried_option compares it; the page
    shows it translated (_shown_error).
    """
    return f"{label(option, translated=False)} is not set up for your account."


def _shown_error(error: str | None, command: dict) -> str | None:
    for option in command["options"]:
        if error and error == not_set_up(option):
            return gettext("%(label)s is not set up for your account.") % {"label": label(option)}
    return error


def _subject_verified(flow, command: dict) -> bool:
    """Whether an earlier step checked a credential of the user this step is for."""
    subject = command.get("subject")
    return bool(subject) and any(
        passed["user"] == subject and proves_identity(passed) for passed in passed_steps(flow.state))


def _previous_error(flow, command: dict, index: int | None) -> str | None:
    """The failed try's error: on the page of the option tried, else on the list (or the step's only option)."""
    shown_on = retried_option(flow, command)
    if shown_on is None and len(command["options"]) == 1:
        shown_on = 0
    return command.get("error") if index == shown_on else None


def step_of(flow, command: dict, index: int) -> Step:
    option = command["options"][index]
    name = option.get("authenticator") or ""
    idp = option.get("idp") or "LOCAL"
    given = command.get("authenticatorParams") or {}
    params = dict(given.get("common") or {})
    specific = (given.get("local") or {}).get(name) if idp == "LOCAL" else (given.get("federated") or {}).get(idp)
    params.update(specific or {})
    subject = command.get("subject")
    if federation.is_remote_identity(subject):
        subject = None  # a remote identity has no local credentials: a later local step asks who the user is
    return Step(flow_id=str(flow.id), number=command["step"], authenticator=name, idp=idp,
                application=flow.application.name, subject=subject,
                subject_verified=_subject_verified(flow, command), params=params, attempt=command.get("attempt", 1),
                error=_previous_error(flow, command, index), login_hint=_login_hint(flow, command),
                position=command["position"], last_request=latest_answer_params(flow.state, name) if idp == "LOCAL" else {})


def silent_answer(request, flow) -> dict | None:
    """An answer for the pending step that needs no page, if its only option gives one."""
    command = flow.pending or {}
    if command.get("type") != "step" or len(command["options"]) != 1:
        return None
    authenticator = registry.get(command["options"][0].get("authenticator"))
    if authenticator is None or command["options"][0].get("idp", "LOCAL") != "LOCAL":
        return None
    return authenticator.silent_answer(request, step_of(flow, command, 0))


def settle(request, flow):
    """Answer the steps that need no page (e.g. an active sessions limit not reached), until one does."""
    for _ in range(MAX_SILENT_STEPS):
        if not service.is_running(flow):
            break
        answer = silent_answer(request, flow)
        if answer is None:
            break
        try:
            flow = service.resume_flow(flow.id, answer, position=flow.pending["position"], read=flow)
        except service.FlowError:
            flow = service.reload(flow)
            break
    return flow


def _context(request, flow, error: str | None, index: int | None) -> dict:
    command = flow.pending
    return {"flow": flow, "application": flow.application, "command": command, "position": command["position"],
            "form_token": binding.form_token(request, flow),
            "error": _shown_error(error or _previous_error(flow, command, index), command),
            "several_options": len(command["options"]) > 1}


def show(request, flow, *, error: str | None = None, index: int | None = None, status: int = 200):
    command = flow.pending
    options = command["options"]
    if index is None:
        index = chosen_option(options, request.GET.get("option"))
    if index is None and CHOOSE not in request.GET:
        index = retried_option(flow, command)
    context = _context(request, flow, error, index)
    if index is None:
        context["options"] = [{"index": i, "label": label(o)} for i, o in enumerate(options)]
        context["second_factor"] = _subject_verified(flow, command)
        context["subject"] = command.get("subject")
        return render(request, "login/choose.html", context, status=status)
    step = step_of(flow, command, index)
    authenticator = registry.get(step.authenticator) if step.idp == "LOCAL" else None
    context.update(option_index=index, step=step, label=label(options[index]))
    if step.idp != "LOCAL" and federation.enabled(step.idp) is not None:
        return _federated(request, flow, step, index, context, status)
    if authenticator is None or not authenticator.template:
        return render(request, "login/unavailable.html", context, status=status)
    user = _unenrolled_user(authenticator, step)
    if user is not None:
        if authenticator.enrolls_during_login:
            context.update(authenticator.enroll_context(request, step, user))
            return render(request, authenticator.enroll_template, context, status=status)
        return render(request, "login/not_enrolled.html", context, status=status)
    context.update(authenticator.context(request, step))
    return render(request, authenticator.template, context, status=status)


class AnsweredAtOnce(Exception):
    """Showing the step answered it instead (a provider that cannot be reached fails it): journal `answer`."""

    def __init__(self, answer: dict):
        super().__init__("the step was answered while it was shown")
        self.answer = answer


def _federated(request, flow, step: Step, index: int, context: dict, status: int):
    """A step option served by an identity provider: off to it at once, unless a failed try is to be shown first.

    A provider that cannot be reached fails the step (the script's onFail decides), like an error it returns.
    """
    provider = federation.enabled(step.idp)
    if context["error"] and "retry" not in request.GET:
        return render(request, "login/federated_failed.html", context, status=status)
    try:
        return redirect_out(request, flow, step, index, provider)
    except ProviderError as exc:
        raise AnsweredAtOnce(step.failure(gettext("%(label)s cannot be used right now: %(reason)s.")
                                          % {"label": provider.label, "reason": exc})) from None


def answer(request, flow):
    """The answer to journal for the submitted step page, or (None, a page to show again)."""
    command = flow.pending
    index = chosen_option(command["options"], request.POST.get("option"))
    if index is None:
        return None, show(request, flow, error=gettext_noop("Choose one of the ways to sign in."), status=400)
    step = step_of(flow, command, index)
    authenticator = registry.get(step.authenticator) if step.idp == "LOCAL" else None
    if authenticator is None or not authenticator.template:
        return None, show(request, flow, error=gettext_noop("This way of signing in is not available."), index=index, status=400)
    user = _unenrolled_user(authenticator, step)
    try:
        if user is None:
            return authenticator.answer(request, step), None
        if authenticator.enrolls_during_login and request.POST.get("action") != NOT_ENROLLED:
            return authenticator.enroll(request, step, user), None
        return step.failure(not_set_up(command["options"][index])), None
    except ShowAgain as exc:
        return None, show(request, flow, error=str(exc), index=index)
    except ShowPage as page:
        context = _context(request, flow, None, index)
        context.update(option_index=index, step=step, label=label(command["options"][index]), error=None,
                       **page.context)
        return None, render(request, page.template, context)


def _unenrolled_user(authenticator, step: Step):
    """The step's user when they have not set up `authenticator` and may be told so, else None."""
    if not step.subject or not step.subject_verified:
        return None
    user = step.user
    if user is None or not authenticator.wants_enrollment(step, user):
        return None
    return user


def label(option: dict, *, translated: bool = True) -> str:
    """The option's name, in the page's language (or in English: not_set_up)."""
    say = gettext if translated else (lambda text: text)
    if option.get("idp", "LOCAL") != "LOCAL":
        provider = federation.enabled(option["idp"])
        name = provider.label if provider else option["idp"]
        return say(gettext_noop("Sign in with %(provider)s")) % {"provider": name}
    return say(registry.display_name(option.get("authenticator") or ""))


def _login_hint(flow, command) -> str:
    """After a failed attempt, the username typed then; before, the application's login_hint."""
    last = last_step_answer(flow.state)
    if command.get("attempt") and last is not None and last["step"] == command["step"]:
        typed = last["params"].get("username") or [""]
        if typed[0]:
            return typed[0]
    return request_param(flow.state, "login_hint")[:150]
