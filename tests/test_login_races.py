"""Many requests at once against one login or one account, on a real server (gunicorn, several workers, PostgreSQL).

What an attacker gets by sending the same request many times in parallel
must be what one request would give: one authorization code per login, and
no more password checks than the lockout allows.
"""
import io
import re
import secrets
import subprocess
import sys
import textwrap
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from django.core.management import call_command
from django.db import connection

from authflow.directory.models import User
from authflow.flows.models import LoginFlow
from authflow.protocols.models import IssuedCode
from tests.support.browser import Browser
from tests.support.config import CALLBACK, public_app
from tests.support.servers import ROOT, ServerProcess, server_env, signing_key
from tests.support.processes import end_with_parent

pytestmark = pytest.mark.django_db(transaction=True)

CONFIG = "applications:\n" + public_app("portal", "{1: [BasicAuthenticator]}", """
    var onLoginRequest = function (context) { executeStep(1); };
""") + textwrap.dedent("""
    users:
      - {username: alice, password: "alice-password-123"}
""")


def serve(tmp_path, **env):
    """gunicorn (2 workers of 4 threads) serving CONFIG on the test database."""
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG)
    call_command("apply", "-f", str(path), stdout=io.StringIO())
    return ServerProcess("gunicorn", server_env(connection.settings_dict, signing_key(), **env), tmp_path,
                         workers=2, threads=4).start()


@pytest.fixture
def server(transactional_db, tmp_path):
    proc = serve(tmp_path)
    yield proc
    proc.stop()


@pytest.fixture
def impatient_server(transactional_db, tmp_path):
    """A server whose sign-ins wait at most a second for another attempt of the same account."""
    proc = serve(tmp_path, AUTHFLOW_SIGN_IN_WAIT_SECONDS="1")
    yield proc
    proc.stop()


def all_at_once(count, request):
    """Run `request(i)` `count` times in parallel threads, released together; their results in order."""
    gate = threading.Barrier(count)

    def run(i):
        gate.wait()
        return request(i)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def test_one_login_gives_exactly_one_authorization_code(server):
    discovery = requests.get(server.url + "/o/.well-known/openid-configuration", timeout=10).json()
    client = OAuth2Session("portal", None, scope="openid", redirect_uri=CALLBACK, code_challenge_method="S256",
                           token_endpoint=discovery["token_endpoint"])
    verifier = secrets.token_urlsafe(48)
    uri, _ = client.create_authorization_url(discovery["authorization_endpoint"], code_verifier=verifier)
    # The browser signs in and is sent back to the authorization endpoint: it stops there, before the code.
    browser = Browser(server.url, stop_at=server.url + "/o/authorize/")
    assert 'name="password"' in browser.get(uri).text
    resume = browser.submit({"username": "alice", "password": "alice-password-123"}).callback
    assert resume, "the login did not finish"
    signed_in = LoginFlow.objects.get()

    def fetch(_):
        with requests.Session() as session:
            session.cookies.update(browser.session.cookies)
            return session.get(resume, allow_redirects=False, timeout=60)

    responses = all_at_once(50, fetch)
    locations = [urljoin(resume, r.headers.get("Location", "")) for r in responses]
    assert all(r.status_code == 302 for r in responses), [r.status_code for r in responses]
    codes = [parse_qs(urlsplit(loc).query)["code"][0] for loc in locations if loc.startswith(CALLBACK)]
    # The login that signed in gives one code.  The other requests each start a login of their own, which
    # runs the script (the sign-on session answers its step): a code may come from such a login, never a
    # second one from any login.
    issued = list(IssuedCode.objects.values_list("flow_id", flat=True))
    assert issued.count(signed_in.id) == 1, f"{issued.count(signed_in.id)} codes for one login"
    assert len(codes) == len(issued) == len(set(issued)), (len(codes), issued)
    others = [urlsplit(loc).path for loc in locations if not loc.startswith(CALLBACK)]
    assert all(path.startswith("/login/flow/") or path == "/o/authorize/" for path in others), others

    token = requests.post(discovery["token_endpoint"], timeout=30, data={
        "grant_type": "authorization_code", "code": codes[0], "redirect_uri": CALLBACK, "client_id": "portal",
        "code_verifier": verifier})
    assert token.status_code == 200 and token.json()["id_token"], token.text
    again = requests.post(discovery["token_endpoint"], timeout=30, data={
        "grant_type": "authorization_code", "code": codes[0], "redirect_uri": CALLBACK, "client_id": "portal",
        "code_verifier": verifier})
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


NOT_CORRECT = "The username or password is not correct."


