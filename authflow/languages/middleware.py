"""Activates the request's language (choice.choose) and says which one the response speaks."""
from django.utils import translation
from django.utils.cache import patch_vary_headers

from . import choice


class LanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        choice.use(request, choice.choose(request))
        response = self.get_response(request)
        patch_vary_headers(response, ("Accept-Language", "Cookie"))
        response.headers.setdefault("Content-Language", translation.get_language())
        translation.deactivate()
        return response
