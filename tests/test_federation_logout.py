"""Signing out with a federated OpenID provider: a real one (the npm package oidc-provider on Node.js).

Signing out here (the account page, or this server's own /o/logout/) sends the browser to the provider's
end_session_endpoint with the ID token as hint and back, so the provider's session ends too; the provider's
back-channel logout token ends the sign-on sessions its logins created here.  Forged, replayed or unknown
logout tokens and sign-out answers get a clear refusal, never a 500.
"""
import io
import json
import re
import secrets
import threading
import time
from html import unescape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
import yaml
from authlib.integrations.requests_client import OAuth2Session
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.management import call_command
from joserfc import jwt
from joserfc.jwk import RSAKey

from authflow.federation.models import UpstreamSession
from authflow.sso.models import UserSession
from tests.support.browser import Browser
from tests.support.config import CALLBACK, public_app
from tests.support.oidc_op import OpenIDProvider

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "logout-client-secret-" + "y" * 16
ACCOUNTS = {"ann": {"password": "ann-at-the-provider", "claims": {"email": "ann@example.com",
                                                                  "preferred_username": "ann"}}}
BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
SCRIPT = """
    var onLoginRequest = function (context) {
        executeStep(1, {authenticationOptions: [{idp: 'corpout'}]}, {
            onFail: function (context) { fail({errorCode: 'access_denied', errorMessage: 'onFail ran'}); }
        });
    };
"""


@pytest.fixture(scope="module")
def op(live_server, tmp_path_factory):
    base = f"{live_server.url}/federation/oidc/corpout"
    provider = OpenIDProvider(tmp_path_factory.mktemp("op-logout"), accounts=ACCOUNTS, clients=[{
        "client_id": "authflow-logout", "client_secret": SECRET, "redirect_uris": [base + "/callback/"],
        "post_logout_redirect_uris": [base + "/logged-out/"],
        # Node.js may resolve localhost to ::1, where the live server does not listen.
        "backchannel_logout_uri": base.replace("localhost", "127.0.0.1") + "/backchannel-logout/",
        "backchannel_logout_session_required": True,
        "token_endpoint_auth_method": "client_secret_basic"}]).start()
    yield provider
    provider.stop()


@pytest.fixture
def base(op, live_server, tmp_path):
    entry = {"name": "corpout", "display_name": "Corp Out", "issuer": op.issuer, "client_id": "authflow-logout",
             "client_secret": SECRET, "scopes": "openid profile email", "user_policy": "provision",
             "username_claim": "preferred_username", "username_prefix": "out-"}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"identity_providers": [entry]}) + "applications:\n"
                    + public_app("shop", "{1: [{idp: corpout}]}", SCRIPT))
    call_command("apply", "-f", str(path), stdout=io.StringIO())
    return live_server.url


def sign_in(base, op) -> Browser:
    """A browser signed in here through the provider (the application got its code)."""
    discovery = requests.get(base + "/o/.well-known/openid-configuration", timeout=30).json()
    browser = Browser(base, stop_at=CALLBACK)
    client = OAuth2Session("shop", None, scope="openid", redirect_uri=CALLBACK, code_challenge_method="S256")
    uri, _ = client.create_authorization_url(discovery["authorization_endpoint"],
                                             code_verifier=secrets.token_urlsafe(48))
    page = browser.get(uri)
    assert page.url.startswith(op.issuer + "/interaction/"), page.url
    done = browser.submit({"login": "ann", "password": ACCOUNTS["ann"]["password"]}, url=page.url, keep=())
    assert done.callback and "code=" in done.callback, (done.status_code, done.text[:300])
    return browser


def provider_session_alive(browser, op) -> bool:
    """Whether the provider still knows the browser: a prompt=none request gets a code, not login_required."""
    response = browser.session.get(op.issuer + "/auth", params={
        "client_id": "authflow-logout", "response_type": "code", "scope": "openid", "prompt": "none",
        "redirect_uri": f"{browser.base_url}/federation/oidc/corpout/callback/",
        "code_challenge": "x" * 43, "code_challenge_method": "S256"}, allow_redirects=False, timeout=30)
    return "code=" in response.headers.get("Location", "")


