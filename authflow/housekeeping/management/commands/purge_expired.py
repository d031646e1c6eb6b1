"""`manage.py purge_expired`: housekeeping once (for cron, or a deployment without `celery beat`)."""
import json

from django.core.management.base import BaseCommand

from authflow.housekeeping.purge import purge_expired, retention


class Command(BaseCommand):
    help = ("Delete finished login flows and ended sign-on sessions older than AUTHFLOW_RETENTION_SECONDS, "
            "expired OAuth tokens, abandoned passkey challenges and expired sessions; prints what went as JSON.")

    def handle(self, *args, **options):
        deleted = purge_expired()
        self.stdout.write(json.dumps({"retention_seconds": int(retention().total_seconds()), "deleted": deleted}))
