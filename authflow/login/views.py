"""The login pages' entry points: start a flow, show its command, take the answer, deliver the outcome.

request -> flow (authflow.flows.service) -> engine -> command -> page.  Every
way a request can be wrong (unknown application, unregistered redirect URI, a
tampered or foreign flow id, a finished or expired flow, a stale form) ends on
a page that says what happened and how to start again; never a 500, never a
redirect to an address that was not registered.
"""
from __future__ import annotations

import logging
import re
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model, login
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from authflow import ratelimit
from authflow.callbacks import service as callbacks
from authflow.directory import services as directory
from authflow.flows import service
from authflow.languages import choice as languages
from authflow.net import client_ip
from authflow.sso import service as sso
from sequences.api import browser_session_id, passed_steps, request_inputs, request_param, step_answer

from . import binding, delivery, error_urls, prompts, steps, targets, waiting

logger = logging.getLogger("authflow.login")

# Cookies of this service never reach scripts.
_OWN_COOKIES = {binding.COOKIE, settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME}


def problem(request, title: str, message: str, *, status: int, restart: str | None = None,
            detail: str | None = None):
    return render(request, "login/problem.html", {"title": title, "message": message, "restart": restart,
                                                  "detail": detail if request.user.is_staff else None}, status=status)


@never_cache
@require_http_methods(["GET"])
def start(request):
    """A login for one of our pages (or an application's authorization request): start its flow."""
    try:
        target = targets.from_next(request.GET.get("next", ""), reauthenticate=request.GET.get("reauthenticate") == "1")
    except targets.BadTarget as exc:
        return problem(request, exc.title, exc.message, status=400)
    return begin(request, target)


def begin(request, target: targets.Target):
    """Start the target's flow and answer with its first page (or its outcome, when no page is needed).

    The authorization endpoint calls this too (authflow.login.authorize): an
    application's login starts without a redirect of its own.
    """
    ip = client_ip(request)
    limit = settings.AUTHFLOW_FLOW_STARTS_PER_MINUTE
    if limit and ip and ratelimit.hit(f"authflow:flow-starts:{ip}", 60) > limit:
        # Each start runs the script and stores a flow: one address cannot make the server do it without end.
        logger.warning("login not started: too many from one address", extra={"ip": ip, "limit_per_minute": limit})
        response = problem(request, _("Too many sign-ins"), _("Too many sign-ins were started from your network. "
                                                                "Wait a minute, then try again."), status=429)
        response["Retry-After"] = "60"
        return response
    token, new_browser = binding.browser_token(request)
    inputs = request_inputs(
        ip=ip,
        headers={k: v for k, v in request.headers.items()},
        params=target.script_params,
        cookies={k: v for k, v in request.COOKIES.items() if k not in _OWN_COOKIES},
    )
    session = sso.flow_input(request, reuse="login" not in target.prompt, max_age=target.max_age)
    flow = service.start_flow(target.application, inputs, browser_hash=binding.digest(token),
                              return_to=target.return_to, session=session, claim_delivery=True,
                              known_user=_signed_in_user(request), version=target.script_version)
    flow = steps.settle(request, flow)
    if service.is_running(flow) and "none" in target.prompt:
        flow = _no_interaction(flow)
    if service.is_running(flow):
        response = HttpResponseRedirect(reverse("login-flow", args=[flow.id]))
    else:
        response = conclude(request, flow)
    if new_browser:
        binding.set_cookie(response, token, secure=request.is_secure())
        request.COOKIES[binding.COOKIE] = token  # so that the flow's headers and cookies go with this response
    # Nobody else knows this flow's id yet: only a call handed to a worker can move it under our feet.
    waits_for_call = service.is_running(flow) and (flow.pending or {}).get("type") == "call"
    return delivery.respond(request, flow.id, response, current=None if waits_for_call else flow)


def _signed_in_user(request):
    """The signed-in User (read by the authentication middleware in this request), or None."""
    user = request.user
    if not user.is_authenticated:
        return None
    return getattr(user, "_wrapped", user)  # the User itself, not the lazy object around it


def _no_interaction(flow):
    """prompt=none: the application asked not to show anything, and the flow needs the user."""
    needs_login = flow.pending["type"] == "step"
    return service.end_flow(flow, {"type": "fail", "reason": "prompt-none", "params": {
        "errorCode": "login_required" if needs_login else "interaction_required",
        "errorMessage": "Signing in needs the user." if needs_login else "The login needs the user's answer."}})


@never_cache
@csrf_exempt  # the flow's own form token (binding.form_token) protects these forms
@require_http_methods(["GET", "POST"])
def flow_page(request, flow_id):
    flow = service.get_flow(flow_id)
    if flow is not None:
        languages.use_for_flow(request, request_param(flow.state, "ui_locales"))
    response = _flow_page(request, flow)
    if flow is None:
        return response
    return delivery.respond(request, flow.id, response, current=_as_left(request, flow))


# The flow as continue_with() left it in this request (delivery.respond need not read it again).
_LEFT = "_authflow_flow_as_left"


