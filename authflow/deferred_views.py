"""Views imported by their first request, so that a web worker serving logins never loads DRF.

The management API and the custom authenticators' API for mobile apps are Django REST framework
views (with drf-spectacular, about 11 MB of each web worker).  Their URLconfs name each view by
module and attribute; a DeferredView stands in for it: the URL resolver and reverse() see a plain
callable, and the first request (or the schema generator, which reads `cls`) imports the view.
"""
from __future__ import annotations

from functools import cached_property
from importlib import import_module

# Asked for by Django itself while building the URL resolver (lookup_str): answered without importing.
_NOT_FORWARDED = {"view", "view_class", "_initkwargs"}


class DeferredView:
    """A view function standing for `module.name` (a class-based view: its as_view(**initkwargs))."""

    # These views are exempt from Django's CSRF middleware: DRF checks CSRF for session requests itself
    # (SessionAuthentication), and the API's own 404 view is csrf_exempt.
    csrf_exempt = True

    def __init__(self, module: str, name: str, **initkwargs):
        self.__module__ = module
        self.__name__ = self.__qualname__ = name
        self._initkwargs = initkwargs

    @cached_property
    def view(self):
        target = getattr(import_module(self.__module__), self.__name__)
        return target.as_view(**self._initkwargs) if isinstance(target, type) else target

    def __call__(self, request, *args, **kwargs):
        return self.view(request, *args, **kwargs)

    def __getattr__(self, attribute):
        # What the view itself defines (cls, initkwargs, actions...), imported when first asked for.
        if attribute.startswith("__") or attribute in _NOT_FORWARDED:
            raise AttributeError(attribute)
        return getattr(self.view, attribute)
