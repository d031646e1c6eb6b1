"""A whole browser login over HTTP against a real server process, against a trivial request to the same process.

Prints one JSON object.  Self-contained: it makes a temporary AUTHFLOW_VAR_DIR (the SQLite
database and the OIDC signing key of the embedded default), runs `migrate`, `ensure_oidc_key`
and `apply` (two confidential applications whose scripts run step 1 and then check a role,
and one user), starts `manage.py runserver --noreload` on a free port and drives it with
`requests` like tests/support/browser.py: redirects are followed by hand and the
application's callback URL is never contacted.  The server is stopped at the end, also on
errors.  With --database-url the same runs against that database (e.g. PostgreSQL).

Measured, p50/p99 over --iterations after --warmup:
  baseline        GET /o/.well-known/openid-configuration (the HTTP + Django floor)
  interactive     a new browser: authorization request (code, PKCE S256, nonce; Authlib's
                  OAuth2Session) -> flow page -> POST username/password -> /o/authorize/
                  -> code at the callback -> token exchange at the token endpoint
  sso             the same signed-in browser asks for a second application: its script runs,
                  step 1 is answered by the sign-on session, the code comes back without a page
The Argon2 check of the user's stored hash (in this process, no server) is reported as
context: by design it is most of the interactive login (the password POST).  The client
secret is checked at the token endpoint with a lighter Argon2 (authflow/protocols/oidc/hashers.py),
timed the same way.  The per-request figures attribute the time to each request of the chain.

    .venv/bin/python bench/login_http.py [--iterations N] [--warmup N] [--database-url URL]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import requests
from authlib.integrations.requests_client import OAuth2Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # for the in-process password check (the project's settings)
READY_PATH = "/o/.well-known/openid-configuration"
# One TCP connection per request.  On a kept-alive connection runserver (wsgiref: headers and body are
# separate small writes) waits for the client's delayed ACK, ~40 ms per response on Linux (Nagle + delayed
# ACK): an artefact of the development server that would hide everything else.  Measured once, as context.
NO_KEEPALIVE = {"Connection": "close"}


def one_shot(session: requests.Session, method: str, url: str, **kwargs) -> requests.Response:
    """A request on a new connection, closed after the response is read (the session keeps its cookies)."""
    try:
        return session.request(method, url, headers={**NO_KEEPALIVE, **kwargs.pop("headers", {})}, **kwargs)
    finally:
        session.close()  # empties the connection pools; the session stays usable


CALLBACK = "http://127.0.0.1:9/callback"  # port 9 (discard): never contacted
USERNAME, PASSWORD = "bench-alice", "bench-alice-password-123"
APPS = {  # client_id -> secret
    "bench-portal": "bench-portal-secret-0123456789",
    "bench-wiki": "bench-wiki-secret-0123456789",
}
SCRIPT = """\
var onLoginRequest = function (context) {
    executeStep(1, {
        onSuccess: function (context) {
            if (hasRole(context.currentKnownSubject, 'blocked')) {
                fail({errorCode: 'access_denied', errorMessage: 'Your account may not use this application.'});
            }
        }
    });
};
"""


def account(number: int) -> str:
    """The username of the benchmark's account `number` (0: the one every single-client measure uses)."""
    return USERNAME if number == 0 else f"{USERNAME}-{number}"


def config_yaml(accounts: int = 1) -> str:
    apps = []
    for client_id, secret in APPS.items():
        apps.append(textwrap.dedent(f"""\
          - name: {client_id}
            client_id: {client_id}
            client_secret: {secret}
            redirect_uris: ["{CALLBACK}"]
            steps: {{1: [BasicAuthenticator]}}
            script: |
        """) + textwrap.indent(SCRIPT, " " * 6))
    users = "".join(f"  - {{username: {account(n)}, password: \"{PASSWORD}\", email: alice{n}@example.com, "
                    f"first_name: Alice, roles: [staff]}}\n" for n in range(accounts))
    return "roles: [blocked, staff]\napplications:\n" + "".join(apps) + "users:\n" + users


def percentile(samples, q):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def summary(samples, digits=2):
    return {"p50": round(statistics.median(samples), digits), "p99": round(percentile(samples, 99), digits)}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(env, *args) -> str:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


class Server:
    """`manage.py runserver --noreload` (threaded) on a free port; output to a file, not a pipe."""

    def __init__(self, env, log_path: Path):
        self.env, self.log_path = env, log_path
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = None

    def start(self, timeout=60.0):
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "runserver", f"127.0.0.1:{self.port}", "--noreload"],
                cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise SystemExit(f"the server exited with {self.process.returncode}:\n{self.output()}")
            try:
                if requests.get(self.url + READY_PATH, timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"the server did not answer {READY_PATH} within {timeout:.0f}s:\n{self.output()}")
            time.sleep(0.05)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def output(self, limit=4000) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return text[-limit:] or "(no output)"


