"""Logins per second of authflow against a plain Django + django-oauth-toolkit provider, in one run.

Prints one JSON object.  Both stacks are served the same way (gunicorn, the same workers and
threads, persistent database connections) from their own PostgreSQL database on the same server,
with the same password hasher (Argon2, Django's default cost) and client-secret hasher; the
baseline is bench/plain_stack (Django's LoginView, no scripts).  Concurrent clients (threads of
this process, the same client code for both) drive whole OpenID Connect logins:

  password   a new browser: authorization request (code, PKCE S256, nonce) -> sign-in page ->
             POST username and password -> /o/authorize/ -> code -> token exchange (client secret)
  sso        a signed-in browser asks for a second application: code without a page -> token

Each client signs in as its own account, as concurrent logins are those of different users: authflow
checks one account's passwords one at a time (the lockout counts every wrong one under the account's
row lock), which a benchmark of N browsers sharing one account would measure instead (`--accounts 1`).

The stacks take turns in alternating slices (A B B A ...), so a drift of the machine during the
run (another process, thermal limits) falls on both.  Also measured in the same run: the
Argon2-only limit (password + client secret checks per second on every core, no server), and
each stack's worker memory after the run (resident set and PSS of a worker with its script
sandboxes: its children, or those authflow's sandbox fork server forked for it, plus an equal share
of the fork server).

    .venv/bin/python bench/login_throughput.py [--slices 4] [--seconds 15] [--clients 6]
        [--workers 2] [--threads 1] [--runs 1] [--postgres postgres://postgres:postgres@127.0.0.1:5432/]
        [--redis redis://127.0.0.1:6379/15] [--db-prefix bench_throughput] [--authflow-env NAME=VALUE ...]
        [--both-env NAME=VALUE ...]

With --runs N (N > 1) the whole measure is repeated N times (both stacks restarted each time, the
first slice's order alternating between runs): the JSON holds each run and, under
spread_authflow_to_plain, the min / median / max of each ratio.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg
import requests

import login_http as chain  # the same client code as the single-login benchmark (browser, relying party)

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
PASSWORD_APP, SSO_APP = "bench-portal", "bench-wiki"


# -- the two stacks -------------------------------------------------------------------------

def recreate_database(admin_url: str, name: str) -> str:
    with psycopg.connect(admin_url + "postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return admin_url + name


def run_checked(command, env, cwd):
    done = subprocess.run(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout


class Stack:
    """One provider served by gunicorn on a free port; `start`/`stop`, and how a browser signs in there."""

    name = ""

    def __init__(self, args, workdir: Path):
        self.args, self.workdir = args, workdir
        self.port = chain.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = None
        self.log_path = workdir / f"{self.name}.log"

    def gunicorn_command(self, app: str):
        return [GUNICORN, "--bind", f"127.0.0.1:{self.port}", "--workers", str(self.args.workers),
                "--threads", str(self.args.threads), "--timeout", "60", "--graceful-timeout", "5",
                "--error-logfile", "-", app]

    def start(self):
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(self.gunicorn_command(self.app), cwd=self.cwd, env=self.env,
                                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"{self.name}: gunicorn exited:\n{self.output()}")
            try:
                if requests.get(self.url + chain.READY_PATH, timeout=2).status_code == 200:
                    self.discovery = requests.get(self.url + chain.READY_PATH, timeout=10).json()
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise SystemExit(f"{self.name}: no answer within 60 s:\n{self.output()}")

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)

    def output(self, limit=4000):
        return self.log_path.read_text(errors="replace")[-limit:] if self.log_path.exists() else "(no output)"

    def worker_memory_mb(self):
        """Memory of each worker, alone and with its sandboxes, in MB.

        A worker's sandboxes are its descendants (started afresh) and those the sandbox fork server
        forked for it (they hold a pidfd of it); the fork server, shared by the workers, counts by
        an equal share in each worker that uses it (its RSS and PSS divided by their number).
        """
        def mb(measure, pids):
            return round(sum(measure(pid) for pid in pids) / 1024, 1)
        workers = children(self.process.pid)
        forked = {worker: forked_sandboxes(worker) for worker in workers}
        servers = {parent_of(pid) for pids in forked.values() for pid in pids}
        users = sum(1 for pids in forked.values() if pids) or 1
        server_rss = sum(rss_kb(pid) for pid in servers) / users
        server_pss = sum(pss_kb(pid) for pid in servers) / users
        report = []
        for worker in workers:
            share = (server_rss, server_pss) if forked[worker] else (0, 0)
            sandboxes = [*descendants(worker), *forked[worker]]  # as sandboxes(worker)
            report.append({"process": mb(rss_kb, [worker]),
                           "with_children": round(mb(rss_kb, [worker, *sandboxes]) + share[0] / 1024, 1),
                           "pss_with_children": round(mb(pss_kb, [worker, *sandboxes]) + share[1] / 1024, 1),
                           "children": len(sandboxes), "forked_sandboxes": len(forked[worker]),
                           "fork_server_share": {"rss_mb": round(share[0] / 1024, 1), "pss_mb": round(share[1] / 1024, 1)}})
        return report


class Authflow(Stack):
    name = "authflow"
    app, cwd = "authflow.wsgi", ROOT

    def setup(self):
        self.database = f"{self.args.db_prefix}_authflow"
        url = recreate_database(self.args.postgres, self.database)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTHFLOW_", "DJANGO_", "CELERY_"))}
        self.env.update(
            DATABASE_URL=url, AUTHFLOW_VAR_DIR=str(self.workdir / "authflow-var"), DJANGO_SETTINGS_MODULE="authflow.settings",
            AUTHFLOW_SECRET_KEY=secrets.token_urlsafe(50), AUTHFLOW_CACHE_URL=self.args.redis,
            AUTHFLOW_DB_CONN_MAX_AGE="60", AUTHFLOW_FLOW_STARTS_PER_MINUTE="0", PYTHONUNBUFFERED="1",
            AUTHFLOW_HTTPS="0")  # loopback without TLS, as the plain stack (and its http callback)
        self.env.update(item.split("=", 1) for item in [*self.args.both_env, *self.args.authflow_env])
        config = self.workdir / "authflow.yaml"
        config.write_text(chain.config_yaml(self.args.accounts))
        for command in (["migrate", "--noinput"], ["ensure_oidc_key"], ["apply", "-f", str(config)]):
            run_checked([sys.executable, "manage.py", *command], self.env, ROOT)

    def password_login(self, rp, username=chain.USERNAME):
        return chain.interactive_login(rp, username)


class PlainDjango(Stack):
    name = "plain_django"
    app, cwd = "plain_stack.wsgi", BENCH

    def setup(self):
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key_file = self.workdir / "plain-rsa.pem"
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        self.database = f"{self.args.db_prefix}_plain"
        url = recreate_database(self.args.postgres, self.database)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTHFLOW_", "DJANGO_", "CELERY_"))}
        self.env.update(DATABASE_URL=url, DJANGO_SETTINGS_MODULE="plain_stack.settings", PLAIN_DB_CONN_MAX_AGE="60",
                        PLAIN_SECRET_KEY=secrets.token_urlsafe(50), PLAIN_OIDC_KEY_FILE=str(key_file),
                        PYTHONPATH=str(BENCH), PYTHONUNBUFFERED="1")
        self.env.update(item.split("=", 1) for item in self.args.both_env)
        run_checked([sys.executable, "-m", "django", "migrate", "--noinput"], self.env, BENCH)
        run_checked([sys.executable, "-m", "plain_stack.seed", chain.USERNAME, chain.PASSWORD, chain.CALLBACK,
                     *(f"{client}={secret}" for client, secret in chain.APPS.items())], self.env, BENCH)
        for number in range(1, self.args.accounts):
            run_checked([sys.executable, "-m", "plain_stack.seed", chain.account(number), chain.PASSWORD, chain.CALLBACK],
                        self.env, BENCH)

    def password_login(self, rp, username=chain.USERNAME):
        """Django's LoginView: authorize -> login page -> POST (with the CSRF token) -> authorize -> code."""
        browser = chain.Browser(stop_at=chain.CALLBACK)
        uri, verifier, state = rp.authorization_url()
        page = browser.get(uri)
        if page.status_code != 200 or 'name="password"' not in page.text:
            raise SystemExit(f"plain login: expected the login page, got HTTP {page.status_code} at {page.url}")
        fields = chain.hidden_fields(page.text)
        fields.update(username=username, password=chain.PASSWORD)
        done = browser._follow(browser._send("POST", page.url, data=fields,
                                             headers={"Referer": page.url}))
        rp.exchange(browser, rp.check_callback(done, state, "plain login"), verifier, state)
        return browser