def _as_left(request, flow):
    """The flow as this request left it, when nothing else can have moved it since; else None (read again).

    A GET that only showed the flow did not move it; continue_with() keeps the flow its round trip
    returned.  A flow waiting for a worker's call may move at any time.
    """
    left = getattr(request, _LEFT, None)
    if left is None and request.method == "GET" and getattr(request, "_authflow_answered_at_once", False) is False:
        left = flow
    if left is None or (service.is_running(left) and (left.pending or {}).get("type") == "call"):
        return None
    return left


def _flow_page(request, flow):
    if flow is None:
        return problem(request, _("This sign-in link is not valid"),
                       _("The link is incomplete or was changed. Go back to the application and sign in again."),
                       status=404)
    restart = targets.restart_url(flow)
    if not binding.matches(request, flow):
        return problem(request, _("Continue in the browser you started in"),
                       _("This sign-in was started in another browser (or its cookie was cleared)."),
                       status=403, restart=restart)
    if request.method == "POST" and not binding.form_token_is_valid(request, flow):
        return csrf_failure(request)
    if not service.is_running(flow):
        if request.method == "POST" or flow.concluded_at is not None:
            return _already_finished(request, flow)
        return conclude(request, flow)
    if service.is_expired(flow):
        return problem(request, _("This sign-in expired"), _("It was not finished in time."), status=410, restart=restart)
    if request.method == "POST":
        return submit(request, flow)
    return show(request, flow)


def show(request, flow):
    if flow.pending["type"] == "call":  # an outbound call is under way (authflow/outbound)
        return waiting.show(request, flow)
    if flow.pending["type"] == "prompt":
        return prompts.show(request, flow)
    try:
        return steps.show(request, flow)
    except steps.AnsweredAtOnce as answered:
        request._authflow_answered_at_once = True
        return continue_with(request, flow, answered.answer, flow.pending["position"])


def submit(request, flow):
    command = flow.pending
    if command["type"] == "call":  # nothing to answer while an outbound call is under way
        return waiting.show(request, flow)
    try:
        position = int(request.POST.get("position", ""))
    except ValueError:
        position = -1
    if position != command["position"]:
        return _out_of_date(request, flow)
    if command["type"] == "step" and request.POST.get("action") == "abort":
        answer, page = step_answer(command["step"], "abort"), None
    elif command["type"] == "step":
        try:
            answer, page = steps.answer(request, flow)
        except steps.AnsweredAtOnce as answered:
            answer, page = answered.answer, None
    else:
        answer, page = prompts.answer(request, flow)
    if page is not None:
        return page
    return continue_with(request, flow, answer, position)


def continue_with(request, flow, answer: dict, position: int):
    """Journal `answer` (a page's, or an identity provider's callback) and show what comes next."""
    try:
        flow = service.resume_flow(flow.id, answer, position=position, claim_delivery=True, read=flow,
                                   known_user=directory.checked_account(request, answer.get("user")))
    except service.StaleAnswer:
        return _out_of_date(request, flow)
    except service.WrongAnswer as exc:
        return problem(request, _("This answer does not fit"), str(exc), status=400,
                       restart=reverse("login-flow", args=[flow.id]))
    except service.FlowError as exc:
        return problem(request, _("This sign-in cannot continue"), str(exc), status=409,
                       restart=targets.restart_url(flow))
    flow = steps.settle(request, flow)
    setattr(request, _LEFT, flow)
    if service.is_running(flow):
        return HttpResponseRedirect(reverse("login-flow", args=[flow.id]))
    return conclude(request, flow)


def conclude(request, flow):
    """A finished flow, delivered once: sign in and return to where it started, or say why not."""
    if not service.mark_concluded(flow):
        return _already_finished(request, flow)
    result = flow.result or {}
    kind = result.get("type")
    if service.succeeded(flow):
        return _sign_in(request, flow)
    if kind == "fail":
        params = result.get("params", {})
        return targets.deliver_error(flow, params) or problem(
            request, _error_title(params), _error_message(params), status=403, restart=targets.restart_url(flow))
    if kind == "sendError":
        return _send_error(request, flow, result.get("url"), result.get("params", {}))
    detail = None
    if result.get("message"):
        where = f" (line {result['line']}, column {result['column']})" if result.get("line") else ""
        detail = f"{result['message']}{where}"
    return problem(request, _("Sign-in is not available right now"),
                   _("This application's sign-in script failed. The administrators can see why in the logs."),
                   status=503, restart=targets.restart_url(flow), detail=detail)