_INPUT = re.compile(r"<input\b[^>]*>", re.I)
_ATTR = re.compile(r'(\w[\w-]*)="([^"]*)"')
_FLOW_ID = re.compile(r"/login/flow/[^/]+/")


def label(method: str, url: str) -> str:
    return f"{method} " + _FLOW_ID.sub("/login/flow/<id>/", urlsplit(url).path)


class Browser:
    """Cookies kept in one requests.Session; redirects followed by hand up to the callback; each request timed."""

    def __init__(self, stop_at: str):
        self.session = requests.Session()
        self.stop_at = stop_at
        self.timings: list[tuple[str, float]] = []  # (label, ms) of each request since the last reset

    def _send(self, method, url, **kwargs):
        t = time.perf_counter()
        response = one_shot(self.session, method, url, allow_redirects=False, timeout=30, **kwargs)
        self.timings.append((label(method, url), (time.perf_counter() - t) * 1000))
        return response

    def get(self, url):
        return self._follow(self._send("GET", url))

    def submit(self, page, data):
        fields = {k: v for k, v in hidden_fields(page.text).items() if k in ("form_token", "position")}
        fields.update(data)
        return self._follow(self._send("POST", page.url, data=fields, headers={"Referer": page.url}))

    def _follow(self, response):
        for _ in range(20):
            location = response.headers.get("Location")
            if response.status_code not in (301, 302, 303) or not location:
                break
            location = urljoin(response.url, location)
            if location.startswith(self.stop_at):
                response.callback = location
                return response
            response = self._send("GET", location)
        response.callback = None
        return response


def hidden_fields(html: str) -> dict:
    fields = {}
    for tag in _INPUT.findall(html):
        attrs = dict(_ATTR.findall(tag))
        if attrs.get("type") == "hidden" and "name" in attrs:
            fields[attrs["name"]] = unescape(attrs.get("value", ""))
    return fields


class RelyingParty:
    """One confidential client (Authlib), reused across logins as a relying party's server would."""

    def __init__(self, discovery, client_id):
        self.discovery = discovery
        self.client = OAuth2Session(client_id, APPS[client_id], scope="openid profile email", redirect_uri=CALLBACK,
                                    code_challenge_method="S256", token_endpoint=discovery["token_endpoint"])
        self.client.headers.update(NO_KEEPALIVE)  # and closed after each token request (exchange)

    def authorization_url(self):
        verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
        uri, state = self.client.create_authorization_url(self.discovery["authorization_endpoint"],
                                                          code_verifier=verifier, nonce=nonce)
        return uri, verifier, state

    def check_callback(self, response, state, where):
        if not getattr(response, "callback", None):
            raise SystemExit(f"{where}: no redirect to the callback (HTTP {response.status_code} at {response.url}):\n"
                             f"{response.text[:2000]}")
        query = parse_qs(urlsplit(response.callback).query)
        if "code" not in query or query.get("state") != [state]:
            raise SystemExit(f"{where}: unexpected callback {response.callback}")
        return response.callback

    def exchange(self, browser, callback, verifier, state):
        t = time.perf_counter()
        try:
            token = self.client.fetch_token(authorization_response=callback, code_verifier=verifier, state=state)
        finally:
            self.client.close()
        browser.timings.append(("POST /o/token/ (relying party)", (time.perf_counter() - t) * 1000))
        if "id_token" not in token:
            raise SystemExit(f"token exchange: no id_token in {sorted(token)}")
        return token


def interactive_login(rp: RelyingParty, username: str = USERNAME) -> Browser:
    """A new browser: authorization request, password page, code, token (the browser has the request timings)."""
    browser = Browser(stop_at=CALLBACK)
    uri, verifier, state = rp.authorization_url()
    page = browser.get(uri)
    if page.status_code != 200 or "/login/flow/" not in page.url or 'name="password"' not in page.text:
        raise SystemExit(f"interactive login: expected the password page, got HTTP {page.status_code} at {page.url}")
    done = browser.submit(page, {"username": username, "password": PASSWORD})
    callback = rp.check_callback(done, state, "interactive login")
    rp.exchange(browser, callback, verifier, state)
    return browser


