from django.urls import path

from . import account, views

urlpatterns = [
    path("oidc/<slug:name>/callback/", views.oidc_callback, name="federation-oidc-callback"),
    path("oidc/<slug:name>/jwks.json", views.jwks, name="federation-oidc-jwks"),
    path("linked/<int:link_id>/unlink/", account.unlink, name="federation-unlink"),
]
