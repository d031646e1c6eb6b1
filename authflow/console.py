"""The admin console's site: open to staff who signed in through the account application.

Any application's login signs the browser in to this server (there is one
session), and another application's script may ask less than the console
needs.  So staff reach the console only once their session signed in to
AUTHFLOW_ACCOUNT_APPLICATION, whose script decides how (by default, a second
factor: authflow.configuration.account); anyone else goes to /admin/login/,
which starts that application's flow (steps the session already passed are
not asked again).
"""
import functools
import threading

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.apps import SimpleAdminConfig


class ConsoleSite(admin.AdminSite):
    # The apps' admin modules (and what they import: federation's clients...) load at the first use of the
    # registry (the admin's URLconf, its checks, a console page), not in every web worker at start.
    _discovered = _discovering = False
    _discovery = threading.RLock()

    @property
    def _registry(self):
        if not self._discovered:
            with self._discovery:
                if not (self._discovered or self._discovering):  # register() during the discovery: as it is
                    self._discovering = True
                    try:
                        admin.autodiscover()
                        self._discovered = True
                    finally:
                        self._discovering = False
        return self._models

    @_registry.setter
    def _registry(self, models):
        self._models = models

    def has_permission(self, request):
        from authflow.sso import service as sso  # this module loads with the app registry, before models

        return super().has_permission(request) and sso.signed_in_to(request, settings.AUTHFLOW_ACCOUNT_APPLICATION)

    def admin_view(self, view, cacheable=False):
        """Every console page runs knowing its request, so the audit log records where a change came from."""
        from authflow.api.audit import console_request

        inner = super().admin_view(view, cacheable)

        @functools.wraps(inner)
        def audited(request, *args, **kwargs):
            with console_request(request):
                return inner(request, *args, **kwargs)

        return audited


class ConsoleConfig(SimpleAdminConfig):  # no autodiscover() at start: ConsoleSite._registry
    default_site = "authflow.console.ConsoleSite"

    def ready(self):
        super().ready()
        # The site made now (as autodiscover() did): the admin's checks check the sites made (ConsoleSite._registry
        # then imports the admin modules), so `manage.py check` keeps checking every ModelAdmin.
        admin.site.name  # noqa: B018
