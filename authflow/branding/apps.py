from django.apps import AppConfig


class BrandingConfig(AppConfig):
    name = "authflow.branding"
    label = "branding"
    verbose_name = "Branding"

    def ready(self):
        from django.db.models.signals import post_delete, post_save, pre_save

        from . import signals
        from .models import Brand

        post_save.connect(signals.brand_changed, sender=Brand, dispatch_uid="branding-brand-saved")
        post_delete.connect(signals.brand_changed, sender=Brand, dispatch_uid="branding-brand-deleted")
        pre_save.connect(signals.application_saving, sender="applications.Application",
                         dispatch_uid="branding-application-saving")
