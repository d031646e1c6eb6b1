from django.apps import AppConfig


class FlowsConfig(AppConfig):
    name = "authflow.flows"
    label = "flows"
    verbose_name = "Login flows"
