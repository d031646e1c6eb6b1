from django.apps import AppConfig


class ConfigurationConfig(AppConfig):
    name = "authflow.configuration"
    label = "configuration"
    verbose_name = "Configuration as code"
