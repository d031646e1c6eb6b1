from django.apps import AppConfig


class HousekeepingConfig(AppConfig):
    name = "authflow.housekeeping"
    label = "housekeeping"
    verbose_name = "Housekeeping"
