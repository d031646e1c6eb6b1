"""The custom authenticators' REST API and token grant, driven over HTTP as a mobile app would drive them."""
import io
import secrets
import textwrap
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from django.core.management import call_command

from authflow.custom_authenticators.grant import GRANT_TYPE
from authflow.custom_authenticators.models import Registration
from tests.support.browser import Browser

pytestmark = pytest.mark.django_db(transaction=True)

CALLBACK = "http://127.0.0.1:9/callback"


def indented(script, by=8):
    return textwrap.indent(textwrap.dedent(script).strip() + "\n", " " * by)


REGISTRATION = """
function execute(requestPayload, userIdentifier) {
  LOG.info("registering {}", userIdentifier);
  var request = JSON.parse(requestPayload);
  if (request.pin.length < 4) return {status: 4000, responsePayload: "pin too short"};
  return {status: 2000, registrationData: request.pin, responsePayload: "welcome " + userIdentifier};
}
"""
AUTHENTICATION = """
function execute(requestPayload, userIdentifier, registrationData) {
  if (requestPayload.equals("revoke")) return {status: 5000, responsePayload: "device revoked"};
  if (requestPayload.equals("crash")) throw new Error("secret internals");
  return {status: requestPayload.equals(registrationData) ? 2000 : 4000, responsePayload: ""};
}
"""
CONFIG = f"""
applications:
  - name: mobile
    client_id: mobile
    client_type: public
    redirect_uris: ["{CALLBACK}"]
    steps: {{1: [BasicAuthenticator]}}
users:
  - {{username: alice, password: "alice-password-123"}}
  - {{username: bob, password: "bob-password-123"}}
custom_authenticators:
  - name: pin
    display_name: PIN
    max_failed_attempts: 3
    registration_script: |
{indented(REGISTRATION)}    authentication_script: |
{indented(AUTHENTICATION)}"""


@pytest.fixture
def server(live_server, tmp_path, settings):
    settings.AUTHFLOW_CUSTOM_AUTHENTICATOR_GRANT_CLIENTS = ["mobile"]
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG)
    call_command("apply", "-f", str(path), stdout=io.StringIO())
    discovery = requests.get(live_server.url + "/o/.well-known/openid-configuration", timeout=30).json()
    return live_server.url, discovery


def user_token(base, discovery, username="alice", password="alice-password-123",
               scope="openid custom_authenticators"):
    """An access token for the user, through the authorization code flow with PKCE (a browser sign-in)."""
    client = OAuth2Session("mobile", scope=scope, redirect_uri=CALLBACK, code_challenge_method="S256",
                           token_endpoint=discovery["token_endpoint"])
    verifier = secrets.token_urlsafe(48)
    uri, _ = client.create_authorization_url(discovery["authorization_endpoint"], code_verifier=verifier,
                                             nonce=secrets.token_urlsafe(16))
    browser = Browser(base, stop_at=CALLBACK)
    browser.get(uri)
    done = browser.submit({"username": username, "password": password})
    assert done.callback, done.text
    token = client.fetch_token(authorization_response=done.callback, code_verifier=verifier)
    return token["access_token"]


def api(base, token):
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    session.base = base + "/custom-authenticators/"
    return session


def grant(base, discovery, payload, username="alice", authenticator="pin", client_id="mobile", **extra):
    return requests.post(discovery["token_endpoint"], data={
        "grant_type": GRANT_TYPE, "client_id": client_id, "authenticator": authenticator, "username": username,
        "request_payload": payload, "scope": "custom_authenticators", **extra}, timeout=30)


def test_register_authenticate_list_and_deregister(server):
    base, discovery = server
    session = api(base, user_token(base, discovery))
    assert session.get(session.base + "registrations/", timeout=30).json() == {"registrations": []}

    short = session.post(session.base + "pin/registration/", json={"requestPayload": '{"pin": "12"}'}, timeout=30)
    assert (short.status_code, short.json()) == (400, {"status": 4000, "responsePayload": "pin too short"})
    done = session.post(session.base + "pin/registration/", json={"requestPayload": '{"pin": "2468"}'}, timeout=30)
    assert (done.status_code, done.json()) == (200, {"status": 2000, "responsePayload": "welcome alice"})
    again = session.post(session.base + "pin/registration/", json={"requestPayload": '{"pin": "1357"}'}, timeout=30)
    assert (again.status_code, again.json()["status"]) == (409, 4001)

    listed = session.get(session.base + "registrations/", timeout=30).json()["registrations"]
    assert [(r["authenticator"], r["displayName"]) for r in listed] == [("pin", "PIN")]

    right = session.post(session.base + "pin/authentication/", json={"requestPayload": "2468"}, timeout=30)
    assert (right.status_code, right.json()["status"]) == (200, 2000)
    wrong = session.post(session.base + "pin/authentication/", json={"requestPayload": "0000"}, timeout=30)
    assert (wrong.status_code, wrong.json()) == (400, {"status": 4000, "responsePayload": "", "remainingAttempts": 2})

    gone = session.delete(session.base + "pin/registration/", timeout=30)
    assert (gone.status_code, gone.json()["status"]) == (200, 2000)
    missing = session.post(session.base + "pin/authentication/", json={"requestPayload": "2468"}, timeout=30)
    assert (missing.status_code, missing.json()["status"]) == (404, 4002)
    assert session.delete(session.base + "pin/registration/", timeout=30).status_code == 404


