"""Reading an authorization request before any login starts.

Anything wrong with who is asking (no such client, a redirect URI it did not
register) is answered with a page of ours and never with a redirect: only a
registered redirect URI ever receives the browser.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from django.http import QueryDict
from django.urls import reverse
from django.utils.translation import gettext_noop

from authflow.applications.models import Application

# Parameters a script may read as context.request.params.
SCRIPT_PARAMS = {"client_id", "scope", "login_hint", "acr_values", "prompt", "max_age", "ui_locales",
                 "response_type", "redirect_uri", "state", "claims_locales", "display"}


class InvalidRequest(ValueError):
    def __init__(self, title: str, message: str):
        super().__init__(message)
        self.title = title
        self.message = message


@dataclass(frozen=True)
class AuthorizationRequest:
    path: str  # the authorization endpoint's path and query, as the browser sent it
    params: QueryDict
    application: Application
    script_version: object = None  # the live version of the application's script, read with it (None: none)

    @property
    def redirect_uri(self) -> str:
        return self.params.get("redirect_uri", "")

    @property
    def state(self) -> str | None:
        return self.params.get("state")

    @property
    def prompt(self) -> set[str]:
        return set(self.params.get("prompt", "").split())

    @property
    def max_age(self) -> int | None:
        value = self.params.get("max_age", "")
        return int(value) if value.isdigit() else None

    def script_params(self) -> dict[str, list[str]]:
        return {k: self.params.getlist(k) for k in self.params if k in SCRIPT_PARAMS}

    def resume_path(self) -> str:
        return resume_path(self.path)


def resume_path(path: str) -> str:
    """Where the browser goes once the login succeeded: the request at `path`, with `prompt` answered."""
    target = urlsplit(path)
    params = QueryDict(target.query)
    kept = [(k, v) for k in params for v in params.getlist(k) if k != "prompt"]
    return target.path + "?" + urlencode(kept)


def redirection(path: str) -> tuple[str, str | None]:
    """The redirect URI and state of the request at `path` (validated when the request was parsed)."""
    params = QueryDict(urlsplit(path).query)
    return params.get("redirect_uri", ""), params.get("state")


def parse(path: str) -> AuthorizationRequest:
    """The authorization request at `path` (a local URL of the authorization endpoint); raises InvalidRequest."""
    target = urlsplit(path)
    if target.scheme or target.netloc or target.path != reverse("oauth2_provider:authorize"):
        raise InvalidRequest(gettext_noop("This sign-in link is not valid"), gettext_noop("Sign-in must start from the application you want to use."))
    params = QueryDict(target.query)
    # With its protocol client, which the library's validation reads next (request_clients), and the live
    # version of its script, which a flow started for the request runs (flows.service.start_flow).
    # client_id is unique: a slice, not first() (whose ORDER BY Django compiles on every request).
    application = next(iter(Application.objects.select_related("oidc_client", "sequence__live_version")
                            .filter(client_id=params.get("client_id", ""))[:1]), None)
    if application is None or application.oidc_client_id is None:
        raise InvalidRequest(gettext_noop("Unknown application"),
                             gettext_noop("The application that sent you here is not registered with this server."))
    if params.get("redirect_uri", "") not in application.redirect_uris:
        # Exact match only: never redirect to an address the application did not register.
        raise InvalidRequest(gettext_noop("This sign-in request is not valid"),
                             gettext_noop("The application asked to return you to an address it has not registered."))
    sequence = application.sequence
    return AuthorizationRequest(path=path, params=params, application=application,
                                script_version=sequence.live_version if sequence is not None else None)
