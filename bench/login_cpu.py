"""CPU time per login, by process, of authflow and the plain Django stack, in one run.

Prints one JSON object.  Where bench/login_throughput.py measures logins per second (which depend on
everything else the machine is doing), this one counts the CPU time each login costs, read from
/proc after sequential logins by one client: the web worker (one gunicorn worker, one thread), its
script sandbox, PostgreSQL's backends for the stack's database, Redis (the whole server) and this client.  CPU time changes far less with the
machine's load than elapsed time, so two versions of the code can be compared on a busy machine;
the throughput benchmark on a quiet one stays the verdict.

Both stacks are set up as login_throughput sets them up (same databases, hashers, client code).
With --profile PREFIX, py-spy (if installed: `pip install py-spy`) samples the web worker during
each measure into PREFIX_<stack>_<kind>.txt (collapsed stacks) for a look at where the time goes.

    .venv/bin/python bench/login_cpu.py [--logins 30] [--profile /tmp/prof]
        [--postgres postgres://postgres:postgres@127.0.0.1:5432/] [--redis redis://127.0.0.1:6379/15]
        [--db-prefix bench_cpu] [--authflow-env NAME=VALUE ...] [--both-env NAME=VALUE ...]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import login_http as chain
import login_throughput as throughput

TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def cpu_ms(pid: int) -> float:
    """User + system CPU time of one process (all its threads), in ms."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) * 1000 / TICKS_PER_S


def processes_named(command: str, title_contains: str = "") -> list[int]:
    """Processes running `command` whose title (a PostgreSQL backend names its database there) contains a text."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == command and \
                        title_contains in (entry / "cmdline").read_text(errors="replace"):
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def cpu_by_process(stack) -> dict:
    workers = throughput.children(stack.process.pid)
    return {"web_worker": sum(cpu_ms(pid) for pid in workers),
            "sandbox": sum(cpu_ms(pid) for worker in workers for pid in throughput.sandboxes(worker)),  # forked too
            # the backends serving this stack's database (other databases' work on the machine left out)
            "postgres": sum(cpu_ms(pid) for pid in processes_named("postgres", f" {stack.database} ")),
            "redis": sum(cpu_ms(pid) for pid in processes_named("redis-server")),
            "client": time.process_time() * 1000}


def measure(stack, kind: str, logins: int, profile: str | None) -> dict:
    password_rp = chain.RelyingParty(stack.discovery, throughput.PASSWORD_APP)
    sso_rp = chain.RelyingParty(stack.discovery, throughput.SSO_APP)
    browser = stack.password_login(password_rp)
    for _ in range(3):  # warm: this kind's code paths, sandbox, connections
        stack.password_login(password_rp) if kind == "password" else chain.sso_login(browser, sso_rp)
    spy = None
    if profile:
        workers = throughput.children(stack.process.pid)
        spy = subprocess.Popen([shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy")), "record",
                                "--rate", "250", "--format", "raw", "--output", profile, "--pid", str(workers[0])],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)  # py-spy attached
    before = cpu_by_process(stack)
    started = time.perf_counter()
    for _ in range(logins):
        stack.password_login(password_rp) if kind == "password" else chain.sso_login(browser, sso_rp)
    elapsed_ms = (time.perf_counter() - started) * 1000
    after = cpu_by_process(stack)
    if spy is not None:
        spy.send_signal(signal.SIGINT)
        spy.wait(timeout=30)
    per_login = {name: round((after[name] - before[name]) / logins, 1) for name in before}
    per_login["total"] = round(sum(per_login.values()), 1)
    per_login["elapsed"] = round(elapsed_ms / logins, 1)
    return per_login


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logins", type=int, default=30, help="password logins measured (three times as many SSO)")
    parser.add_argument("--profile", default="", help="py-spy output prefix (collapsed stacks per stack and kind)")
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES", "postgres://postgres:postgres@127.0.0.1:5432/"))
    parser.add_argument("--redis", default=os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/15"))
    parser.add_argument("--db-prefix", default="bench_cpu")
    parser.add_argument("--authflow-env", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting of authflow's server only (e.g. AUTHFLOW_SANDBOX_FORK_SERVER=0)")
    parser.add_argument("--both-env", action="append", default=[], metavar="NAME=VALUE",
                        help="an environment variable of both stacks' servers (e.g. GLIBC_TUNABLES=glibc.malloc.hugetlb=1)")
    args = parser.parse_args()
    if not args.postgres.endswith("/"):
        args.postgres += "/"
    settings = argparse.Namespace(workers=1, threads=1, postgres=args.postgres, redis=args.redis,
                                  db_prefix=args.db_prefix, authflow_env=args.authflow_env, accounts=1,
                                  both_env=args.both_env)
    report = {"benchmark": "login_cpu", "unit": "ms of CPU per login", "server": "gunicorn, 1 worker x 1 thread",
              "logins": {"password": args.logins, "sso": 3 * args.logins},
              "load_at_start": [round(x, 2) for x in os.getloadavg()],
              "environment": {"both": args.both_env, "authflow_only": args.authflow_env}}
    with tempfile.TemporaryDirectory(prefix="bench-cpu-") as tmp:
        for stack in (throughput.Authflow(settings, Path(tmp)), throughput.PlainDjango(settings, Path(tmp))):
            stack.setup()
            stack.start()
            try:
                for kind, logins in (("password", args.logins), ("sso", 3 * args.logins)):
                    profile = f"{args.profile}_{stack.name}_{kind}.txt" if args.profile else None
                    report.setdefault(stack.name, {})[kind] = measure(stack, kind, logins, profile)
            except BaseException:
                print(f"{stack.name} output (tail):\n{stack.output()}", file=sys.stderr)
                raise
            finally:
                stack.stop()
    report["ratio_authflow_to_plain"] = {
        kind: {"total": round(report["authflow"][kind]["total"] / report["plain_django"][kind]["total"], 3),
               "web_worker": round(report["authflow"][kind]["web_worker"] / report["plain_django"][kind]["web_worker"], 3)}
        for kind in ("password", "sso")}
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
