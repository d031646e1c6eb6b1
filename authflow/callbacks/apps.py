from django.apps import AppConfig


class CallbacksConfig(AppConfig):
    name = "authflow.callbacks"
    label = "callbacks"
    default_auto_field = "django.db.models.BigAutoField"
