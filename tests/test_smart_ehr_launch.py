"""SMART EHR launch: an EHR registers a launch through the API; the application's login carries its context."""
import io
import secrets
import textwrap
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from django.core.management import call_command
from joserfc import jwt
from joserfc.jwk import KeySet

from authflow.api.models import AuditEntry
from tests.support.api import api_client
from tests.support.browser import Browser

pytestmark = pytest.mark.django_db(transaction=True)

CALLBACK = "http://127.0.0.1:9/callback"
CONFIG = textwrap.dedent(f"""
    applications:
      - name: ehrapp
        client_id: ehrapp
        client_type: public
        redirect_uris: ["{CALLBACK}"]
        steps: {{1: [BasicAuthenticator]}}
        callbacks_script: &callbacks |
          function onTokenGenerating(theUserSession, theAuthorizationRequestDetails) {{
            var context = theAuthorizationRequestDetails.launchContext;
            theAuthorizationRequestDetails.addAccessTokenClaim('ehr', context);
            theAuthorizationRequestDetails.addAccessTokenClaim('launch_param', theAuthorizationRequestDetails.launch);
          }}
      - name: otherapp
        client_id: otherapp
        client_type: public
        redirect_uris: ["{CALLBACK}"]
        steps: {{1: [BasicAuthenticator]}}
        callbacks_script: *callbacks
      - name: plain
        client_id: plain
        client_type: public
        redirect_uris: ["{CALLBACK}"]
        steps: {{1: [BasicAuthenticator]}}
    users:
      - {{username: alice, password: "alice-password-123"}}
""")


@pytest.fixture
def server(live_server, tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG)
    call_command("apply", "-f", str(path), stdout=io.StringIO())
    discovery = requests.get(live_server.url + "/o/.well-known/openid-configuration", timeout=30).json()
    return live_server.url, discovery


@pytest.fixture
def ehr():
    return api_client("smart:launch", name="ehr")


def register(ehr, **body):
    return ehr.post("/api/v1/smart-launches/", body, format="json")


def login(server, client_id="ehrapp", scope="openid launch patient/*.read", **extra):
    base, discovery = server
    browser = Browser(base, stop_at=CALLBACK)
    client = OAuth2Session(client_id, None, scope=scope, redirect_uri=CALLBACK, code_challenge_method="S256",
                           token_endpoint=discovery["token_endpoint"])
    verifier = secrets.token_urlsafe(48)
    uri, _ = client.create_authorization_url(discovery["authorization_endpoint"], code_verifier=verifier, **extra)
    page = browser.get(uri)
    assert page.status_code == 200 and 'name="password"' in page.text, page.text[:500]
    done = browser.submit({"username": "alice", "password": "alice-password-123"})
    assert done.callback, (done.status_code, done.text[:500])
    return client, verifier, done


def refused(done) -> str:
    query = parse_qs(urlsplit(done.callback).query)
    assert query["error"] == ["access_denied"] and "code" not in query, done.callback
    return query["error_description"][0]


def test_a_registered_launch_reaches_the_token_response_and_on_token_generating(server, ehr):
    answer = register(ehr, application="ehrapp", patient="pat-7", encounter="enc.9")
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert (body["application"], body["patient"], body["encounter"]) == ("ehrapp", "pat-7", "enc.9")
    assert 0 < body["expires_in"] <= 600 and len(body["launch"]) >= 40
    entry = AuditEntry.objects.get(target_type="smart_launch")
    assert (entry.action, entry.target_id, entry.actor) == ("create", "ehrapp", "client:" + ehr.client_id)
    assert body["launch"] not in str(entry.detail)  # the launch id is a bearer secret: not in the audit log

    client, verifier, done = login(server, launch=body["launch"])
    token = client.fetch_token(authorization_response=done.callback, code_verifier=verifier)
    assert (token["patient"], token["encounter"]) == ("pat-7", "enc.9")
    assert {"reference": "Patient/pat-7"} in token["fhirContext"]
    assert {"reference": "Encounter/enc.9"} in token["fhirContext"]
    keys = KeySet.import_key_set(requests.get(server[1]["jwks_uri"], timeout=30).json())
    claims = jwt.decode(token["access_token"], keys, algorithms=["RS256"]).claims
    assert claims["ehr"] == {"patient": "pat-7", "encounter": "enc.9"}
    assert claims["launch_param"] == body["launch"] and claims["patient"] == "pat-7"

    # One use: the same launch id again is refused.
    _, _, again = login(server, launch=body["launch"])
    assert "already used" in refused(again)


def test_without_a_launch_on_token_generating_sees_no_launch_context(server):
    client, verifier, done = login(server, scope="openid patient/*.read")
    token = client.fetch_token(authorization_response=done.callback, code_verifier=verifier)
    assert "patient" not in token and "encounter" not in token
    keys = KeySet.import_key_set(requests.get(server[1]["jwks_uri"], timeout=30).json())
    claims = jwt.decode(token["access_token"], keys, algorithms=["RS256"]).claims
    assert claims["ehr"] is None


def test_a_launch_is_bound_to_its_application_and_needs_the_launch_scope(server, ehr):
    launch = register(ehr, application="ehrapp", patient="pat-7").json()["launch"]
    _, _, done = login(server, client_id="otherapp", launch=launch)
    assert "open the application from the EHR again" in refused(done)
    # The other application's attempt used it up: the right application no longer can either.
    _, _, done = login(server, launch=launch)
    assert "already used" in refused(done)

    launch = register(ehr, application="ehrapp", patient="pat-8").json()["launch"]
    _, _, done = login(server, scope="openid patient/*.read", launch=launch)
    assert "launch scope" in refused(done)
    _, _, done = login(server, launch="made-up-launch-id-" + "x" * 30)
    assert "unknown" in refused(done)


@pytest.mark.parametrize("body, field, message", [
    ({"application": "ehrapp"}, None, "a launch needs a patient or an encounter"),
    ({"application": "nosuchapp", "patient": "p1"}, "application", "no application has this name"),
    ({"application": "plain", "patient": "p1"}, "application", "no callbacks script"),
    ({"application": "ehrapp", "patient": "has spaces"}, "patient", ""),
    ({"patient": "p1"}, "application", ""),
])
def test_a_bad_registration_gets_the_apis_json_error(server, ehr, body, field, message):
    answer = register(ehr, **body)
    assert answer.status_code == 400, answer.content
    errors = answer.json()["errors"]
    assert any(e["field"] == field and message in e["message"] for e in errors), errors
    assert not AuditEntry.objects.filter(target_type="smart_launch").exists()


def test_registering_needs_the_smart_launch_scope(server):
    reader = api_client("applications:read", name="reader")
    answer = register(reader, application="ehrapp", patient="p1")
    assert answer.status_code == 403 and "smart:launch" in answer.json()["errors"][0]["message"]
