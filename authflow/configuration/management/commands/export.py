"""`manage.py export`: print the configuration in the format `apply` reads."""
from django.core.management.base import BaseCommand

from authflow.configuration.export import export_config, render


class Command(BaseCommand):
    help = "Print applications, users and roles as YAML (or JSON) that `apply` accepts back."

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["yaml", "json"], default="yaml")
        parser.add_argument("--include-password-hashes", action="store_true",
                            help="include password_hash for each user (keep the output secret)")

    def handle(self, *args, **options):
        self.stdout.write(render(export_config(options["include_password_hashes"]), options["format"]), ending="")
