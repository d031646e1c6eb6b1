"""A client secret is checked with Argon2 once per process, then recognised by a keyed hash (issue 18).

Each test redeems real authorization codes at the token endpoint (Django's test client) as a
confidential application's server does, with HTTP Basic authentication, and counts the Argon2 checks
of client secrets that the requests made.
"""
import base64
import io
from unittest import mock

import pytest
from django.core.management import call_command
from django.test import Client

from authflow.protocols.oidc import secret_checks
from authflow.protocols.oidc.hashers import ClientSecretHasher
from tests.support.config import CALLBACK
from tests.support.signin import VERIFIER, code_for

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
