"""The authorization endpoint, where an application's login flow starts.

The protocol's view (authflow.protocols.oidc.views) decides whether the request
already has a finished login to issue a code for; when it has none, the flow
starts in the same request, with no redirect to a login URL in between.  When
that flow finishes without a page (every step answered by the sign-on session),
the code is issued in the same request too, instead of sending the browser
back to the same URL for it.
"""
from __future__ import annotations

from django.utils.cache import add_never_cache_headers

from authflow.protocols.oidc import authorizations
from authflow.protocols.oidc import views as oidc

from . import targets, views


class AuthorizationView(oidc.AuthorizationView):
    def login_required(self, request, authorization_request):
        started = getattr(request, "_authflow_login_response", None)
        if started is not None:  # the login this request ran gave no code after all: the browser comes back
            return started
        response = views.begin(request, targets.for_authorization(authorization_request))
        add_never_cache_headers(response)
        request._authflow_login_response = response
        if response.status_code == 302 and authorizations.same_request(response["Location"], request.get_full_path()):
            # The login finished here and authorized exactly this request: the protocol's view takes that
            # authorization and issues the code now; what the login set goes with it.
            response = _carrying(self._dispatch(request), response)
        return response


def _carrying(issued, login_response):
    """The code's response, with the cookies and script headers the login's response had."""
    for name, morsel in login_response.cookies.items():
        issued.cookies[name] = morsel
    for header, value in login_response.items():
        if header.lower().startswith("x-") and not issued.has_header(header):
            issued[header] = value
    add_never_cache_headers(issued)
    return issued
