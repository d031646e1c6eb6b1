from django.apps import AppConfig


class ConsolePagesConfig(AppConfig):
    name = "authflow.console_pages"
    label = "console_pages"
    verbose_name = "Admin console pages"
