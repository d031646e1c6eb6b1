from django.conf import settings
from django.urls import include, path

from authflow.callbacks import views as callback_views
from authflow.deferred_views import deferred_include
from authflow.languages import views as language_views
from authflow.login import authorize
from authflow.login import views as login_views
from authflow.protocols.oidc import urls as oidc_urls
from authflow.pages import views as pages

urlpatterns = [
    path("", pages.home, name="home"),
    path("favicon.ico", pages.favicon, name="favicon"),
    path("language/", language_views.switch, name="language-switch"),
    path("branding/", include("authflow.branding.urls")),  # logos and theme stylesheets
    path("login/", include("authflow.login.urls")),
    path("login/context/", include("authflow.callbacks.urls")),
    # SMART App Launch discovery, at the root and under the issuer (authflow.callbacks).
    path(".well-known/smart-configuration", callback_views.smart_configuration, name="smart-configuration"),
    path("o/.well-known/smart-configuration", callback_views.smart_configuration),
    path("account/", include("authflow.account.urls")),
    # The provider's endpoints; an authorization request without a finished login starts its flow at once.
    path("o/", include((oidc_urls.patterns(authorize.AuthorizationView.as_view()), oidc_urls.app_name))),
    path("api/v1/", include("authflow.api.urls")),
    path("federation/", include("authflow.federation.urls")),
    # The admin console signs in through a login flow like everything else.
    # The custom authenticators' API for mobile apps (a user's access token with the custom_authenticators scope).
    path("custom-authenticators/", include("authflow.custom_authenticators.urls")),
    path("admin/login/", login_views.admin_login),
    # Login scripts: versions, diff, publish, editor (imported, like the admin's, by their first use).
    deferred_include("console/", "authflow.console_pages.urls", "console"),
    deferred_include("admin/", "authflow.admin_urls", "admin"),  # imports the admin modules at first use
]

handler500 = "authflow.pages.errors.server_error"

if settings.AUTHFLOW_DEMO_RP:
    urlpatterns.append(path("demo/", include("demo_rp.urls")))
