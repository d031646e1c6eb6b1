from django.urls import path

from . import views

urlpatterns = [
    path("register/begin/", views.register_begin, name="passkeys-register-begin"),
    path("register/complete/", views.register_complete, name="passkeys-register-complete"),
    path("<int:passkey_id>/rename/", views.rename, name="passkeys-rename"),
    path("<int:passkey_id>/remove/", views.remove, name="passkeys-remove"),
]