def sso_login(browser: Browser, rp: RelyingParty):
    """The signed-in browser asks for another application: code without a page, then the token."""
    browser.timings = []
    uri, verifier, state = rp.authorization_url()
    done = browser.get(uri)
    callback = rp.check_callback(done, state, "single sign-on login")
    to_code = list(browser.timings)
    rp.exchange(browser, callback, verifier, state)
    return to_code, list(browser.timings)


def per_request(runs: list[list[tuple[str, float]]]):
    """p50/p99 of each request position of the chain (same labels in every run), to attribute a slow step."""
    labels = [name for name, _ in runs[0]]
    rows = []
    for i, name in enumerate(labels):
        samples = [run[i][1] for run in runs if len(run) == len(labels) and run[i][0] == name]
        rows.append({"request": name, **summary(samples)})
    return rows


def argon2_check(env, iterations):
    """check_password on the user's stored hash (from `export --include-password-hashes`), in this process."""
    exported = json.loads(manage(env, "export", "--format", "json", "--include-password-hashes"))
    stored = next(u["password_hash"] for u in exported["users"] if u["username"] == USERNAME)
    secret_hash = next((a.get("client_secret_hash") for a in exported["applications"]
                        if a.get("client_id") == "bench-portal"), None) or ""
    os.environ.update({k: env[k] for k in ("AUTHFLOW_VAR_DIR", "AUTHFLOW_DEBUG", "DJANGO_SETTINGS_MODULE")})
    from django.contrib.auth.hashers import check_password, identify_hasher
    def timed(secret, encoded):
        check_password(secret, encoded)
        samples = []
        for _ in range(iterations):
            t = time.perf_counter()
            ok = check_password(secret, encoded)
            samples.append((time.perf_counter() - t) * 1000)
            assert ok
        return summary(samples)

    algorithm = identify_hasher(stored).algorithm
    password = {"algorithm": algorithm, "parameters": "$".join(stored.split("$")[2:4]), **timed(PASSWORD, stored)}
    client = {"algorithm": identify_hasher(secret_hash).algorithm, "parameters": "$".join(secret_hash.split("$")[2:4]),
              **timed(APPS["bench-portal"], secret_hash)}
    return password, client


