from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "authflow.api"
    label = "management_api"
    verbose_name = "Management API"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import schema_extensions  # noqa: F401  (registers the schema's security schemes)
