from django.apps import AppConfig


class ApplicationsConfig(AppConfig):
    name = "authflow.applications"
    label = "applications"
    verbose_name = "Applications"
