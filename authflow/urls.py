from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from authflow.pages import views as pages

urlpatterns = [
    path("", pages.home, name="home"),
    path("login/", include("authflow.login.urls")),
    path("o/", include("authflow.protocols.oidc.urls")),
    path("admin/", admin.site.urls),
]

if settings.AUTHFLOW_DEMO_RP:
    urlpatterns.append(path("demo/", include("demo_rp.urls")))
