"""Signs a browser out once its sign-on session ended, and notes when a session was last used."""
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
        return self.get_response(request)