def confirm_at_provider(browser, page, op):
    """The provider's sign-out confirmation: its form's xsrf field, and logout=yes."""
    assert "Test provider sign-out" in page.text, page.text[:300]
    xsrf = unescape(re.search(r'name="xsrf" value="([^"]+)"', page.text).group(1))
    action = unescape(re.search(r'<form[^>]*action="([^"]+)"', page.text).group(1))
    response = browser.session.post(requests.compat.urljoin(page.url, action),
                                    data={"xsrf": xsrf, "logout": "yes"}, allow_redirects=False, timeout=30)
    return browser._follow(response)


def test_the_upstream_sign_in_is_kept_with_the_session_and_the_id_token_encrypted(op, base):
    sign_in(base, op)
    row = UpstreamSession.objects.get()
    assert row.session is not None and row.session.user.username == "out-ann" and row.subject == "ann"
    assert row.sid and row.id_token().count(".") == 2
    assert "eyJ" not in row.encrypted_id_token  # not a JWT in clear


def test_signing_out_on_the_account_page_ends_the_provider_session_too(op, base, live_server):
    browser = sign_in(base, op)
    assert provider_session_alive(browser, op)
    browser.get(base + "/account/")
    page = browser.submit({}, url=f"{base}/account/sign-out/", keep=("csrfmiddlewaretoken",))
    # Sent to the provider's end_session_endpoint with the ID token as hint, a state, and our return address.
    sent = browser.trail[1].url
    assert sent.startswith(op.issuer + "/session/end") and "id_token_hint=" in sent and "state=" in sent
    assert "post_logout_redirect_uri=" + requests.utils.quote(f"{live_server.url}/federation/oidc/corpout/logged-out/",
                                                              safe="") in sent
    done = confirm_at_provider(browser, page, op)
    assert done.url == f"{base}/account/signed-out/" and "You are signed out" in done.text
    assert not provider_session_alive(browser, op)
    assert UserSession.objects.get().end_reason == "signed out"
    assert UpstreamSession.objects.get().ended_at is not None


def test_this_servers_own_rp_initiated_logout_goes_through_the_provider_to_the_application(op, base):
    browser = sign_in(base, op)
    page = browser.get(f"{base}/o/logout/?client_id=shop&post_logout_redirect_uri={CALLBACK}&state=app-state")
    assert "Sign out of shop?" in page.text  # no id_token_hint: this server asks first
    page = browser.submit({"allow": "Logout"}, keep=tuple(browser.hidden_fields()))
    assert page.url.startswith(op.issuer + "/session/end"), page.url
    done = confirm_at_provider(browser, page, op)
    # Back here, then on to where the application asked to go, with its own state.
    assert done.callback == f"{CALLBACK}?state=app-state"
    assert not provider_session_alive(browser, op)
    assert UserSession.objects.get().ended_at is not None


def test_a_sign_out_answer_with_an_unknown_or_used_state_gets_a_clear_page(op, base):
    browser = sign_in(base, op)
    browser.stop_at = f"{base}/federation/"
    browser.get(base + "/account/")
    page = browser.submit({}, url=f"{base}/account/sign-out/", keep=("csrfmiddlewaretoken",))
    back = confirm_at_provider(browser, page, op)
    assert back.callback and "/logged-out/?state=" in back.callback
    assert browser.get(back.callback).url == f"{base}/account/signed-out/"  # used once, on to the signed-out page
    replayed = browser.get(back.callback)
    assert replayed.status_code == 400 and "This sign-out response is not valid" in replayed.text
    forged = browser.get(f"{base}/federation/oidc/corpout/logged-out/?state=" + "z" * 43)
    assert forged.status_code == 400


def test_the_providers_back_channel_logout_ends_the_session_its_login_created(op, base):
    browser = sign_in(base, op)
    other = sign_in(base, op)  # another browser, another session at the provider (another sid)
    assert browser.get(base + "/account/").status_code == 200
    # The user signs out at the provider itself: it posts a logout token to our back-channel endpoint.
    page = browser.get(op.issuer + "/session/end")
    confirm_at_provider(browser, page, op)
    sessions = {s.end_reason for s in UserSession.objects.all()}
    assert sessions == {"signed out at corpout", ""}
    page = browser.get(base + "/account/")
    assert page.url.startswith(f"{base}/login/"), page.url  # signed out here too
    assert other.get(base + "/account/").status_code == 200  # the other session (another sid) is untouched


