from django.apps import AppConfig


class OutboundConfig(AppConfig):
    name = "authflow.outbound"
    label = "outbound"
    verbose_name = "Outbound calls"
