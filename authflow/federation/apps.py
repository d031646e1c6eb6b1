from django.apps import AppConfig


class FederationConfig(AppConfig):
    name = "authflow.federation"
    label = "federation"
    verbose_name = "Identity providers"