class KeysProvider:
    """A small OpenID provider of our own on 127.0.0.1: discovery and a JWKS holding a key the test signs with,
    so that logout tokens of every shape can be made (the real provider only makes valid ones)."""

    def __init__(self):
        self.key = RSAKey.import_key(rsa.generate_private_key(65537, 2048), parameters={"kid": "k1"})
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                documents = {"/.well-known/openid-configuration": {
                    "issuer": outer.issuer, "authorization_endpoint": outer.issuer + "/auth",
                    "token_endpoint": outer.issuer + "/token", "jwks_uri": outer.issuer + "/jwks",
                    "id_token_signing_alg_values_supported": ["RS256"]},
                    "/jwks": {"keys": [outer.key.as_dict(private=False, alg="RS256", use="sig")]}}
                body = json.dumps(documents.get(self.path, {})).encode()
                self.send_response(200 if self.path in documents else 404)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def token(self, key=None, **changes):
        claims = {"iss": self.issuer, "aud": "authflow-keys", "iat": int(time.time()), "jti": secrets.token_hex(16),
                  "events": {BACKCHANNEL_EVENT: {}}, "sub": "ann"}
        claims.update(changes)
        return jwt.encode({"alg": "RS256", "kid": "k1"}, {k: v for k, v in claims.items() if v is not None},
                          key or self.key)


@pytest.fixture
def keys_provider(base, tmp_path):
    provider = KeysProvider()
    path = tmp_path / "keys.yaml"
    path.write_text(yaml.safe_dump({"identity_providers": [
        {"name": "corpkeys", "issuer": provider.issuer, "client_id": "authflow-keys", "client_secret": SECRET}]}))
    call_command("apply", "-f", str(path), stdout=io.StringIO())
    yield provider
    provider.server.shutdown()


def post_token(base, token, name="corpkeys"):
    return requests.post(f"{base}/federation/oidc/{name}/backchannel-logout/", data={"logout_token": token},
                         timeout=30)


def test_a_logout_token_with_a_bad_signature_is_refused_and_ends_nothing(op, base, keys_provider):
    sign_in(base, op)
    other_key = RSAKey.import_key(rsa.generate_private_key(65537, 2048))
    answer = post_token(base, keys_provider.token(key=other_key))
    assert answer.status_code == 400 and "signature does not verify" in answer.json()["error_description"]
    # A token of another provider's making, sent to the real provider's endpoint: its key is not that provider's.
    answer = post_token(base, keys_provider.token(iss=op.issuer, aud="authflow-logout"), name="corpout")
    assert answer.status_code == 400 and "logout token" in answer.json()["error_description"]
    assert UserSession.objects.get().ended_at is None


def test_a_malformed_or_missing_logout_token_and_an_unknown_provider_get_a_clear_400(base, keys_provider):
    malformed = post_token(base, "not-a-jwt")
    assert malformed.status_code == 400 and malformed.json()["error"] == "invalid_request"
    missing = requests.post(f"{base}/federation/oidc/corpkeys/backchannel-logout/", timeout=30)
    assert missing.status_code == 400 and "no logout_token" in missing.json()["error_description"]
    assert post_token(base, keys_provider.token(), name="nobody").status_code == 400
    assert requests.get(f"{base}/federation/oidc/corpkeys/backchannel-logout/", timeout=30).status_code == 405


@pytest.mark.parametrize("changes, reason", [
    ({"iss": "https://other.example"}, "issued by another provider"),
    ({"aud": "someone-else"}, "for another client"),
    ({"iat": None}, "has no iat"),
    ({"iat": int(time.time()) - 3600}, "not recent"),
    ({"exp": int(time.time()) - 600}, "not valid now"),
    ({"events": None}, "no back-channel logout event"),
    ({"events": {"urn:other": {}}}, "no back-channel logout event"),
    ({"nonce": "n"}, "carries a nonce"),
    ({"sub": None}, "neither a session (sid) nor a subject (sub)"),
    ({"jti": None}, "has no jti"),
])
def test_a_logout_token_failing_a_check_is_refused(base, keys_provider, changes, reason):
    answer = post_token(base, keys_provider.token(**changes))
    assert answer.status_code == 400 and reason in answer.json()["error_description"], answer.text


def test_an_unknown_sid_ends_nothing_and_a_replayed_jti_is_refused(base, keys_provider):
    token = keys_provider.token(sub=None, sid="no-such-session")
    answer = post_token(base, token)
    assert answer.status_code == 200 and answer.json() == {"sessions_ended": 0}
    assert "no-store" in answer.headers["Cache-Control"]
    replayed = post_token(base, token)
    assert replayed.status_code == 400 and "already used (jti replay)" in replayed.json()["error_description"]
