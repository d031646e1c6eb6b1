"""The page for an error nothing else handled (Django's handler500).

A database that cannot be reached (or a deadlock, a lost connection) is an
outage, not a bug: the browser gets a 503 that says to try again shortly,
and an application calling the protocol endpoints gets an OAuth
`temporarily_unavailable`.  The page is rendered without the request's
context (the signed-in user would need the database).
"""
import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.loader import get_template
from django.utils.translation import get_language, get_language_bidi, gettext_noop

from authflow.logging import redact_path

logger = logging.getLogger("authflow.errors")

# Endpoints whose callers are programs that read JSON, not people.
JSON_PATHS = ("/o/token/", "/o/userinfo/", "/o/introspect/", "/o/revoke_token/")
RETRY_AFTER_SECONDS = 30


def server_error(request):
    from authflow.api.errors import error_response, is_api_request

    error = sys.exc_info()[1]
    if isinstance(error, (OperationalError, InterfaceError)):
        logger.error("request failed: the database is unavailable",
                     extra={"error": type(error).__name__, "path": redact_path(request.path)})
        if is_api_request(request):
            response = error_response("the service is unavailable; try again shortly", 503)
        elif request.path.startswith(JSON_PATHS):
            response = JsonResponse({"error": "temporarily_unavailable",
                                     "error_description": "the service is unavailable; try again shortly"},
                                    status=503)
        else:
            response = _page(503, gettext_noop("Temporarily unavailable"),
                             gettext_noop("Signing in is not possible right now. Try again in a minute."))
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    if is_api_request(request):
        return error_response("the server could not complete this request", 500)
    if request.path.startswith(JSON_PATHS):
        return JsonResponse({"error": "server_error"}, status=500)
    return _page(500, gettext_noop("Something went wrong"), gettext_noop("The server could not complete this request. Try again; if it "
                                                                 "keeps happening, tell the administrators."))


def _page(status: int, title: str, message: str) -> HttpResponse:
    html = get_template("login/problem.html").render({
        "title": title, "message": message, "page_language": get_language() or "en",
        "page_direction": "rtl" if get_language_bidi() else "ltr"})
    return HttpResponse(html, status=status)
