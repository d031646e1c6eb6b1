from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "authflow.api"
    label = "management_api"
    verbose_name = "Management API"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.contrib.admin.models import LogEntry
        from django.db.models.signals import post_save

        from .audit import mirror_admin_log

        post_save.connect(mirror_admin_log, sender=LogEntry, dispatch_uid="authflow-audit-admin-log")