def test_engine_errors_are_a_500_without_the_script_s_message(server):
    base, discovery = server
    session = api(base, user_token(base, discovery))
    session.post(session.base + "pin/registration/", json={"requestPayload": '{"pin": "2468"}'}, timeout=30)
    crash = session.post(session.base + "pin/authentication/", json={"requestPayload": "crash"}, timeout=30)
    assert crash.status_code == 500
    assert crash.json() == {"status": 3001, "error": "server_error",
                            "message": "The authenticator could not process the request."}
    assert "secret internals" not in crash.text
    # A payload the registration script cannot parse: its exception, a 3001 too.
    Registration.objects.all().delete()
    bad = session.post(session.base + "pin/registration/", json={"requestPayload": "not json"}, timeout=30)
    assert (bad.status_code, bad.json()["status"]) == (500, 3001)


def test_5000_removes_the_registration(server):
    base, discovery = server
    session = api(base, user_token(base, discovery))
    session.post(session.base + "pin/registration/", json={"requestPayload": '{"pin": "2468"}'}, timeout=30)
    revoked = session.post(session.base + "pin/authentication/", json={"requestPayload": "revoke"}, timeout=30)
    assert (revoked.status_code, revoked.json()) == (400, {"status": 5000, "responsePayload": "device revoked",
                                                           "registrationRemoved": True})
    assert session.get(session.base + "registrations/", timeout=30).json() == {"registrations": []}


def test_the_api_requires_a_user_token_with_the_scope(server):
    base, discovery = server
    url = base + "/custom-authenticators/registrations/"
    assert requests.get(url, timeout=30).status_code == 401
    assert requests.get(url, headers={"Authorization": "Bearer not-a-token"}, timeout=30).status_code == 401
    without_scope = user_token(base, discovery, scope="openid")
    assert requests.get(url, headers={"Authorization": f"Bearer {without_scope}"}, timeout=30).status_code == 403


def test_bad_requests_are_400s_and_unknown_authenticators_404s(server):
    base, discovery = server
    session = api(base, user_token(base, discovery))
    not_text = session.post(session.base + "pin/registration/", json={"requestPayload": {"pin": 1}}, timeout=30)
    assert (not_text.status_code, not_text.json()["error"]) == (400, "invalid_request")
    broken = session.post(session.base + "pin/registration/", data=b"{not json",
                          headers={"Content-Type": "application/json"}, timeout=30)
    assert broken.status_code == 400
    huge = session.post(session.base + "pin/registration/", json={"requestPayload": "x" * (64 * 1024 + 1)}, timeout=30)
    assert (huge.status_code, huge.json()["error"]) == (400, "invalid_request")
    assert grant(base, discovery, "x" * (64 * 1024 + 1)).json()["error"] == "invalid_request"
    assert not Registration.objects.exists()
    unknown = session.post(session.base + "nope/registration/", json={"requestPayload": "x"}, timeout=30)
    assert (unknown.status_code, unknown.json()["error"]) == (404, "unknown_authenticator")


def test_the_grant_issues_tokens_for_the_user_after_a_successful_authentication(server):
    base, discovery = server
    session = api(base, user_token(base, discovery))
    session.post(session.base + "pin/registration/", json={"requestPayload": '{"pin": "2468"}'}, timeout=30)

    refused = grant(base, discovery, "1111")
    assert refused.status_code == 400
    body = refused.json()
    assert (body["error"], body["status"], body["remainingAttempts"]) == ("invalid_grant", 4000, 2)
    assert "access_token" not in body
    issued = grant(base, discovery, "2468")
    assert issued.status_code == 200, issued.text
    token = issued.json()
    assert token["token_type"] == "Bearer" and token["scope"] == "custom_authenticators" and token["refresh_token"]
    # The token is alice's: the API answers with her registrations.
    mine = api(base, token["access_token"]).get(base + "/custom-authenticators/registrations/", timeout=30)
    assert [r["authenticator"] for r in mine.json()["registrations"]] == ["pin"]
    # Bob has no registration; an unknown user looks the same.
    for username in ("bob", "nobody"):
        response = grant(base, discovery, "2468", username=username)
        assert (response.status_code, response.json()["error"], response.json()["status"]) == (400, "invalid_grant",
                                                                                                4002)


