from django.apps import AppConfig


class CustomAuthenticatorsConfig(AppConfig):
    name = "authflow.custom_authenticators"
    label = "custom_authenticators"
    verbose_name = "Custom authenticators"