def _sign_in(request, flow):
    user = _subject(request, flow.subject)
    restart = targets.restart_url(flow)
    if user is None:
        return problem(request, _("This account cannot sign in"), _("The account does not exist or is disabled."),
                       status=403, restart=restart)
    passed = passed_steps(flow.state)
    if not any(steps.proves_identity(a) for a in passed):
        logger.error("a login finished without a step that checks a credential", extra={
            "flow_id": str(flow.id), "application": flow.application.name})
        return problem(request, _("This sign-in did not check who you are"),
                       _("The application's sign-in is set up wrongly. The administrators can see why in the logs."),
                       status=403, restart=restart,
                       detail="the script completed after steps that check no credential (such as IdentifierExecutor)")
    try:
        callbacks.after_login(request, flow, user)  # the application's onAuthenticateSuccess may refuse
    except callbacks.Refusal as exc:
        return targets.deliver_error(flow, {"errorCode": "access_denied", "errorMessage": exc.message}) or problem(
            request, _("Sign-in refused"), exc.message, status=403, restart=restart)
    current = sso.current(request)
    from_session = [a for a in passed if a["via"] == "session"]
    if from_session and (current is None or str(current.pk) != browser_session_id(flow.state)):
        return problem(request, _("Your session ended"),
                       _("You were signed out while this sign-in was in progress. Sign in again."),
                       status=409, restart=restart)
    interactive = [a for a in passed if a["via"] != "session"]
    same_user = request.user.is_authenticated and request.user.pk == user.pk
    if request.user.is_authenticated and not same_user:
        sso.end_current(request, "another user signed in")
    passed_here = [{"authenticator": a["authenticator"], "idp": a["idp"]} for a in interactive]
    if not same_user or interactive:
        # A new session key (no fixation); last_login becomes the ID token's auth_time.
        sso.signing_in_with(request, passed_here)  # a session this starts is inserted with them
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    session = sso.current(request)
    if session is not None:
        sso.record_flow(session, flow.application, flow.subject, passed_here, flow_id=flow.id)
    logger.info("signed in", extra={"flow_id": str(flow.id), "subject": flow.subject,
                                    "session_id": str(session.pk) if session else None})
    return targets.deliver_success(request, flow)


def _subject(request, username: str):
    """The active user `username`: the signed-in one when it is them (single sign-on), else from the directory."""
    if request.user.is_authenticated and request.user.get_username() == username and request.user.is_active:
        return request.user  # read by the authentication middleware in this request
    checked = directory.checked_account(request, username)  # whose password this request checked
    if checked is not None:
        # The script's effects since the check may have changed the row (updateUserPassword: the session's
        # hash must come from the new password, or the next request signs the user out).
        checked.refresh_from_db(fields=["password", "is_active"])
        return checked if checked.is_active else None
    return get_user_model().objects.filter(username=username, is_active=True).first()


def _already_finished(request, flow):
    return problem(request, _("This sign-in is already finished"),
                   _("The form was sent, or the link opened, after the sign-in ended."), status=409,
                   restart=targets.restart_url(flow))


def _out_of_date(request, flow):
    return problem(request, _("This page is out of date"),
                   _("The sign-in moved on (in another tab, or the form was sent twice)."), status=409,
                   restart=reverse("login-flow", args=[flow.id]))


def _send_error(request, flow, url: str | None, params: dict):
    """sendError(): a relative URL or an allow-listed one; anything else shows our own error page."""
    target = error_urls.redirect_url(url or reverse("login-error"))
    if target is not None:
        if params:
            target += ("&" if "?" in target else "?") + urlencode(params)
        return HttpResponseRedirect(target)
    logger.warning("sendError to a URL outside the allow-list was not followed",
                   extra={"flow_id": str(flow.id), "url": str(url).split("?")[0][:200]})
    return problem(request, _error_title(params), _error_message(params), status=403, restart=targets.restart_url(flow))


# What a script's error parameters may put on the page (as text: the template escapes it), capped.
MAX_ERROR_TITLE = 100
MAX_ERROR_MESSAGE = 500
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def _error_text(value, limit: int) -> str:
    text = " ".join(_CONTROL.sub(" ", str(value or "")).split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _error_title(params) -> str:
    """The reference's error page puts sendError's `status` as its heading."""
    return _error_text(params.get("status"), MAX_ERROR_TITLE) or _("Sign-in refused")


def _error_message(params) -> str:
    """sendError's `statusMsg` (the reference's error page), or the error message fail() and others pass."""
    for name in ("statusMsg", "errorMsg", "errorMessage", "error_description"):
        text = _error_text(params.get(name), MAX_ERROR_MESSAGE)
        if text:
            return text
    return _("The sign-in was refused.")


@never_cache
@require_http_methods(["GET"])
def error_page(request):
    """Where sendError(null, params) lands (and relative error URLs may point)."""
    code = (request.GET.get("errorcode") or request.GET.get("errorCode") or "")[:100]
    return render(request, "login/problem.html", {"title": _error_title(request.GET), "message": _error_message(request.GET),
                                                  "code": code}, status=403)


@never_cache
@require_http_methods(["GET"])
def admin_login(request):
    """The admin console signs in through a login flow too (lockout, the account application's script)."""
    next_url = request.GET.get("next", "")
    if not next_url.startswith(("/admin/", "/console/")) or "\\" in next_url or next_url.startswith("//"):
        next_url = "/admin/"
    if request.user.is_authenticated and not request.user.is_staff:
        return problem(request, _("Not an administrator"),
                       _("Your account cannot use the administration console."), status=403)
    return HttpResponseRedirect(reverse("login-start") + "?" + urlencode({"next": next_url}))


def csrf_failure(request, reason=""):
    return problem(request, _("This form expired"),
                   _("For your security the form could not be accepted. Reload the page and try again."), status=403)
