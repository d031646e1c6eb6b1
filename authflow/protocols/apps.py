from django.apps import AppConfig


class ProtocolsConfig(AppConfig):
    name = "authflow.protocols"
    label = "protocols"
    verbose_name = "Protocol endpoints"
