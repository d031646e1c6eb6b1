"""Where a login flow comes from and where its outcome goes.

A flow starts from an OpenID Connect authorization request of a registered
application, or from a page of this server (the account page, the admin
console), which signs in through the application named by
AUTHFLOW_ACCOUNT_APPLICATION (authflow.configuration.account): its script
decides how people sign in here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.http import HttpResponseRedirect
from django.utils.translation import gettext_noop

from authflow.applications.models import Application
from authflow.callbacks import service as callbacks
from authflow.configuration.account import account_application
from authflow.configuration.schema import ConfigError
from authflow.protocols.oidc import authorization_requests, authorizations

LOCAL_PREFIXES = ("/account/", "/admin/", "/console/")


class BadTarget(ValueError):
    def __init__(self, title: str, message: str):
        super().__init__(message)
        self.title = title
        self.message = message


@dataclass(frozen=True)
class Target:
    application: Application
    return_to: dict  # stored with the flow (LoginFlow.return_to)
    script_params: dict = field(default_factory=dict)
    prompt: frozenset = frozenset()
    max_age: int | None = None
    script_version: object = None  # the application's live script version, read with it (None: read at start)


def from_next(next_url: str, *, reauthenticate: bool = False) -> Target:
    """The target a login started with ?next=... returns to; raises BadTarget.

    `reauthenticate` (our own pages only): the session answers no step, the
    user proves who they are again (before changing how they sign in).
    """
    if _is_local(next_url):
        try:
            application = account_application()
        except ConfigError as exc:
            raise BadTarget(gettext_noop("Signing in here is not set up"),
                            f"The application {settings.AUTHFLOW_ACCOUNT_APPLICATION!r}, whose script decides how "
                            f"people sign in to this server's own pages, cannot be created: {exc}") from None
        return Target(application=application, return_to={"protocol": "local", "next": next_url},
                      prompt=frozenset({"login"}) if reauthenticate else frozenset())
    try:
        request = authorization_requests.parse(next_url)
    except authorization_requests.InvalidRequest as exc:
        raise BadTarget(exc.title, exc.message) from None
    return for_authorization(request)


def for_authorization(request: authorization_requests.AuthorizationRequest) -> Target:
    """The target of an application's authorization request: the request itself, stored once with the flow."""
    return Target(
        application=request.application,
        return_to={"protocol": "oidc", "request": request.path},
        script_params=request.script_params(),
        prompt=frozenset(request.prompt),
        max_age=request.max_age,
        script_version=request.script_version,
    )


def _authorization_path(flow) -> str:
    # "restart": flows started before the request was stored once (the same path).
    return flow.return_to.get("request") or flow.return_to["restart"]


def _success_url(flow) -> str:
    if flow.return_to.get("protocol") == "oidc":
        return authorization_requests.resume_path(_authorization_path(flow))
    return flow.return_to["next"]


def _is_local(url: str) -> bool:
    parts = urlsplit(url)
    return (not parts.scheme and not parts.netloc and url.startswith(LOCAL_PREFIXES) and "\\" not in url
            and ".." not in parts.path)


def restart_url(flow) -> str | None:
    """Where to go to try again: the application's original request (or our page)."""
    if flow.return_to.get("protocol") == "oidc":
        return _authorization_path(flow)
    return flow.return_to.get("next")


def deliver_success(request, flow) -> HttpResponseRedirect:
    """Signed in: back to the authorization endpoint (which now issues the code), or to our page."""
    target = _success_url(flow)
    if flow.return_to.get("protocol") == "oidc":
        pending_choice = callbacks.selection_url(flow)  # onSmartLoginPreContextSelection offered people
        if pending_choice is not None:
            return HttpResponseRedirect(pending_choice)
        authorizations.allow(request.session, target, str(flow.id))
    return HttpResponseRedirect(target)


def deliver_error(flow, params: dict) -> HttpResponseRedirect | None:
    """fail() and refusals: the OAuth error to the registered redirect URI; None for our own pages."""
    if flow.return_to.get("protocol") != "oidc":
        return None
    query = {"error": params.get("errorCode") or "access_denied"}
    if params.get("errorMessage"):
        query["error_description"] = params["errorMessage"]
    if params.get("errorURI"):
        query["error_uri"] = params["errorURI"]
    target, state = authorization_requests.redirection(_authorization_path(flow))
    if state:
        query["state"] = state
    return HttpResponseRedirect(target + ("&" if "?" in target else "?") + urlencode(query))
