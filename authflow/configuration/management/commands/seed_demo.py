"""`manage.py seed_demo`: the demo application and users of the embedded default, created once.

`make run` runs it every time: it creates what does not exist yet (an
application or user by its name, the account application) and never changes
what does, so an administrator's edits (a script published in the console,
a changed password) survive the next `make run`.
"""
from pathlib import Path

import yaml
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from authflow.applications.models import Application
from authflow.configuration.account import account_application
from authflow.configuration.apply import apply_config
from authflow.configuration.schema import parse
from authflow.directory.models import User

DEMO = Path(__file__).resolve().parents[2] / "demo.yaml"


class Command(BaseCommand):
    help = "Create the demo application and users that do not exist yet (runs only with AUTHFLOW_DEBUG=1)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("seed_demo creates users with known passwords; it runs only with AUTHFLOW_DEBUG=1")
        data = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
        existing_apps = set(Application.objects.values_list("name", flat=True))
        existing_users = set(User.objects.values_list("username", flat=True))
        data["applications"] = [a for a in data["applications"] if a["name"] not in existing_apps]
        data["users"] = [u for u in data["users"] if u["username"] not in existing_users]
        if not data["users"]:
            data["roles"] = []  # with nothing to create, nothing to touch
        counts = apply_config(parse(data))
        if "admin" not in existing_users:
            User.objects.filter(username="admin").update(is_superuser=True)
        account_application()  # staff sign in to the console with a second factor
        summary = ", ".join(f"{n} {what}" for what, n in sorted(counts.items()) if n and "created" in what)
        if not summary:
            self.stdout.write("demo data: already there, left as it is")
            return
        self.stdout.write(f"demo data: {summary}")
        self.stdout.write("demo users: admin / demo-admin-password (administrator), alice / demo-alice-password")
