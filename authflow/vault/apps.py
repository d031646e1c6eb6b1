from django.apps import AppConfig


class VaultConfig(AppConfig):
    name = "authflow.vault"
    label = "vault"
    verbose_name = "Secrets"
