from django.apps import AppConfig


class DemoRelyingPartyConfig(AppConfig):
    name = "demo_rp"
    verbose_name = "Demo relying party"
