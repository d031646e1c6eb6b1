from django.apps import AppConfig


class SsoConfig(AppConfig):
    name = "authflow.sso"
    label = "sso"
    verbose_name = "Sign-on sessions"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in, user_logged_out

        from . import service

        user_logged_in.connect(service.on_login, dispatch_uid="authflow.sso.on_login")
        user_logged_out.connect(service.on_logout, dispatch_uid="authflow.sso.on_logout")
