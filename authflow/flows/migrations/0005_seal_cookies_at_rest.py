"""Cookies scripts set, written in clear before they were sealed at rest: sealed now (authflow/flows/sealing.py).

The cookies waiting in flows' outboxes, and the value argument of recorded
setCookie effects.  Backwards, the outboxes are opened again (older code
sends them as they are); the effect records stay sealed.
"""
from django.db import migrations

from authflow.flows import sealing


def _is_sealed(value) -> bool:
    return isinstance(value, dict) and "sealed" in value


def seal(apps, schema_editor):
    LoginFlow = apps.get_model("flows", "LoginFlow")
    EffectRecord = apps.get_model("flows", "EffectRecord")
    for flow in LoginFlow.objects.exclude(outbox=[]).only("id", "outbox").iterator():
        flow.outbox = [c if _is_sealed(c) else sealing.sealed_cookie(flow.pk, c) for c in flow.outbox]
        flow.save(update_fields=["outbox"])
    for record in EffectRecord.objects.filter(name="setCookie").only("id", "args").iterator():
        if isinstance(record.args, list) and len(record.args) > 1 and not _is_sealed(record.args[1]):
            record.args = sealing.effect_args("setCookie", record.args)
            record.save(update_fields=["args"])


def open_outboxes(apps, schema_editor):
    LoginFlow = apps.get_model("flows", "LoginFlow")
    for flow in LoginFlow.objects.exclude(outbox=[]).only("id", "outbox").iterator():
        opened = [sealing.opened_cookie(flow.pk, c) if _is_sealed(c) else c for c in flow.outbox]
        flow.outbox = [c for c in opened if c is not None]
        flow.save(update_fields=["outbox"])


class Migration(migrations.Migration):

    dependencies = [
        ("flows", "0004_loginflow_outbox"),
    ]

    operations = [
        migrations.RunPython(seal, open_outboxes),
    ]
