"""The authorization endpoint: every request runs the application's login flow, then the library issues the code."""
from __future__ import annotations

import hashlib
from urllib.parse import parse_qs, urlsplit

from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponseNotAllowed
from django.shortcuts import render
from oauth2_provider.exceptions import OAuthToolkitError
from oauth2_provider.views import AuthorizationView as LibraryAuthorizationView

from ..models import IssuedCode
from . import authorization_requests, authorizations


class AuthorizationView(LibraryAuthorizationView):
    def dispatch(self, request, *args, **kwargs):
        if request.method != "GET":
            return HttpResponseNotAllowed(["GET"])
        try:
            authorization_requests.parse(request.get_full_path())
        except authorization_requests.InvalidRequest as exc:
            return render(request, "login/problem.html", {"title": exc.title, "message": exc.message}, status=400)
        try:
            # Other protocol errors (no PKCE, a bad scope...) go back to the registered redirect URI.
            self.validate_authorization_request(request)
        except OAuthToolkitError as error:
            return self.error_response(error, application=None)
        flow_id = authorizations.take(request.session, request.get_full_path()) if request.user.is_authenticated else None
        if flow_id is None:
            return redirect_to_login(request.get_full_path(), self.get_login_url(), self.get_redirect_field_name())
        response = super().dispatch(request, *args, **kwargs)
        code = parse_qs(urlsplit(response.get("Location", "")).query).get("code", [None])[0]
        if code:
            IssuedCode.objects.create(code_sha256=code_digest(code), flow_id=flow_id)
        return response


def code_digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()
