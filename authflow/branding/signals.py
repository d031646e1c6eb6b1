"""Keeping Application.branding_snapshot in step with the brands (connected in apps.BrandingConfig.ready)."""
from . import cache, services
from .models import Brand


def brand_changed(sender, instance, **kwargs):
    if instance.application_id is None:
        cache.forget()
    services.refresh_snapshots(None if instance.application_id is None else [instance.application_id])


def application_saving(sender, instance, **kwargs):
    """A new application shows the default brand from its first page."""
    if instance._state.adding and not instance.branding_snapshot:
        default = Brand.objects.defer("logo").filter(application__isnull=True).order_by().first()
        instance.branding_snapshot = services.snapshot(None, default)
