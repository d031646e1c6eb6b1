"""Signs a browser out once its sign-on session ended, and notes when a session was last used.

When the request signed the browser out of an active session and answered with a redirect, the functions
the `signed_out` receivers returned may send the browser elsewhere first (an identity provider's logout).
"""
from django.contrib.auth import logout

from . import service


class SignOnSessionMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            session = service.current(request)
            if session is None:
                # Ended elsewhere (account page, a script, another user), or timed out.
                logout(request)
            else:
                service.touch(session)
        response = self.get_response(request)
        for continuation in getattr(request, service.SIGN_OUT_CONTINUATIONS, ()):
            if response.status_code in (301, 302, 303, 307) and response.get("Location"):
                response = continuation(response)
        return response
