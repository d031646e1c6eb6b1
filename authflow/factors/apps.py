from django.apps import AppConfig


class FactorsConfig(AppConfig):
    name = "authflow.factors"
    label = "factors"
    verbose_name = "Second factors"
