"""A client secret is checked with Argon2 once per process, then recognised by a keyed hash (issue 18).

Each test redeems real authorization codes at the token endpoint (Django's test client) as a
confidential application's server does, with HTTP Basic authentication, and counts the Argon2 checks
of client secrets that the requests made.
"""
import base64
import io
import threading
from concurrent.futures import ThreadPoolExecutor
from unittest import mock
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from django.core.management import call_command
from django.db import connection
from django.test import Client

from authflow.protocols.oidc import secret_checks
from authflow.protocols.oidc.hashers import ClientSecretHasher
from tests.support.browser import Browser
from tests.support.config import CALLBACK
from tests.support.servers import ServerProcess, server_env, signing_key
from tests.support.signin import CHALLENGE, VERIFIER, code_for

pytestmark = pytest.mark.django_db

SECRET = "portal-secret-0123456789"


def configure(tmp_path, secret=SECRET):
    path = tmp_path / "config.yaml"
    path.write_text(f"""
applications:
  - name: portal
    client_id: portal
    client_secret: {secret}
    redirect_uris: ["{CALLBACK}"]
    steps: {{1: [BasicAuthenticator]}}
    script: |
      var onLoginRequest = function (context) {{ executeStep(1); }};
users:
  - {{username: alice, password: "alice-password-123"}}
""")
    call_command("apply", "-f", str(path), stdout=io.StringIO())


@pytest.fixture
def portal(tmp_path):
    secret_checks.forget_all()
    configure(tmp_path)
    yield
    secret_checks.forget_all()


@pytest.fixture
def argon2_checks():
    """Calls of the client-secret hasher's Argon2 check (the real one runs)."""
    with mock.patch.object(ClientSecretHasher, "verify", autospec=True, side_effect=ClientSecretHasher.verify) as verify:
        yield verify


def redeem(code, secret):
    credentials = base64.b64encode(f"portal:{secret}".encode()).decode()
    return Client().post("/o/token/", {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK,
                                       "code_verifier": VERIFIER}, HTTP_AUTHORIZATION=f"Basic {credentials}")


def test_the_right_secret_is_checked_with_argon2_once_then_recognised(client, portal, argon2_checks):
    assert redeem(code_for(client), SECRET).status_code == 200
    assert argon2_checks.call_count == 1
    for _ in range(3):
        assert redeem(code_for(client), SECRET).status_code == 200
    assert argon2_checks.call_count == 1


def test_a_wrong_secret_is_refused_and_checked_with_argon2_after_the_right_one_was_recognised(client, portal, argon2_checks):
    assert redeem(code_for(client), SECRET).status_code == 200
    code = code_for(client)
    for wrong in (SECRET[:-1] + "8", SECRET + "x", SECRET[:-1], "", SECRET.upper()):
        refused = redeem(code, wrong)
        assert refused.status_code == 401 and refused.json()["error"] == "invalid_client", wrong
    assert argon2_checks.call_count == 1 + 5  # every wrong guess costs a full check
    assert redeem(code, SECRET).status_code == 200  # the refusals did not use the code up


def test_a_changed_secret_takes_effect_at_once(client, portal, tmp_path):
    assert redeem(code_for(client), SECRET).status_code == 200
    configure(tmp_path, secret="portal-secret-rotated-9876")
    code = code_for(client)
    refused = redeem(code, SECRET)
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
    assert redeem(code, "portal-secret-rotated-9876").status_code == 200


def test_a_recognised_secret_is_checked_with_argon2_again_once_its_time_is_up(client, portal, argon2_checks, settings):
    settings.AUTHFLOW_CLIENT_SECRET_CACHE_SECONDS = 60
    now = [1000.0]
    with mock.patch.object(secret_checks.time, "monotonic", lambda: now[0]):
        assert redeem(code_for(client), SECRET).status_code == 200
        now[0] += 59
        assert redeem(code_for(client), SECRET).status_code == 200
        assert argon2_checks.call_count == 1
        now[0] += 2
        assert redeem(code_for(client), SECRET).status_code == 200
        assert argon2_checks.call_count == 2


