"""The language switcher: a POST (CSRF-checked) that remembers the choice and goes back to the same page.

Going back to the page (a login's flow page keeps its flow in its URL) keeps the login where it was.
A signed-in user's choice is also saved as their preference, for their other browsers and emails.
"""
from django.conf import settings
from django.http import HttpResponseBadRequest, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from . import choice


def _back_to(request) -> str:
    target = request.POST.get("next", "")
    if target.startswith("/") and url_has_allowed_host_and_scheme(target, allowed_hosts=None):
        return target  # a path of this site only
    return "/"


@never_cache
@require_POST
def switch(request):
    code = choice.supported_code(request.POST.get("language"))
    if code is None:
        return HttpResponseBadRequest("Unknown language.", content_type="text/plain; charset=utf-8")
    response = HttpResponseRedirect(_back_to(request))
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, code, max_age=settings.LANGUAGE_COOKIE_AGE,
                        secure=request.is_secure(), httponly=True, samesite="Lax")
    user = request.user
    if user.is_authenticated and getattr(user, "preferred_language", None) != code:
        user.preferred_language = code
        user.save(update_fields=["preferred_language"])
    return response
