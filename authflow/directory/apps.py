from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "authflow.directory"
    label = "directory"
    verbose_name = "Directory"
