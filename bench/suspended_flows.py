"""Resuming a login flow with 100 and with 10,000 suspended flows stored, in one run (PostgreSQL).

Prints one JSON object.  A stored flow must not make resuming another one slower: each resume reads
its flow by primary key, locks it, replays its journal in the sandbox and writes it back.

Two processes, each with a database of its own (fresh, migrated, one application whose script runs a
password step), hold 100 and 10,000 (`--many`) suspended flows: one flow started and suspended at
that step, then copied (new ids, the same state).  This process asks them for one resume at a time,
in turn (few, many, many, few, ...), so that whatever the machine does during the run falls on both
alike; only one of them works at a time.  Each resume answers a random stored flow "signed in" (so
the flow finishes); between resumes, untimed, that flow is deleted and a new copy stored, so the
number of suspended flows stays what it is.  Every `--settle-every` resumes both databases get
VACUUM ANALYZE and a CHECKPOINT (what autovacuum and the checkpointer do on a production server; the
connection's role must be a superuser or have pg_checkpoint), at the same point for both.

    .venv/bin/python bench/suspended_flows.py [--many 10000] [--samples 2000] [--settle-every 200]
        [--postgres postgres://postgres:postgres@127.0.0.1:5432/] [--database bench_suspended_flows]
"""
from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from login_throughput import recreate_database  # (bench/ is this script's directory)

ROOT = Path(__file__).resolve().parent.parent

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


def holder(database_url: str, stored: int, commands) -> None:
    """A process holding `stored` suspended flows in its database, resuming one on each "resume"."""
    sys.path.insert(0, str(ROOT))
    os.environ.update(DATABASE_URL=database_url, DJANGO_SETTINGS_MODULE="authflow.settings", AUTHFLOW_DEBUG="1",
                      AUTHFLOW_VAR_DIR=tempfile.mkdtemp(prefix="bench-suspended-"))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from authflow.applications.models import Application
    from authflow.flows import service
    from authflow.flows.models import LoginFlow
    from sequences.api import request_inputs, step_answer

    call_command("migrate", verbosity=0)
    config = Path(os.environ["AUTHFLOW_VAR_DIR"]) / "bench.yaml"
    config.write_text(CONFIG)
    call_command("apply", "-f", str(config), stdout=io.StringIO())
    model = service.start_flow(Application.objects.get(name="portal"),
                               request_inputs("203.0.113.9", {"User-Agent": "bench"}, {}, {}))
    assert model.pending["type"] == "step", model.pending
    position = model.pending["position"]
    answer = step_answer(1, "success", user="alice", authenticator="BasicAuthenticator")
    fields = {f.attname: getattr(model, f.attname) for f in LoginFlow._meta.concrete_fields if f.attname != "id"}

    def copies(count):
        made = [LoginFlow(id=uuid.uuid4(), **fields) for _ in range(count)]
        for start in range(0, count, 1000):
            LoginFlow.objects.bulk_create(made[start:start + 1000])
        return [flow.id for flow in made]

    def settle():
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE flows_loginflow")
            cursor.execute("CHECKPOINT")

    LoginFlow.objects.all().delete()
    suspended = copies(stored)
    settle()
    chooser = random.Random(7)

    def resume() -> float:
        flow_id = suspended.pop(chooser.randrange(len(suspended)))
        started = time.perf_counter()
        flow = service.resume_flow(flow_id, answer, position=position)
        elapsed_ms = (time.perf_counter() - started) * 1000
        assert flow.status == LoginFlow.Status.SUCCEEDED, flow.status
        LoginFlow.objects.filter(pk=flow_id).delete()  # untimed: the number of suspended flows stays the same
        suspended.extend(copies(1))
        return elapsed_ms

    commands.send(("ready", LoginFlow.objects.filter(status=LoginFlow.Status.RUNNING).count()))
    while True:
        command = commands.recv()
        if command == "resume":
            commands.send(resume())
        elif command == "settle":
            settle()
            commands.send("settled")
        else:
            return


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--few", type=int, default=100)
    parser.add_argument("--many", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=2000, help="resumes with each number of flows")
    parser.add_argument("--warm-up", type=int, default=50, help="resumes of each kind before the measure")
    parser.add_argument("--settle-every", type=int, default=200, help="resumes of each kind between VACUUM/CHECKPOINTs")
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES", "postgres://postgres:postgres@127.0.0.1:5432/"))
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE", "bench_suspended_flows"),
                        help="prefix of the two databases to drop and make again for the run")
    args = parser.parse_args()
    admin = args.postgres if args.postgres.endswith("/") else args.postgres + "/"
    context = multiprocessing.get_context("spawn")  # each holder sets Django up for its own database
    holders = {}
    for kind, stored in (("few", args.few), ("many", args.many)):
        ours, theirs = context.Pipe()
        process = context.Process(target=holder, args=(recreate_database(admin, f"{args.database}_{kind}"), stored, theirs),
                                  daemon=True)
        process.start()
        holders[kind] = (process, ours)
    stored = {}
    for kind, (process, pipe) in holders.items():
        message, stored[kind] = pipe.recv()
        assert message == "ready", message

    def ask(kind, command):
        pipe = holders[kind][1]
        pipe.send(command)
        return pipe.recv()

    load_at_start = [round(x, 2) for x in os.getloadavg()]
    timings = {"few": [], "many": []}
    for sample in range(args.warm_up + args.samples):
        if sample and sample % args.settle_every == 0:
            for kind in holders:
                ask(kind, "settle")
        for kind in (("few", "many") if sample % 2 == 0 else ("many", "few")):
            elapsed = ask(kind, "resume")
            if sample >= args.warm_up:
                timings[kind].append(elapsed)
    for kind, (process, pipe) in holders.items():
        pipe.send("stop")
        process.join(timeout=30)

    report = {
        "benchmark": "suspended_flows",
        "database": "postgresql",
        "design": "two processes with a database each, one resume at a time in turn (few, many, many, few, ...)",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_at_start": load_at_start},
        "samples": args.samples,
        "resume_with_100_flows": {"flows_stored": stored["few"], **summary(timings["few"])},
        "resume_with_many_flows": {"flows_stored": stored["many"], **summary(timings["many"])},
    }
    report["ratio_many_to_100"] = {k: round(report["resume_with_many_flows"][k] / report["resume_with_100_flows"][k], 3)
                                   for k in ("p50_ms", "p99_ms")}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