@pytest.mark.parametrize("username", ["alice", "nobody"])
def test_wrong_passwords_sent_at_once_are_checked_no_more_often_than_the_lockout_allows(server, username):
    threshold = 5  # AUTHFLOW_LOCKOUT_THRESHOLD's default
    authorize = (f"{server.url}/o/authorize/?response_type=code&client_id=portal&redirect_uri={CALLBACK}"
                 "&scope=openid&state=s&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
                 "&code_challenge_method=S256")
    browsers = [Browser(server.url, stop_at=CALLBACK) for _ in range(24)]
    for browser in browsers:  # 24 logins, each at its password page
        assert 'name="password"' in browser.get(authorize).text

    pages = all_at_once(24, lambda i: browsers[i].submit({"username": username, "password": f"guess-{i}"}))
    said = [re.search(r'role="alert">([^<]*)<', page.text).group(1) for page in pages]
    assert said.count(NOT_CORRECT) == threshold, said
    assert all(message.startswith("This account is locked") for message in said if message != NOT_CORRECT), said
    log = server.output(limit=10**7)
    assert log.count('"message": "sign-in failed"') == threshold
    assert log.count('"message": "sign-in refused: account locked"') == 24 - threshold
    if username == "alice":
        assert User.objects.get(username="alice").failed_login_attempts == threshold


AUTHORIZE = ("/o/authorize/?response_type=code&client_id=portal&redirect_uri=" + CALLBACK +
             "&scope=openid&state=s&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
             "&code_challenge_method=S256")
PASSWORD = "alice-password-123"
BUSY = "Another sign-in to this account is being checked. Try again in a moment."


def at_password_pages(server, count):
    """`count` browsers, each with a login of its own at the password page."""
    browsers = [Browser(server.url, stop_at=CALLBACK) for _ in range(count)]
    for browser in browsers:
        assert 'name="password"' in browser.get(AUTHORIZE).text
    return browsers


def outcome(page):
    """"signed in" when the login went back to the application with a code, else what the page said."""
    if page.callback:
        return "signed in" if "code=" in page.callback else page.callback
    found = re.search(r'role="alert">([^<]*)<', page.text)
    return found.group(1) if found else page.text[:300]


@pytest.mark.parametrize("failures_before", [0, 4])
def test_right_passwords_sent_at_once_all_sign_in_and_leave_the_account_unlocked(server, failures_before):
    # 4: one failure short of the lock, as a user who mistyped and then signs in from several tabs or devices.
    User.objects.filter(username="alice").update(failed_login_attempts=failures_before)
    browsers = at_password_pages(server, 16)

    pages = all_at_once(16, lambda i: browsers[i].submit({"username": "alice", "password": PASSWORD}))

    said = [outcome(page) for page in pages]
    assert set(said) <= {"signed in", BUSY}, said
    assert "signed in" in said, said
    alice = User.objects.get(username="alice")
    assert not alice.account_locked and alice.failed_login_attempts == 0
    assert alice.failed_login_attempts_before_success == failures_before  # what scripts read
    log = server.output(limit=10**7)
    assert '"message": "sign-in failed"' not in log and '"message": "account locked"' not in log


def test_wrong_and_right_passwords_sent_at_once_count_only_the_wrong_ones(server):
    # Never five wrong ones in a row: four wrong among twelve.
    wrong = {1, 4, 7, 10}
    browsers = at_password_pages(server, 12)

    pages = all_at_once(12, lambda i: browsers[i].submit(
        {"username": "alice", "password": f"guess-{i}" if i in wrong else PASSWORD}))

    said = [outcome(page) for page in pages]
    assert all(said[i] == NOT_CORRECT for i in wrong), said
    assert all(said[i] in ("signed in", BUSY) for i in range(12) if i not in wrong), said
    assert "signed in" in said, said
    alice = User.objects.get(username="alice")
    assert not alice.account_locked and alice.failed_login_attempts <= len(wrong)
    log = server.output(limit=10**7)
    assert log.count('"message": "sign-in failed"') == len(wrong)
    assert '"message": "account locked"' not in log


HOLD_A_CHECK = """
import django, sys, time
django.setup()
from authflow.directory import lockout
with lockout.password_attempt(sys.argv[1]) as attempt:
    print("checking", attempt.allowed, flush=True)
    time.sleep(600)
"""


@pytest.mark.parametrize("username", ["alice", "nobody"])
def test_a_worker_that_dies_mid_check_leaves_nothing_reserved(impatient_server, username):
    password = PASSWORD if username == "alice" else "nobody-password-123"
    # A process that stopped in the middle of a password check of `username` (as a worker can).
    holder = subprocess.Popen([sys.executable, "-c", HOLD_A_CHECK, username], cwd=ROOT, stdout=subprocess.PIPE,
                              env=server_env(connection.settings_dict, signing_key()), preexec_fn=end_with_parent)
    try:
        assert holder.stdout.readline().split() == [b"checking", b"True"]
        waiting, after_crash = at_password_pages(impatient_server, 2)

        # Meanwhile: told to try again in a moment, the same for an account and an unknown name; not counted.
        assert outcome(waiting.submit({"username": username, "password": password})) == BUSY
    finally:
        holder.kill()  # SIGKILL: nothing of the process's own runs
        holder.wait()

    expected = "signed in" if username == "alice" else NOT_CORRECT
    assert outcome(after_crash.submit({"username": username, "password": password})) == expected
    if username == "alice":
        alice = User.objects.get(username="alice")
        assert not alice.account_locked and alice.failed_login_attempts == 0
    log = impatient_server.output(limit=10**7)
    assert log.count('"message": "sign-in refused: another attempt is being checked"') == 1