def test_the_grant_s_attempt_limit_and_client_allow_list(server, settings):
    base, discovery = server
    session = api(base, user_token(base, discovery))
    session.post(session.base + "pin/registration/", json={"requestPayload": '{"pin": "2468"}'}, timeout=30)
    answers = [grant(base, discovery, "0000").json() for _ in range(3)]
    assert [a.get("remainingAttempts") for a in answers] == [2, 1, 0]
    assert answers[-1]["registrationRemoved"] is True
    assert grant(base, discovery, "2468").json()["status"] == 4002  # the right PIN, too late
    settings.AUTHFLOW_CUSTOM_AUTHENTICATOR_GRANT_CLIENTS = []
    assert grant(base, discovery, "2468").json()["error"] == "unauthorized_client"
    settings.AUTHFLOW_CUSTOM_AUTHENTICATOR_GRANT_CLIENTS = ["mobile"]
    assert grant(base, discovery, "2468", authenticator="nope").json()["error"] == "invalid_request"
    assert grant(base, discovery, "2468", client_id="unknown").status_code == 401


def test_the_rate_limit_answers_429(server, settings):
    settings.AUTHFLOW_CUSTOM_AUTHENTICATOR_RATE_LIMIT = {"attempts": 2, "window_seconds": 60}
    base, discovery = server
    session = api(base, user_token(base, discovery))
    session.post(session.base + "pin/registration/", json={"requestPayload": '{"pin": "2468"}'}, timeout=30)
    for _ in range(2):
        grant(base, discovery, "0000")
    limited = grant(base, discovery, "2468")
    assert (limited.status_code, limited.json()["error"]) == (429, "slow_down")
    api_limited = session.post(session.base + "pin/authentication/", json={"requestPayload": "2468"}, timeout=30)
    assert (api_limited.status_code, api_limited.json()["error"]) == (429, "too_many_attempts")


# ---------------------------------------------------------------- as a login step

STEP_APP = f"""
  - name: branch
    client_id: branch
    client_type: public
    redirect_uris: ["{CALLBACK}"]
    steps: {{1: [BasicAuthenticator], 2: [pin, totp]}}
    script: |
      var onLoginRequest = function (context) {{
          executeStep(1, {{onSuccess: function (context) {{
              executeStep(2, {{authenticationOptions: [{{authenticator: 'pin'}}]}}, {{
                  onFail: function (context) {{
                      Log.info('pin failed for ' + context.currentKnownSubject.username);
                      fail({{errorCode: 'access_denied', errorMessage: 'The PIN was not accepted.'}});
                  }}
              }});
          }}}});
      }};
"""


@pytest.fixture
def branch(server, tmp_path):
    base, discovery = server
    path = tmp_path / "branch.yaml"
    path.write_text(CONFIG.replace("applications:\n", "applications:\n" + STEP_APP.lstrip("\n"), 1))
    call_command("apply", "-f", str(path), stdout=io.StringIO())
    session = api(base, user_token(base, discovery))
    assert session.post(session.base + "pin/registration/", json={"requestPayload": '{"pin": "2468"}'},
                        timeout=30).status_code == 200
    return base, discovery


def start_branch_login(base, discovery):
    client = OAuth2Session("branch", scope="openid", redirect_uri=CALLBACK, code_challenge_method="S256",
                           token_endpoint=discovery["token_endpoint"])
    verifier = secrets.token_urlsafe(48)
    uri, _ = client.create_authorization_url(discovery["authorization_endpoint"], code_verifier=verifier)
    browser = Browser(base, stop_at=CALLBACK)
    browser.get(uri)
    return browser, client, verifier


def test_a_login_step_runs_the_authentication_script(branch):
    base, discovery = branch
    browser, client, verifier = start_branch_login(base, discovery)
    page = browser.submit({"username": "alice", "password": "alice-password-123"})
    assert 'name="request_payload"' in page.text and "PIN" in page.text
    page = browser.submit({"request_payload": "2468"})
    assert page.callback, page.text
    assert "code" in parse_qs(urlsplit(page.callback).query)
    token = client.fetch_token(authorization_response=page.callback, code_verifier=verifier)
    assert token["id_token"]


def test_a_wrong_payload_fails_the_step_and_the_script_decides(branch):
    base, discovery = branch
    browser, _, _ = start_branch_login(base, discovery)
    browser.submit({"username": "alice", "password": "alice-password-123"})
    page = browser.submit({"request_payload": "0000"})
    assert page.callback, page.text
    query = parse_qs(urlsplit(page.callback).query)
    assert query["error"] == ["access_denied"] and query["error_description"] == ["The PIN was not accepted."]
    assert Registration.objects.get(user__username="alice").failed_attempts == 1


def test_a_user_without_a_registration_fails_the_step(branch):
    base, discovery = branch
    browser, _, _ = start_branch_login(base, discovery)
    page = browser.submit({"username": "bob", "password": "bob-password-123"})
    assert "PIN is not set up" in page.text and 'name="request_payload"' not in page.text
    page = browser.submit({"action": "not_enrolled"})  # the script's onFail decides
    assert page.callback and parse_qs(urlsplit(page.callback).query)["error"] == ["access_denied"], page.text