def run(args, workdir: Path):
    load_at_start = [round(x, 2) for x in os.getloadavg()]
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(AUTHFLOW_VAR_DIR=str(workdir), AUTHFLOW_DEBUG="1", DJANGO_SETTINGS_MODULE="authflow.settings",
               PYTHONUNBUFFERED="1",
               AUTHFLOW_FLOW_STARTS_PER_MINUTE="0")  # one client starts every login: no per-address limit
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    config = workdir / "bench.yaml"
    config.write_text(config_yaml())

    t0 = time.perf_counter()
    manage(env, "migrate", "--noinput")
    manage(env, "ensure_oidc_key")
    manage(env, "apply", "-f", str(config))
    setup_s = time.perf_counter() - t0

    server = Server(env, workdir / "server.log")
    try:
        t0 = time.perf_counter()
        server.start()
        start_s = time.perf_counter() - t0
        base = server.url
        discovery = requests.get(base + READY_PATH, timeout=30).json()
        portal, wiki = RelyingParty(discovery, "bench-portal"), RelyingParty(discovery, "bench-wiki")

        # The first login of the process pays for starting its first sandbox, lazy imports, template loading.
        t0 = time.perf_counter()
        interactive_login(portal)
        first_login_ms = (time.perf_counter() - t0) * 1000

        # 1. baseline: one cheap request, a connection per request like the requests of a login
        def floor(get, count):
            samples = []
            for i in range(args.warmup + count):
                t = time.perf_counter()
                response = get(base + READY_PATH, allow_redirects=False, timeout=30)
                elapsed = (time.perf_counter() - t) * 1000
                assert response.status_code == 200, response.status_code
                if i >= args.warmup:
                    samples.append(elapsed)
            return samples

        closing = requests.Session()
        baseline = floor(lambda url, **kw: one_shot(closing, "GET", url, **kw), args.iterations)
        keepalive = floor(requests.Session().get, min(args.iterations, 20))

        # 2. interactive login, a new browser (requests.Session) each time
        interactive, interactive_runs = [], []
        for i in range(args.warmup + args.iterations):
            t = time.perf_counter()
            browser = interactive_login(portal)
            elapsed = (time.perf_counter() - t) * 1000
            if i >= args.warmup:
                interactive.append(elapsed)
                interactive_runs.append(browser.timings)
        interactive_requests = len(interactive_runs[0])

        # 3. single sign-on: one browser signed in at portal asks for wiki, again and again
        signed_in = interactive_login(portal)
        sso_code, sso_total, sso_runs = [], [], []
        for i in range(args.warmup + args.iterations):
            t = time.perf_counter()
            to_code, everything = sso_login(signed_in, wiki)
            elapsed = (time.perf_counter() - t) * 1000
            if i >= args.warmup:
                sso_code.append(sum(ms for _, ms in to_code))
                sso_total.append(elapsed)
                sso_runs.append(everything)
        sso_requests_to_code = len(sso_runs[0]) - 1

        server_alive = server.process.poll() is None
    except BaseException:
        print(f"server output (tail):\n{server.output()}", file=sys.stderr)
        raise
    finally:
        server.stop()

    argon2, client_argon2 = argon2_check(env, min(20, args.iterations))

    b50 = statistics.median(baseline)
    i50 = statistics.median(interactive)
    s50 = statistics.median(sso_total)
    # The password POST carries the Argon2 check (once per interactive login).
    post = next(r for r in per_request(interactive_runs) if r["request"].startswith("POST /login/flow/"))
    report = {
        "benchmark": "login_http",
        "server": "django runserver (threaded, development)",
        "database": "sqlite (embedded default)" if not args.database_url else
                    re.sub(r"//[^@/]*@", "//***@", args.database_url),
        "settings": {"AUTHFLOW_DEBUG": "1", "log_level": os.environ.get("AUTHFLOW_LOG_LEVEL", "INFO"),
                     "client": "requests " + requests.__version__ + ", Authlib OAuth2Session"},
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "load_average_1_5_15min": {"start": load_at_start,
                                               "end": [round(x, 2) for x in os.getloadavg()]}},
        "iterations": args.iterations,
        "warmup": args.warmup,
        "setup_s": round(setup_s, 2),
        "server_start_s": round(start_s, 2),
        "first_login_in_process_ms": round(first_login_ms, 1),
        "connections": "one per request (Connection: close)",
        "baseline_discovery_get_ms": summary(baseline),
        "context_discovery_get_on_kept_alive_connection_ms": {
            **summary(keepalive), "note": "runserver's write pattern stalls on the client's delayed ACK; "
                                          "not used by the measurements"},
        "interactive_login_ms": {
            **summary(interactive),
            "http_requests": interactive_requests,
            "per_request_avg_ms_p50": round(i50 / interactive_requests, 2),
            "per_request": per_request(interactive_runs),
        },
        "sso_login_ms": {
            "to_code": {**summary(sso_code), "http_requests": sso_requests_to_code},
            "with_token_exchange": {**summary(sso_total), "http_requests": sso_requests_to_code + 1},
            "pages_shown": 0,
            "per_request": per_request(sso_runs),
        },
        "password_check_in_process_ms": {**argon2, "note": "context, by design: the user's password is checked once "
                                                           "per interactive login (in the password POST)"},
        "client_secret_check_in_process_ms": {**client_argon2, "note": "once per token exchange (interactive and SSO)"},
        "argon2_checks": {"interactive_login": {"password": 1, "client_secret": 1}, "sso_to_code": 0,
                          "sso_with_token_exchange": {"client_secret": 1}},
        "estimate_interactive_minus_argon2_checks_ms_p50": round(i50 - argon2["p50"] - client_argon2["p50"], 2),
        "estimate_sso_with_token_minus_argon2_check_ms_p50": round(s50 - client_argon2["p50"], 2),
        "password_post_share_of_interactive_p50": round(post["p50"] / i50, 2),
        "ratio_interactive_to_baseline_p50": round(i50 / b50, 1),
        "ratio_sso_to_baseline_p50": round(s50 / b50, 1),
        "ratio_interactive_per_request_to_baseline_p50": round(i50 / interactive_requests / b50, 1),
        "server_alive_at_end": server_alive,
        "notes": ["p99 over fewer than 100 iterations is (close to) the slowest sample",
                  "runserver is a development server: absolute figures are not those of a production server"],
    }
    return report


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=50, help="measured iterations of each figure")
    parser.add_argument("--warmup", type=int, default=5, help="iterations run first and not measured")
    parser.add_argument("--database-url", default="",
                        help="run against this database (e.g. postgres://...) instead of a temporary SQLite file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (server log) and say where")
    args = parser.parse_args(argv)
    if args.iterations < 1 or args.warmup < 0:
        parser.error("--iterations must be at least 1 and --warmup at least 0")

    workdir = Path(tempfile.mkdtemp(prefix="authflow-bench-"))
    t0 = time.perf_counter()
    try:
        report = run(args, workdir)
        report["wall_time_s"] = round(time.perf_counter() - t0, 1)
        if args.keep:
            report["workdir"] = str(workdir)
        print(json.dumps(report, indent=2))
    finally:
        if not args.keep:
            import shutil
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
