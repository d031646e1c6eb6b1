"""Requests carrying NUL characters: refused with a 400, or, in cookies, ignored.

PostgreSQL cannot store NUL in text or JSON, so a NUL in anything a request
stores or looks up (a client_id, a state, a username, a session key) would
fail deep in a view with a 500.  No valid request needs one, so they are
turned away before any view runs.  A cookie with a NUL is dropped instead of
refusing the request: a cookie another site planted would otherwise break
every sign-in in that browser.
"""
from __future__ import annotations

from django.http import HttpResponse, JsonResponse
from django.template.loader import get_template

from authflow.pages.errors import JSON_PATHS

NUL = "\x00"


class NulByteMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.COOKIES = {name: value for name, value in request.COOKIES.items()
                           if NUL not in name and NUL not in value}
        if _carries_nul(request):
            return _bad_request(request)  # logged by Django, as every 4xx
        return self.get_response(request)


def _carries_nul(request) -> bool:
    if NUL in request.path:
        return True
    if any(NUL in name or NUL in value for name, value in request.META.items()
           if name.startswith("HTTP_") and name != "HTTP_COOKIE" and isinstance(value, str)):
        return True
    fields = [request.GET] + ([request.POST] if request.method == "POST" else [])
    return any(NUL in key or any(NUL in value for value in values)
               for query in fields for key, values in query.lists())


def _bad_request(request) -> HttpResponse:
    from authflow.api.errors import error_response, is_api_request

    if is_api_request(request):
        return error_response("the request contains a NUL character", 400)
    if request.path.startswith(JSON_PATHS):
        return JsonResponse({"error": "invalid_request", "error_description": "the request contains a NUL character"},
                            status=400)
    html = get_template("login/problem.html").render({
        "title": "This request is not valid",
        "message": "It contains characters no form or link of this site sends. Go back and try again."})
    return HttpResponse(html, status=400)
