"""onTokenGenerating for client-credentials grants (SMART backend services): no user session, claims still added."""
import io
import textwrap

import pytest
import requests
from django.core.management import call_command
from joserfc import jwt
from joserfc.jwk import KeySet

pytestmark = pytest.mark.django_db(transaction=True)

CALLBACK = "http://127.0.0.1:9/callback"
SECRET = "backend-secret-0123456789abcdef"
CONFIG = textwrap.dedent(f"""
    applications:
      - name: backend
        client_id: backend
        client_secret: {SECRET}
        redirect_uris: ["{CALLBACK}"]
        steps: {{1: [BasicAuthenticator]}}
        callbacks_script: |
          function onTokenGenerating(theUserSession, theAuthorizationRequestDetails) {{
            if (theUserSession !== null) throw new Error('a session for a client-credentials grant');
            var asked = theAuthorizationRequestDetails.getRequestParameters().scope;
            if (asked === 'system/Patient.rs system/Secret.rs') throw new Error('no secrets for machines');
            theAuthorizationRequestDetails.addAccessTokenClaim('tenant', 'north');
            theAuthorizationRequestDetails.addAccessTokenClaim('asked', asked);
          }}
      - name: plainbackend
        client_id: plainbackend
        client_secret: {SECRET}
        redirect_uris: ["{CALLBACK}"]
        steps: {{1: [BasicAuthenticator]}}
""")


@pytest.fixture
def server(live_server, tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG)
    call_command("apply", "-f", str(path), stdout=io.StringIO())
    return live_server.url


def token_request(base, client_id, scope):
    return requests.post(base + "/o/token/", data={"grant_type": "client_credentials", "scope": scope},
                         auth=(client_id, SECRET), timeout=30)


def test_on_token_generating_runs_without_a_session_and_its_claims_reach_the_access_token(server):
    answer = token_request(server, "backend", "system/Patient.rs")
    assert answer.status_code == 200, answer.text
    token = answer.json()
    assert token["scope"] == "system/Patient.rs" and "refresh_token" not in token and "id_token" not in token
    discovery = requests.get(server + "/o/.well-known/openid-configuration", timeout=30).json()
    keys = KeySet.import_key_set(requests.get(discovery["jwks_uri"], timeout=30).json())
    claims = jwt.decode(token["access_token"], keys, algorithms=["RS256"]).claims
    assert claims["tenant"] == "north" and claims["asked"] == "system/Patient.rs"
    assert claims["sub"] == "backend" and claims["client_id"] == "backend" and claims["scope"] == "system/Patient.rs"


def test_a_failing_on_token_generating_refuses_the_grant_without_a_500(server, caplog):
    answer = token_request(server, "backend", "system/Patient.rs system/Secret.rs")
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "invalid_grant"
    assert any("no secrets for machines" in r.getMessage() for r in caplog.records)


def test_a_wrong_secret_or_an_application_without_callbacks_gets_no_client_credentials_token(server):
    wrong = requests.post(server + "/o/token/", data={"grant_type": "client_credentials"},
                          auth=("backend", "not-the-secret-at-all"), timeout=30)
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    plain = token_request(server, "plainbackend", "openid")
    assert plain.status_code == 400 and plain.json()["error"] == "unauthorized_client"
