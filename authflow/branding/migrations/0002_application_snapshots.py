"""The applications that exist already show the built-in look, with no query (Application.branding_snapshot)."""
from django.db import migrations


def fill(apps, schema_editor):
    from authflow.branding.services import snapshot  # a pure function of two brands (none yet)

    Application = apps.get_model("applications", "Application")
    Application.objects.filter(branding_snapshot={}).update(branding_snapshot=snapshot(None, None))


class Migration(migrations.Migration):
    dependencies = [("branding", "0001_initial"), ("applications", "0006_branding_snapshot")]
    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
