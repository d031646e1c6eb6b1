from django.urls import path

from authflow.deferred_views import DeferredDjangoView

# The views import the WebAuthn library (fido2) at their first request, not in every worker at start.
views = {name: DeferredDjangoView("authflow.passkeys.views", name)
         for name in ("register_begin", "register_complete", "rename", "remove")}

urlpatterns = [
    path("register/begin/", views["register_begin"], name="passkeys-register-begin"),
    path("register/complete/", views["register_complete"], name="passkeys-register-complete"),
    path("<int:passkey_id>/rename/", views["rename"], name="passkeys-rename"),
    path("<int:passkey_id>/remove/", views["remove"], name="passkeys-remove"),
]
