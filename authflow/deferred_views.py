"""Views imported by their first request, so that a web worker serving logins never loads DRF.

The management API and the custom authenticators' API for mobile apps are Django REST framework
views (with drf-spectacular, about 11 MB of each web worker).  Their URLconfs name each view by
module and attribute; a DeferredView stands in for it: the URL resolver and reverse() see a plain
callable, and the first request (or the schema generator, which reads `cls`) imports the view.
"""
from __future__ import annotations

from functools import cached_property
from importlib import import_module

from django.urls.resolvers import RoutePattern, URLResolver

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


class DeferredDjangoView(DeferredView):
    """A plain Django view (not DRF's) imported by its first request: Django's CSRF middleware checks it, so the
    view must not be csrf_exempt itself (the middleware reads the attribute before the view is imported)."""

    csrf_exempt = False


class DeferredURLconf(URLResolver):
    """include() of a namespaced URLconf, imported when a URL under it is resolved or a name of its namespace
    reversed (Django's include() imports at once, and building the reverse map walks every URLconf).

    A namespace's names are reversed through its own resolver, so the root's map needs only its prefix."""

    def _populate(self):
        if "urlconf_module" in self.__dict__:  # imported: as Django does
            super()._populate()

    @property
    def reverse_dict(self):
        self.url_patterns  # noqa: B018 (imports the URLconf)
        return super().reverse_dict

    @property
    def namespace_dict(self):
        self.url_patterns  # noqa: B018
        return super().namespace_dict

    @property
    def app_dict(self):
        self.url_patterns  # noqa: B018
        return super().app_dict


def deferred_include(route: str, urlconf: str, namespace: str) -> DeferredURLconf:
    """path(route, include(urlconf)) for a URLconf module whose app_name is `namespace`, imported at first use."""
    return DeferredURLconf(RoutePattern(route, is_endpoint=False), urlconf, app_name=namespace, namespace=namespace)
