"""`manage.py seed_demo`: the demo application and users of the embedded default (idempotent)."""
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from authflow.configuration.account import account_application
from authflow.configuration.apply import apply_config
from authflow.configuration.schema import load
from authflow.directory.models import User

DEMO = Path(__file__).resolve().parents[2] / "demo.yaml"


class Command(BaseCommand):
    help = "Create the demo application and users (refuses to run unless AUTHFLOW_DEBUG is on)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("seed_demo creates users with known passwords; it runs only with AUTHFLOW_DEBUG=1")
        counts = apply_config(load(DEMO.read_text(encoding="utf-8"), str(DEMO)))
        account_application()  # staff sign in to the console with a second factor
        admin = User.objects.get(username="admin")
        if not admin.is_superuser:
            admin.is_superuser = True
            admin.save(update_fields=["is_superuser"])
        summary = ", ".join(f"{n} {what}" for what, n in sorted(counts.items()) if n)
        self.stdout.write(f"demo data: {summary}")
        self.stdout.write("demo users: admin / demo-admin-password (administrator), alice / demo-alice-password")
