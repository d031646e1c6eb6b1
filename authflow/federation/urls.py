from django.urls import path

from . import views

urlpatterns = [
    path("oidc/<slug:name>/callback/", views.oidc_callback, name="federation-oidc-callback"),
    path("oidc/<slug:name>/jwks.json", views.jwks, name="federation-oidc-jwks"),
]
