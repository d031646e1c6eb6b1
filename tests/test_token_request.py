"""The token request's checks of an authorization code, each made on the grant read once per request (issue 18).

The code must be presented by the client it was issued to, with the exact redirect URI, the PKCE verifier,
before it expires, and once; the access token is linked to the ID token issued with it; the directory's
claims appear by the scopes granted.  (The Django test client, as tests/test_query_budget.py: no browser.)
"""
import base64
import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken, Grant

from tests.support.config import CALLBACK, public_app
from tests.support.signin import VERIFIER, code_for

pytestmark = pytest.mark.django_db

SCRIPT = "var onLoginRequest = function (context) { executeStep(1); };"


@pytest.fixture
def applications(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("applications:\n" + public_app("portal", "{1: [BasicAuthenticator]}", SCRIPT)
                    + public_app("wiki", "{1: [BasicAuthenticator]}", SCRIPT)
                    + "\nusers:\n  - {username: alice, password: \"alice-password-123\", email: alice@example.com}\n")
    call_command("apply", "-f", str(path), stdout=io.StringIO())


def redeem(code, client_id="portal", redirect_uri=CALLBACK, verifier=VERIFIER):
    return Client().post("/o/token/", {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
                                       "client_id": client_id, "code_verifier": verifier})


def claims_of(id_token: str) -> dict:
    import json

    payload = id_token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_a_code_is_refused_to_another_client_a_wrong_redirect_or_verifier_then_redeemed_once(client, applications):
    code = code_for(client)
    by_other_client = redeem(code, client_id="wiki")
    assert by_other_client.status_code == 400 and by_other_client.json()["error"] == "invalid_grant"
    other_redirect = redeem(code, redirect_uri=CALLBACK + "/other")
    assert other_redirect.status_code == 400 and "access_token" not in other_redirect.json()
    wrong_verifier = redeem(code, verifier="x" * 64)
    assert wrong_verifier.status_code == 400 and wrong_verifier.json()["error"] == "invalid_grant"
    no_verifier = Client().post("/o/token/", {"grant_type": "authorization_code", "code": code,
                                              "redirect_uri": CALLBACK, "client_id": "portal"})
    assert no_verifier.status_code == 400 and "access_token" not in no_verifier.json()

    good = redeem(code)  # none of the refusals used the code up
    assert good.status_code == 200, good.content
    replayed = redeem(code)
    assert replayed.status_code == 400 and replayed.json()["error"] == "invalid_grant"


def test_an_expired_code_is_refused(client, applications):
    code = code_for(client)
    Grant.objects.filter(code=code).update(expires=timezone.now() - timedelta(seconds=1))
    expired = redeem(code)
    assert expired.status_code == 400 and expired.json()["error"] == "invalid_grant"


def test_the_access_token_is_linked_to_the_id_token_issued_with_it(client, applications):
    token = redeem(code_for(client)).json()
    stored = AccessToken.objects.select_related("id_token").get(token_checksum=__import__("hashlib").sha256(
        token["access_token"].encode()).hexdigest())
    assert stored.id_token is not None and str(stored.id_token.jti) == claims_of(token["id_token"])["jti"]
    # What the link is for: the ID token's session ends with the access token (RP-initiated logout).
    assert stored.id_token.user.username == "alice"


def test_the_directory_s_claims_follow_the_granted_scopes(client, applications):
    openid_only = claims_of(redeem(code_for(client, scope="openid")).json()["id_token"])
    assert "preferred_username" not in openid_only and "email" not in openid_only
    with_profile = claims_of(redeem(code_for(client, scope="openid profile email", client_id="wiki"),
                                    client_id="wiki").json()["id_token"])
    assert with_profile["preferred_username"] == "alice" and with_profile["email"] == "alice@example.com"
