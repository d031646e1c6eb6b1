"""`manage.py apply -f FILE`: create or update applications, users and roles from a file."""
import sys

from django.core.management.base import BaseCommand, CommandError

from authflow.configuration.apply import apply_config
from authflow.configuration.schema import ConfigError, load


class Command(BaseCommand):
    help = "Create or update applications, users and roles from a YAML or JSON file (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("-f", "--file", required=True, help="the file, or - for standard input")

    def handle(self, *args, **options):
        path = options["file"]
        try:
            text = sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}", returncode=2) from None
        try:
            counts = apply_config(load(text, path))
        except ConfigError as exc:
            raise CommandError(f"{path}: {exc} (nothing was changed)", returncode=2) from None
        summary = ", ".join(f"{n} {what}" for what, n in sorted(counts.items()) if n) or "nothing to do"
        self.stdout.write(f"applied {path}: {summary}")
