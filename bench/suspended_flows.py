"""Resuming a login flow with 100 and with 10,000 suspended flows stored, in one run (PostgreSQL).

Prints one JSON object.  A stored flow must not make resuming another one slower: each resume reads
its flow by primary key, locks it, replays its journal in the sandbox and writes it back.  The run:

  1. a fresh database; one application whose script runs a password step; one flow started and
     suspended at that step, then copied (new ids, the same state) to reach the stored flows;
  2. turns that alternate between 100 and 10,000 (`--many`) stored suspended flows (few, many,
     many, few, ...: `--rounds` pairs), so that a drift of the machine during the run falls on
     both; each turn resumes distinct flows (each answered "signed in", so each flow finishes),
     `--samples` in all for each number of flows;
  3. between turns the flows are copied up or deleted down, then VACUUM ANALYZE, which autovacuum
     does on a production server after such a change (it may be off on a development server: then
     the table's dead rows and its missing statistics, not the number of flows, are measured), and a
     CHECKPOINT (the connection's role must be a superuser or have pg_checkpoint), so that writing
     out the pages a fill dirtied does not fall on the turn after it.

    .venv/bin/python bench/suspended_flows.py [--many 10000] [--samples 2000] [--rounds 10]
        [--postgres postgres://postgres:postgres@127.0.0.1:5432/] [--database bench_suspended_flows]
"""
from __future__ import annotations

import argparse
import io
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CONFIG = """\
applications:
  - name: portal
    client_id: portal
    client_type: public
    redirect_uris: ["http://127.0.0.1:9/callback"]
    steps: {1: [BasicAuthenticator]}
    script: |
      var onLoginRequest = function (context) {
          executeStep(1, {onSuccess: function (context) {
              if (hasRole(context.currentKnownSubject, 'blocked')) { fail(); }
          }});
      };
users:
  - {username: alice, password: "alice-password-123", roles: [staff]}
roles: [staff, blocked]
"""


def percentile(samples, q):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def summary(samples):
    return {"p50_ms": round(statistics.median(samples), 2), "p99_ms": round(percentile(samples, 99), 2)}


def setup(database_url):
    os.environ.update(DATABASE_URL=database_url, DJANGO_SETTINGS_MODULE="authflow.settings", AUTHFLOW_DEBUG="1",
                      AUTHFLOW_VAR_DIR=tempfile.mkdtemp(prefix="bench-suspended-"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    config = Path(os.environ["AUTHFLOW_VAR_DIR"]) / "bench.yaml"
    config.write_text(CONFIG)
    call_command("apply", "-f", str(config), stdout=io.StringIO())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--many", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=2000, help="resumes with each number of flows")
    parser.add_argument("--rounds", type=int, default=10, help="pairs of turns (few, many) the samples are spread over")
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES", "postgres://postgres:postgres@127.0.0.1:5432/"))
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE", "bench_suspended_flows"),
                        help="the database to drop and make again for the run")
    args = parser.parse_args()
    admin = args.postgres if args.postgres.endswith("/") else args.postgres + "/"
    with psycopg.connect(admin + "postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{args.database}"')
    setup(admin + args.database)

    from django.db import connection

    from authflow.applications.models import Application
    from authflow.flows import service
    from authflow.flows.models import LoginFlow
    from sequences.api import request_inputs, step_answer

    application = Application.objects.get(name="portal")
    model = service.start_flow(application, request_inputs("203.0.113.9", {"User-Agent": "bench"}, {}, {}))
    assert model.pending["type"] == "step", model.pending
    position = model.pending["position"]
    answer = step_answer(1, "success", user="alice", authenticator="BasicAuthenticator")

    def fill_to(count):
        """Copies of the suspended flow (the same state, new ids) until `count` running flows are stored."""
        missing = count - LoginFlow.objects.filter(status=LoginFlow.Status.RUNNING).count()
        fields = {f.attname: getattr(model, f.attname) for f in LoginFlow._meta.concrete_fields if f.attname != "id"}
        for start in range(0, max(missing, 0), 1000):
            LoginFlow.objects.bulk_create([LoginFlow(id=uuid.uuid4(), **fields)
                                           for _ in range(min(1000, missing - start))])
        settle()

    def shrink_to(count):
        """Running flows deleted (and every finished one) until `count` running flows are stored."""
        LoginFlow.objects.exclude(status=LoginFlow.Status.RUNNING).delete()
        LoginFlow.objects.filter(status=LoginFlow.Status.RUNNING).exclude(
            id__in=LoginFlow.objects.filter(status=LoginFlow.Status.RUNNING).values("id")[:count]).delete()
        settle()

    def settle():
        """What autovacuum does on a production server after such a change (it may be off on a test server),
        then a checkpoint: the pages the change dirtied are written now, not while the next turn is timed
        (filling 10,000 flows dirties some 40 MB, whose writing would otherwise fall on that turn's commits)."""
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE flows_loginflow")
            cursor.execute("CHECKPOINT")

    def resumes(samples):
        ids = list(LoginFlow.objects.filter(status=LoginFlow.Status.RUNNING).order_by("?")
                   .values_list("id", flat=True)[:samples])
        timings = []
        for flow_id in ids:
            t = time.perf_counter()
            flow = service.resume_flow(flow_id, answer, position=position)
            timings.append((time.perf_counter() - t) * 1000)
            assert flow.status == LoginFlow.Status.SUCCEEDED, flow.status
        return timings

    load_at_start = [round(x, 2) for x in os.getloadavg()]
    per_turn = max(1, args.samples // args.rounds)
    few, many, stored_many = [], [], 0
    fill_to(100 + per_turn)  # each sample finishes a flow: keep at least 100 running throughout
    resumes(20)  # warm-up: the sandbox, the connection, the program's compilation
    # Turns alternate (few, many, many, few, ...) so that a drift of the machine falls on both.
    for turn in range(2 * args.rounds):
        if (turn % 4) in (0, 3):
            shrink_to(100 + per_turn)
            fill_to(100 + per_turn)  # (two such turns in a row: the first one finished some)
            few.extend(resumes(per_turn))
        else:
            fill_to(args.many + per_turn)
            stored_many = max(stored_many, LoginFlow.objects.count())
            many.extend(resumes(per_turn))

    report = {
        "benchmark": "suspended_flows",
        "database": "postgresql",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_at_start": load_at_start},
        "samples": len(few),
        "turns": 2 * args.rounds,
        "resume_with_100_flows": summary(few),
        "resume_with_many_flows": {"flows_stored": stored_many, **summary(many)},
    }
    report["ratio_many_to_100"] = {k: round(report["resume_with_many_flows"][k] / report["resume_with_100_flows"][k], 3)
                                   for k in ("p50_ms", "p99_ms")}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
