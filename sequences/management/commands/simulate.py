"""`manage.py simulate SCRIPT.js --scenario SCENARIO.json`: test a script without HTTP.

Prints the JSON trace; exits 0 for success/failed/waiting, 1 for a script
error, 2 for bad input (with a message naming what is wrong).
"""
import json
import sys

from django.core.management.base import BaseCommand, CommandError

from sequences.harness.callbacks import is_callback_scenario, simulate_callback
from sequences.harness.execute import is_execute_scenario, simulate_execute
from sequences.harness.scenario import ScenarioError, parse_scenario
from sequences.harness.simulator import EXIT_BAD_INPUT, simulate


class Command(BaseCommand):
    help = ("Run an authentication script (or one function of a callbacks script) against a scenario "
            "and print the JSON trace.")
    requires_migrations_checks = False
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("script", help="path to the script (.js), or - for standard input")
        parser.add_argument("--scenario", required=True, help="path to the scenario (.json)")
        parser.add_argument("--compact", action="store_true", help="print the trace on one line")

    def handle(self, *args, **options):
        source = self._read(options["script"], "script")
        raw = self._read(options["scenario"], "scenario")
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise CommandError(f"scenario: not valid JSON: {exc}", returncode=EXIT_BAD_INPUT) from None
        try:
            if is_callback_scenario(data):  # a callbacks script: one function and its inputs
                trace, code = simulate_callback(source, data)
            elif is_execute_scenario(data):  # a script defining execute() (custom authenticators)
                trace, code = simulate_execute(source, data)
            else:
                trace, code = simulate(source, parse_scenario(data))
        except ScenarioError as exc:
            raise CommandError(str(exc), returncode=EXIT_BAD_INPUT) from None
        indent = None if options["compact"] else 2
        self.stdout.write(json.dumps(trace, indent=indent, ensure_ascii=False))
        if code:
            sys.exit(code)

    def _read(self, path, what):
        try:
            if path == "-":
                return sys.stdin.read()
            with open(path, encoding="utf-8") as handle:
                return handle.read()
        except OSError as exc:
            raise CommandError(f"{what}: cannot read {path}: {exc.strerror}", returncode=EXIT_BAD_INPUT) from None
