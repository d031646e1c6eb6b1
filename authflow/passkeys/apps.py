from django.apps import AppConfig


class PasskeysConfig(AppConfig):
    name = "authflow.passkeys"
    label = "passkeys"
    verbose_name = "Passkeys"
