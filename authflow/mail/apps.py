from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "authflow.mail"
    label = "mail"
    verbose_name = "Email"
