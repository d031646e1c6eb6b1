from django.urls import path

from . import account, views

urlpatterns = [
    path("oidc/<slug:name>/callback/", views.oidc_callback, name="federation-oidc-callback"),
    path("oidc/<slug:name>/jwks.json", views.jwks, name="federation-oidc-jwks"),
    path("oidc/<slug:name>/logged-out/", views.oidc_logged_out, name="federation-oidc-logged-out"),
    path("oidc/<slug:name>/backchannel-logout/", views.oidc_backchannel_logout,
         name="federation-oidc-backchannel-logout"),
    path("saml/<slug:name>/slo/", views.saml_slo, name="federation-saml-slo"),
    path("saml/<slug:name>/metadata/", views.saml_metadata, name="federation-saml-metadata"),
    path("saml/<slug:name>/acs/", views.saml_acs, name="federation-saml-acs"),
    path("linked/<int:link_id>/unlink/", account.unlink, name="federation-unlink"),
]
