"""The authorization endpoint, where an application's login flow starts.

The protocol's view (authflow.protocols.oidc.views) decides whether the request
already has a finished login to issue a code for; when it has none, the flow
starts in the same request, with no redirect to a login URL in between.
"""
from __future__ import annotations

from django.utils.cache import add_never_cache_headers

from authflow.protocols.oidc import views as oidc

from . import targets, views


class AuthorizationView(oidc.AuthorizationView):
    def login_required(self, request, authorization_request):
        response = views.begin(request, targets.for_authorization(authorization_request))
        add_never_cache_headers(response)
        return response
