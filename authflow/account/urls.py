from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.account, name="account"),
    path("sessions/<uuid:session_id>/end/", views.end_session, name="account-end-session"),
    path("sign-out/", views.sign_out, name="account-sign-out"),
    path("signed-out/", views.signed_out, name="account-signed-out"),
    path("two-factor/", include("authflow.factors.urls")),
    path("passkeys/", include("authflow.passkeys.urls")),
]
