"""The login pages: start a flow from an authorization request, show its command, take the answer.

request -> flow (authflow.flows.service) -> engine -> command -> page.  Every
way a request can be wrong (unknown application, unregistered redirect URI, a
tampered or foreign flow id, a finished or expired flow, a stale form) ends on
a page that says what happened and how to start again; never a 500, never a
redirect to an address that was not registered.
"""
from __future__ import annotations

import logging
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model, login
from django.http import HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from authflow.applications.models import Application
from authflow.authenticators import registry
from authflow.flows import service
from authflow.flows.models import LoginFlow
from authflow.protocols.oidc import sessions
from sequences.api import prompt_answer, request_inputs, step_answer

from . import binding

logger = logging.getLogger("authflow.login")

# Cookies of this service never reach scripts.
_OWN_COOKIES = {binding.COOKIE, settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME}
# Authorization request parameters a script may read as context.request.params.
_SCRIPT_PARAMS = {"client_id", "scope", "login_hint", "acr_values", "prompt", "max_age", "ui_locales", "response_type",
                  "redirect_uri", "state"}


def problem(request, title: str, message: str, *, status: int, restart: str | None = None,
            detail: str | None = None):
    return render(request, "login/problem.html", {"title": title, "message": message, "restart": restart,
                                                  "detail": detail if request.user.is_staff else None}, status=status)


@never_cache
@require_http_methods(["GET"])
def start(request):
    """An authorization request for an application that must authenticate the user: start its flow."""
    authorize_path = reverse("oauth2_provider:authorize")
    next_url = request.GET.get("next", "")
    target = urlsplit(next_url)
    if target.scheme or target.netloc or target.path != authorize_path:
        return problem(request, "This sign-in link is not valid",
                       "Sign-in must start from the application you want to use.", status=400)
    params = QueryDict(target.query)
    application = Application.objects.filter(client_id=params.get("client_id", "")).first()
    if application is None:
        return problem(request, "Unknown application",
                       "The application that sent you here is not registered with this server.", status=400)
    redirect_uri = params.get("redirect_uri", "")
    if redirect_uri not in application.redirect_uris:
        # Never redirect to an address the application did not register.
        return problem(request, "This sign-in request is not valid",
                       "The application asked to return you to an address it has not registered.", status=400)

    token, new_browser = binding.browser_token(request)
    inputs = request_inputs(
        ip=request.META.get("REMOTE_ADDR"),
        headers={k: v for k, v in request.headers.items()},
        params={k: params.getlist(k) for k in params if k in _SCRIPT_PARAMS},
        cookies={k: v for k, v in request.COOKIES.items() if k not in _OWN_COOKIES},
    )
    flow = service.start_flow(application, inputs, browser_hash=binding.digest(token), return_to={
        "protocol": "oidc", "next": next_url, "redirect_uri": redirect_uri, "state": params.get("state"),
        "client_id": application.client_id})
    response = HttpResponseRedirect(reverse("login-flow", args=[flow.id]))
    if new_browser:
        binding.set_cookie(response, token, secure=request.is_secure())
    return response


@never_cache
@csrf_exempt  # the flow's own form token (binding.form_token) protects these forms
@require_http_methods(["GET", "POST"])
def flow_page(request, flow_id):
    flow = service.get_flow(flow_id)
    if flow is None:
        return problem(request, "This sign-in link is not valid",
                       "The link is incomplete or was changed. Go back to the application and sign in again.",
                       status=404)
    restart = flow.return_to.get("next")
    if not binding.matches(request, flow):
        return problem(request, "Continue in the browser you started in",
                       "This sign-in was started in another browser (or its cookie was cleared).",
                       status=403, restart=restart)
    if service.is_expired(flow):
        return problem(request, "This sign-in expired", "It was not finished in time.", status=410, restart=restart)
    if request.method == "POST" and not binding.form_token_is_valid(request, flow):
        return csrf_failure(request)
    if flow.status != LoginFlow.Status.RUNNING:
        if request.method == "POST":
            return problem(request, "This sign-in is already finished",
                           "The form was sent after the sign-in ended.", status=409, restart=restart)
        return conclude(request, flow)
    if request.method == "POST":
        return submit(request, flow)
    return show(request, flow)


def show(request, flow, *, error: str | None = None):
    command = flow.pending
    context = {"flow": flow, "command": command, "position": command["position"], "error": error,
               "application": flow.application, "form_token": binding.form_token(request, flow)}
    if command["type"] == "prompt":
        data = command.get("data") or {}
        context["inputs"] = [i for i in data.get("inputs", []) if isinstance(i, dict) and i.get("id")]
        context["data"] = data
        return render(request, "login/prompt.html", context)
    options = command["options"]
    if command.get("error"):
        context["error"] = error or command["error"]
    chosen = _chosen_option(request, options)
    if chosen is None:
        context["options"] = [{"index": i, "option": o, "label": _label(o)} for i, o in enumerate(options)]
        return render(request, "login/choose.html", context)
    option = options[chosen]
    context["option_index"] = chosen
    context["several_options"] = len(options) > 1
    authenticator = registry.get(option.get("authenticator") or "")
    page = authenticator.page() if authenticator else None
    if page is None:
        context["label"] = _label(option)
        return render(request, "login/unavailable.html", context)
    context["login_hint"] = _username_hint(flow, command)
    return render(request, page.TEMPLATE, context)


def _username_hint(flow, command) -> str:
    """After a failed attempt, the username typed then; before, the application's login_hint."""
    answers = flow.state["journal"]["answers"]
    last = answers[-1] if answers else {}
    if command.get("attempt") and last.get("k") == "step" and last.get("step") == command["step"]:
        typed = (last.get("params") or {}).get("username") or [""]
        if typed[0]:
            return typed[0]
    return (flow.state["inputs"]["request"]["params"].get("login_hint") or [""])[0]