# -- process memory (Linux /proc) -----------------------------------------------------------

def children(pid):
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def descendants(pid):
    result = []
    for child in children(pid):
        result += [child, *descendants(child)]
    return result


def parent_of(pid):
    return int(_proc_kb(f"/proc/{pid}/status", "PPid:"))


def sandboxes(worker):
    """A worker's sandbox processes: its descendants (started afresh) and those a fork server forked for it."""
    return [*descendants(worker), *forked_sandboxes(worker)]


def forked_sandboxes(worker):
    """Processes forked by a sandbox fork server for `worker`: each holds a pidfd of it (its owner)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == worker:
            continue
        try:
            parent = parent_of(int(entry.name))
            if b"forkserver.py" not in Path(f"/proc/{parent}/cmdline").read_bytes():
                continue
            for fd in (entry / "fd").iterdir():
                if os.readlink(fd) == "anon_inode:[pidfd]":
                    info = (entry / "fdinfo" / fd.name).read_text()
                    if f"\nPid:\t{worker}\n" in info:
                        found.append(int(entry.name))
                        break
        except (OSError, ValueError):
            pass
    return found


def rss_kb(pid):
    return _proc_kb(f"/proc/{pid}/status", "VmRSS:")


def pss_kb(pid):
    """Proportional set size: pages shared with other processes (a library's code) count by their share."""
    return _proc_kb(f"/proc/{pid}/smaps_rollup", "Pss:")


def _proc_kb(path, key):
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


# -- the load -------------------------------------------------------------------------------

def drive(stack: Stack, kind: str, clients: int, seconds: float):
    """`clients` threads sign in again and again for `seconds`; returns the latencies (ms) and errors."""
    latencies, errors, lock = [], [], threading.Lock()
    deadline = time.monotonic() + seconds

    def client(number):
        # Each browser signs in as its own account (with --accounts as large as --clients): one account's
        # password checks run one at a time in authflow (the lockout's row lock), as real users' do not.
        username = chain.account(number % stack.args.accounts)
        rp_password = chain.RelyingParty(stack.discovery, PASSWORD_APP)
        rp_sso = chain.RelyingParty(stack.discovery, SSO_APP)
        signed_in = stack.password_login(rp_password, username) if kind == "sso" else None
        while time.monotonic() < deadline:
            t = time.perf_counter()
            try:
                if kind == "password":
                    stack.password_login(rp_password, username)
                else:
                    chain.sso_login(signed_in, rp_sso)
            except (SystemExit, requests.RequestException, KeyError, ValueError) as error:
                with lock:
                    errors.append(str(error)[:300])
                continue
            with lock:
                latencies.append((time.perf_counter() - t) * 1000)

    threads = [threading.Thread(target=client, args=(number,)) for number in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors, time.perf_counter() - started


def figures(latencies, elapsed_s):
    if not latencies:
        return {"logins": 0}
    return {"logins": len(latencies), "per_s": round(len(latencies) / elapsed_s, 2),
            "p50_ms": round(statistics.median(latencies), 1), "p95_ms": round(chain.percentile(latencies, 95), 1)}


# -- the Argon2-only limit ------------------------------------------------------------------

def _hash_checks(args):
    password_hash, secret_hash, seconds = args
    from django.conf import settings
    from django.contrib.auth.hashers import check_password
    if not settings.configured:
        settings.configure(PASSWORD_HASHERS=["django.contrib.auth.hashers.Argon2PasswordHasher",
                                             "authflow.protocols.oidc.hashers.ClientSecretHasher"])
    done, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert check_password(chain.PASSWORD, password_hash) and check_password("s" * 30, secret_hash)
        done += 1
    return done


def argon2_limit(seconds):
    """Logins per second if a login cost only its two hash checks, on every core at once."""
    sys.path[:0] = [str(ROOT), str(BENCH)]
    from django.conf import settings
    settings.configure(PASSWORD_HASHERS=["django.contrib.auth.hashers.Argon2PasswordHasher",
                                         "authflow.protocols.oidc.hashers.ClientSecretHasher"])
    from django.contrib.auth.hashers import make_password
    password_hash = make_password(chain.PASSWORD, hasher="argon2")
    secret_hash = make_password("s" * 30, hasher="argon2_client")
    cores = os.cpu_count() or 1
    with multiprocessing.get_context("spawn").Pool(cores) as pool:
        counts = pool.map(_hash_checks, [(password_hash, secret_hash, seconds)] * cores)
    return round(sum(counts) / seconds, 2)


# -- the run --------------------------------------------------------------------------------

def run_once(args, stacks, number):
    """One run: both stacks started afresh (new workers: memory measured from the start), driven, stopped."""
    load_at_start = [round(x, 2) for x in os.getloadavg()]
    try:
        for stack in stacks:
            stack.start()
            drive(stack, "password", 2, 3)  # warm-up: first sandboxes, imports, connections
            drive(stack, "sso", 2, 2)
        results = {stack.name: {"password": ([], [], 0.0), "sso": ([], [], 0.0)} for stack in stacks}
        for turn in range(args.slices):
            order = stacks if (turn + number) % 2 == 0 else stacks[::-1]
            for kind in ("password", "sso"):
                for stack in order:
                    latencies, errors, elapsed = drive(stack, kind, args.clients, args.seconds)
                    kept = results[stack.name][kind]
                    results[stack.name][kind] = (kept[0] + latencies, kept[1] + errors, kept[2] + elapsed)
        memory = {stack.name: stack.worker_memory_mb() for stack in stacks}
    except BaseException:
        for stack in stacks:
            print(f"{stack.name} output (tail):\n{stack.output()}", file=sys.stderr)
        raise
    finally:
        for stack in stacks:
            stack.stop()

    report = {"load_at_start": load_at_start}
    for name, kinds in results.items():
        report[name] = {kind: {**figures(lat, elapsed), "errors": len(err), "first_errors": err[:3]}
                        for kind, (lat, err, elapsed) in kinds.items()}
        report[name]["worker_memory_mb"] = memory[name]
    ours, plain = report["authflow"], report["plain_django"]
    ratio = {}
    for kind in ("password", "sso"):
        if ours[kind].get("per_s") and plain[kind].get("per_s"):
            ratio[kind] = {"logins_per_s": round(ours[kind]["per_s"] / plain[kind]["per_s"], 3),
                           "p50": round(ours[kind]["p50_ms"] / plain[kind]["p50_ms"], 3)}
    if memory["authflow"] and memory["plain_django"]:
        def mean(name, key):
            return statistics.mean(worker[key] for worker in memory[name])
        ratio["worker_memory"] = round(mean("authflow", "with_children") / mean("plain_django", "with_children"), 3)
        ratio["worker_memory_without_sandboxes"] = round(mean("authflow", "process") / mean("plain_django", "process"), 3)
        ratio["worker_memory_pss"] = round(mean("authflow", "pss_with_children") / mean("plain_django", "pss_with_children"), 3)
    report["ratio_authflow_to_plain"] = ratio
    return report


def spread(reports):
    """min / median / max of each ratio over the runs (a ratio missing from a run is left out of its figures)."""
    values = {}
    for report in reports:
        for key, value in report["ratio_authflow_to_plain"].items():
            for name, number in (value.items() if isinstance(value, dict) else [(None, value)]):
                values.setdefault(key if name is None else f"{key}.{name}", []).append(number)
    return {key: {"min": min(numbers), "median": round(statistics.median(numbers), 3), "max": max(numbers),
                  "runs": len(numbers)} for key, numbers in values.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slices", type=int, default=4, help="turns per stack and kind of login")
    parser.add_argument("--seconds", type=float, default=15.0, help="length of a turn")
    parser.add_argument("--clients", type=int, default=6, help="concurrent browsers")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs", type=int, default=1,
                        help="whole runs (servers restarted for each); with more than one, the JSON gives the spread")
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES", "postgres://postgres:postgres@127.0.0.1:5432/"))
    parser.add_argument("--redis", default=os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/15"))
    parser.add_argument("--db-prefix", default="bench_throughput",
                        help="the two databases (recreated) are <prefix>_authflow and <prefix>_plain")
    parser.add_argument("--authflow-env", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting of authflow's server (e.g. AUTHFLOW_SANDBOX_FORK_SERVER=0)")
    parser.add_argument("--accounts", type=int, default=0,
                        help="accounts the clients sign in as (default: one per client; 1: all the same account)")
    parser.add_argument("--both-env", action="append", default=[], metavar="NAME=VALUE",
                        help="an environment variable of both stacks' servers (e.g. GLIBC_TUNABLES=glibc.malloc.hugetlb=1:"
                             " a setting of the machine, not of one stack, belongs here for a fair comparison)")
    args = parser.parse_args()
    if not args.postgres.endswith("/"):
        args.postgres += "/"
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    args.accounts = args.accounts or args.clients

    load_at_start = [round(x, 2) for x in os.getloadavg()]
    with tempfile.TemporaryDirectory(prefix="bench-throughput-") as tmp:
        workdir = Path(tmp)
        stacks = [Authflow(args, workdir), PlainDjango(args, workdir)]
        for stack in stacks:
            stack.setup()
        runs = [run_once(args, stacks, number) for number in range(args.runs)]

    limit = argon2_limit(min(args.seconds, 10))
    report = {"benchmark": "login_throughput", "server": f"gunicorn, {args.workers} workers x {args.threads} threads",
              "database": "postgresql", "clients": args.clients, "slices": args.slices, "slice_seconds": args.seconds,
              "runs": args.runs, "accounts": args.accounts, "environment": {"both": args.both_env, "authflow_only": args.authflow_env},
              "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_at_start": load_at_start}}
    if args.runs == 1:
        report.update({key: value for key, value in runs[0].items() if key != "load_at_start"})
    else:
        report["each_run"] = runs
        report["spread_authflow_to_plain"] = spread(runs)
    report["argon2_only_logins_per_s"] = limit
    print(json.dumps(report, indent=2))
    return 1 if any(run[s][k]["errors"] for run in runs for s in ("authflow", "plain_django")
                    for k in ("password", "sso")) else 0

if __name__ == "__main__":
    sys.exit(main())
