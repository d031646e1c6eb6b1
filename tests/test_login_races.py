"""Many requests at once against one login or one account, on a real server (gunicorn, several workers, PostgreSQL).

What an attacker gets by sending the same request many times in parallel
must be what one request would give: one authorization code per login, and
no more password checks than the lockout allows.
"""
import io
import re
import secrets
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
from tests.support.servers import ServerProcess, server_env, signing_key

pytestmark = pytest.mark.django_db(transaction=True)

CONFIG = "applications:\n" + public_app("portal", "{1: [BasicAuthenticator]}", """
    var onLoginRequest = function (context) { executeStep(1); };
""") + textwrap.dedent("""
    users:
      - {username: alice, password: "alice-password-123"}
""")


@pytest.fixture
def server(transactional_db, tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG)
    call_command("apply", "-f", str(path), stdout=io.StringIO())
    proc = ServerProcess("gunicorn", server_env(connection.settings_dict, signing_key()), tmp_path,
                         workers=2, threads=4)
    proc.start()
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