def submit(request, flow):
    command = flow.pending
    try:
        position = int(request.POST.get("position", ""))
    except ValueError:
        position = -1
    if command["type"] == "prompt":
        action = request.POST.get("action", "success")
        params = {k: request.POST.getlist(k) for k in request.POST if k not in {"form_token", "position", "action"}}
        answer = prompt_answer(command["templateId"], action if action.isidentifier() else "success", params)
    elif request.POST.get("action") == "abort":
        answer = step_answer(command["step"], "abort")
    else:
        options = command["options"]
        chosen = _chosen_option(request, options, source=request.POST)
        authenticator = registry.get(options[chosen].get("authenticator") or "") if chosen is not None else None
        page = authenticator.page() if authenticator else None
        if page is None:
            return show(request, flow, error="Choose one of the ways to sign in.")
        answer = page.answer(request, command)
        if options[chosen].get("idp", "LOCAL") != "LOCAL":
            answer["idp"] = options[chosen]["idp"]
    try:
        flow = service.resume_flow(flow.id, answer, position=position)
    except service.StaleAnswer:
        flow.refresh_from_db()
        return problem(request, "This page is out of date",
                       "The sign-in moved on (in another tab, or the form was sent twice).", status=409,
                       restart=reverse("login-flow", args=[flow.id]))
    except service.WrongAnswer as exc:
        return problem(request, "This answer does not fit", str(exc), status=400,
                       restart=reverse("login-flow", args=[flow.id]))
    except service.FlowError as exc:
        return problem(request, "This sign-in cannot continue", str(exc), status=409,
                       restart=flow.return_to.get("next"))
    if flow.status == LoginFlow.Status.RUNNING:
        return HttpResponseRedirect(reverse("login-flow", args=[flow.id]))
    return conclude(request, flow)


def conclude(request, flow):
    """A finished flow: sign in and return to the application, or say why not."""
    result = flow.result or {}
    kind = result.get("type")
    if flow.status == LoginFlow.Status.SUCCEEDED:
        user = get_user_model().objects.filter(username=flow.subject, is_active=True).first()
        if user is None:
            return problem(request, "This account cannot sign in", "The account is disabled.", status=403)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")  # new session key
        sessions.record_login(request.session, flow.return_to.get("client_id", ""), str(flow.id))
        return HttpResponseRedirect(flow.return_to["next"])
    if kind == "fail":
        return _error_to_application(flow, result.get("params", {}))
    if kind == "sendError":
        return _send_error(request, flow, result.get("url"), result.get("params", {}))
    detail = None
    if result.get("message"):
        where = f" (line {result['line']}, column {result['column']})" if result.get("line") else ""
        detail = f"{result['message']}{where}"
    return problem(request, "Sign-in is not available right now",
                   "This application's sign-in script failed. The administrators can see why in the logs.",
                   status=503, restart=flow.return_to.get("next"), detail=detail)


def _error_to_application(flow, params: dict):
    """fail(): back to the application's registered redirect URI with an OAuth error."""
    query = {"error": params.get("errorCode") or "access_denied"}
    if params.get("errorMessage"):
        query["error_description"] = params["errorMessage"]
    if params.get("errorURI"):
        query["error_uri"] = params["errorURI"]
    if flow.return_to.get("state"):
        query["state"] = flow.return_to["state"]
    target = flow.return_to["redirect_uri"]
    return HttpResponseRedirect(target + ("&" if "?" in target else "?") + urlencode(query))


def _send_error(request, flow, url: str | None, params: dict):
    """sendError(): a relative URL or an allow-listed one; anything else shows our own error page."""
    if not url:
        url = reverse("login-error")
    if _safe_error_url(url):
        if params:
            url += ("&" if "?" in url else "?") + urlencode(params)
        return HttpResponseRedirect(url)
    logger.warning("sendError to a URL outside the allow-list was not followed",
                   extra={"flow_id": str(flow.id), "url": url[:200]})
    return problem(request, "Sign-in refused", _error_message(params), status=403, restart=flow.return_to.get("next"))


def _error_message(params) -> str:
    return (params.get("errorMsg") or params.get("errorMessage") or params.get("error_description")
            or "The sign-in was refused.")[:500]


@never_cache
@require_http_methods(["GET"])
def error_page(request):
    """Where sendError(null, params) lands (and relative error URLs may point)."""
    code = (request.GET.get("errorcode") or request.GET.get("errorCode") or "")[:100]
    return render(request, "login/problem.html", {"title": "Sign-in refused", "message": _error_message(request.GET),
                                                  "code": code}, status=403)


def _safe_error_url(url: str) -> bool:
    parts = urlsplit(url)
    if not parts.scheme and not parts.netloc and url.startswith("/") and not url.startswith("//") and "\\" not in url:
        return True
    return any(url.startswith(prefix) for prefix in settings.AUTHFLOW_ERROR_URL_ALLOW_LIST)


def _chosen_option(request, options, source=None):
    if len(options) == 1:
        return 0
    raw = (source if source is not None else request.GET).get("option", "")
    return int(raw) if raw.isdigit() and int(raw) < len(options) else None


def _label(option: dict) -> str:
    authenticator = registry.get(option.get("authenticator") or "")
    if option.get("idp", "LOCAL") != "LOCAL":
        return f"Sign in with {option['idp']}"
    return authenticator.display_name if authenticator else option.get("authenticator") or "?"


def csrf_failure(request, reason=""):
    return problem(request, "This form expired",
                   "For your security the form could not be accepted. Reload the page and try again.", status=403)