def test_with_the_cache_time_at_zero_every_token_request_checks_argon2(client, portal, argon2_checks, settings):
    settings.AUTHFLOW_CLIENT_SECRET_CACHE_SECONDS = 0
    for _ in range(3):
        assert redeem(code_for(client), SECRET).status_code == 200
    assert argon2_checks.call_count == 3


def test_no_more_than_the_bound_is_remembered():
    secret_checks.forget_all()
    with mock.patch.object(secret_checks, "MAX_REMEMBERED", 3):
        for n in range(5):
            assert secret_checks.check(f"secret-{n}", f"stored-{n}", lambda provided, stored: True)
        assert list(secret_checks._remembered) == ["stored-2", "stored-3", "stored-4"]
    # A remembered secret matches its own stored hash only.
    assert not secret_checks.check("secret-4", "stored-3", lambda provided, stored: False)
    secret_checks.forget_all()


# -- attacked: a real server (gunicorn, 2 workers of 4 threads), right and wrong secrets sent at once ------------

@pytest.fixture
def served_portal(transactional_db, tmp_path):
    secret_checks.forget_all()
    configure(tmp_path)
    server = ServerProcess("gunicorn", server_env(connection.settings_dict, signing_key()), tmp_path,
                           workers=2, threads=4).start()
    yield server
    server.stop()


@pytest.mark.django_db(transaction=True)
def test_right_and_wrong_secrets_sent_at_once_to_a_real_server_get_tokens_only_for_the_right_ones(served_portal):
    base = served_portal.url
    query = urlencode({"response_type": "code", "redirect_uri": CALLBACK, "scope": "openid", "state": "s-1",
                       "code_challenge": CHALLENGE, "code_challenge_method": "S256", "client_id": "portal"})
    browser = Browser(base, stop_at=CALLBACK)
    assert 'name="password"' in browser.get(base + "/o/authorize/?" + query).text
    codes = [parse_qs(urlsplit(browser.submit({"username": "alice", "password": "alice-password-123"}).callback)
                      .query)["code"][0]]
    for _ in range(15):  # single sign-on: a code per authorization request
        codes.append(parse_qs(urlsplit(browser.get(base + "/o/authorize/?" + query).callback).query)["code"][0])

    def basic(secret: bytes) -> dict:
        return {"Authorization": "Basic " + base64.b64encode(b"portal:" + secret).decode()}

    def exchange(code, headers=None, secret_field=None):
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK, "code_verifier": VERIFIER}
        if secret_field is not None:
            data.update(client_id="portal", client_secret=secret_field)
        return requests.post(base + "/o/token/", data=data, headers=headers or {}, timeout=60)

    assert exchange(codes[0], basic(SECRET.encode())).status_code == 200  # remembered by the worker that checked it
    wrong = [basic(SECRET[:-1].encode() + b"8"), basic(SECRET.encode() + b"\x00"), basic(b"\xff\xfe" + SECRET.encode()),
             basic(SECRET.encode()[:-1] + b"\xc3"), basic(b""), basic(SECRET.upper().encode())]
    attempts = [(code, basic(SECRET.encode()), None) for code in codes[1:8]]
    attempts += [(code, headers, None) for code, headers in zip(codes[8:14], wrong)]
    attempts += [(codes[14], None, SECRET + "\x00"), (codes[15], None, SECRET[:-1])]
    gate = threading.Barrier(len(attempts))

    def send(attempt):
        gate.wait()
        return exchange(*attempt)

    with ThreadPoolExecutor(max_workers=len(attempts)) as pool:
        answers = list(pool.map(send, attempts))
    statuses = [answer.status_code for answer in answers]
    assert statuses[:7] == [200] * 7, statuses
    assert all(answer.json().get("access_token") for answer in answers[:7])
    assert all(status in (400, 401) for status in statuses[7:]), statuses  # refused; never a 500
    assert not any("access_token" in answer.text for answer in answers[7:])
