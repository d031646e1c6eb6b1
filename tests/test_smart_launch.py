"""A SMART on FHIR login through the server: the callbacks shape what the token response grants."""
import io
import json
import secrets
import textwrap
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from django.core.management import call_command
from fhirclient.client import FHIRClient
from joserfc import jwt
from joserfc.jwk import KeySet

from authflow.callbacks.models import LoginGrant
from tests.support.browser import Browser

pytestmark = pytest.mark.django_db(transaction=True)

CALLBACK = "http://127.0.0.1:9/callback"
SMART_SCOPE = "openid fhirUser launch/patient patient/*.read"
CONFIG = textwrap.dedent(f"""
    applications:
      - name: chart
        client_id: chart
        client_type: public
        redirect_uris: ["{CALLBACK}"]
        steps: {{1: [BasicAuthenticator]}}
        callbacks_script: &chart_callbacks |
          function onAuthenticateSuccess(theOutcome, theOutcomeFactory, theContext) {{
            if (theOutcome.username === 'mallory') {{
              var failure = theOutcomeFactory.newFailure();
              failure.message = 'This account may not open patient charts.';
              return failure;
            }}
            if (theOutcome.username === 'broken') {{
              theContext.nothing.here = 1;
            }}
            theOutcome.addAuthority('FHIR_READ_ALL_IN_COMPARTMENT', 'Patient/' + theContext.getClaim('family_name'));
            theOutcome.addApprovedScope('patient/Observation.rs');
            if (theOutcome.username === 'alice') {{
              theOutcome.addLaunchResourceId('patient', 'p-' + theOutcome.getUsername());
              theOutcome.addFhirContextReference('List/456', 'https://example.org/med-list-at-home');
            }}
            return theOutcome;
          }}
          function onSmartLoginPreContextSelection(theUserSession, theContextSelectionChoices) {{
            if (theUserSession.username !== 'homer') return;
            var bart = theContextSelectionChoices.addPerson();
            bart.familyName = 'Simpson'; bart.givenName = 'Bart'; bart.birthDate = '1979-12-17';
            bart.associatedPatientContextResourceId = 'bart-1';
            bart.addAuthority('FHIR_READ_ALL_IN_COMPARTMENT', 'Patient/bart-1');
            bart.removeRequestedScopes('patient/*.read');
            var lisa = theContextSelectionChoices.addPerson();
            lisa.familyName = 'Simpson'; lisa.givenName = 'Lisa'; lisa.birthDate = '1981-05-09';
            lisa.associatedPatientContextResourceId = 'lisa-2';
            lisa.addAuthority('FHIR_READ_ALL_IN_COMPARTMENT', 'Patient/lisa-2');
            lisa.addAutoGrantScopes('patient/Condition.rs');
            theContextSelectionChoices.addDisplayTranslation('patient/Condition.rs', 'Read her conditions');
          }}
          function onPostAuthorize(theDetails) {{
            Log.info('Successful completion of grant type: ' + theDetails.grantType + ' for ' + theDetails.username);
            Log.info(' * Authorized scopes: ' + theDetails.grantedScopes);
            Log.info(' * Requesting practitioner: ' + theDetails.requestingPractitioner.identifier.value);
          }}
          function onTokenGenerating(theUserSession, theAuthorizationRequestDetails) {{
            theAuthorizationRequestDetails.addAccessTokenClaim('tenant', 'north');
            theAuthorizationRequestDetails.addAccessTokenClaim('level', 3);
            theAuthorizationRequestDetails.addAccessTokenClaim('care', {{team: ['a', 'b'], lead: null}});
            theAuthorizationRequestDetails.addAccessTokenClaim('aud', 'not-mine');
            Log.info('token for ' + theUserSession.getOidcClientId() + ' aud ' + theAuthorizationRequestDetails.getAudience());
            if (theUserSession.username === 'alice') {{
              theUserSession.removeApprovedScope('patient/*.read');
            }}
            if (theUserSession.username === 'homer') {{
              theUserSession.addLaunchContextParameter('need_patient_banner', true);
              theUserSession.addLaunchContextParameter('smart_style_url', 'https://chart.example/style.json');
              theUserSession.addLaunchContextParameter('access_token', 'forged');
            }}
            if (theUserSession.username === 'marge') {{
              theAuthorizationRequestDetails.addAccessTokenClaim('smile_internal', 1);
            }}
          }}
      - name: records
        client_id: records
        client_secret: records-secret-0123456789
        redirect_uris: ["{CALLBACK}"]
        steps: {{1: [BasicAuthenticator]}}
        callbacks_script: *chart_callbacks
      - name: gate
        client_id: gate
        client_type: public
        redirect_uris: ["{CALLBACK}"]
        steps: {{1: [ScriptedAuthenticator]}}
        callbacks_script: |
          function authenticate(theRequest, theOutcomeFactory) {{
            Log.info('checking ' + theRequest.username + ' with ' + theRequest.password);
            if (theRequest.getPassword() !== 'open-sesame-' + theRequest.username) {{
              var failure = theOutcomeFactory.newFailure();
              failure.message = 'Wrong passphrase.';
              failure.incorrectPassword = true;
              return failure;
            }}
            var outcome = theOutcomeFactory.newSuccess();
            outcome.username = theRequest.username.toLowerCase();
            return outcome;
          }}
      - name: plain
        client_id: plain
        client_type: public
        redirect_uris: ["{CALLBACK}"]
        steps: {{1: [BasicAuthenticator]}}
    users:
      - {{username: alice, password: "alice-password-123", last_name: Liddell}}
      - {{username: homer, password: "homer-password-123", last_name: Simpson}}
      - {{username: mallory, password: "mallory-password-123"}}
      - {{username: broken, password: "broken-password-123"}}
      - {{username: marge, password: "marge-password-123"}}
""")


@pytest.fixture
def server(live_server, tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG)
    call_command("apply", "-f", str(path), stdout=io.StringIO())
    discovery = requests.get(live_server.url + "/o/.well-known/openid-configuration", timeout=30).json()
    return live_server.url, discovery


def login(server, username, client_id="chart", scope=SMART_SCOPE):
    base, discovery = server
    browser = Browser(base, stop_at=CALLBACK)
    client = OAuth2Session(client_id, None, scope=scope, redirect_uri=CALLBACK, code_challenge_method="S256",
                           token_endpoint=discovery["token_endpoint"])
    verifier = secrets.token_urlsafe(48)
    uri, state = client.create_authorization_url(discovery["authorization_endpoint"], code_verifier=verifier,
                                                 nonce=secrets.token_urlsafe(16))
    page = browser.get(uri)
    assert page.status_code == 200 and 'name="password"' in page.text, page.text[:500]
    done = browser.submit({"username": username, "password": f"{username}-password-123"})
    return browser, client, verifier, done


def test_the_outcome_reaches_the_token_response(server):
    _, client, verifier, done = login(server, "alice")
    assert done.callback, done.text[:500]
    token = client.fetch_token(authorization_response=done.callback, code_verifier=verifier)
    assert token["patient"] == "p-alice"
    assert token["fhirContext"] == [{"reference": "Patient/p-alice"},
                                    {"reference": "List/456", "role": "https://example.org/med-list-at-home"}]
    assert token["authorities"] == [{"permission": "FHIR_READ_ALL_IN_COMPARTMENT", "argument": "Patient/Liddell"}]
    # addApprovedScope in onAuthenticateSuccess, removeApprovedScope in onTokenGenerating
    assert token["scope"].split() == ["openid", "fhirUser", "launch/patient", "patient/Observation.rs"]
    assert "id_token" in token


def access_claims(server, token):
    _, discovery = server
    jwks = KeySet.import_key_set(requests.get(discovery["jwks_uri"], timeout=30).json())
    decoded = jwt.decode(token["access_token"], jwks, algorithms=["RS256"])  # checks the signature
    assert decoded.header["typ"] == "at+jwt"
    return decoded.claims


def test_the_access_token_is_a_signed_jwt_with_the_scripts_claims(server, caplog):
    base, _ = server
    _, client, verifier, done = login(server, "alice")
    token = client.fetch_token(authorization_response=done.callback, code_verifier=verifier)
    claims = access_claims(server, token)
    assert claims["tenant"] == "north" and claims["level"] == 3 and claims["care"] == {"team": ["a", "b"], "lead": None}
    assert claims["aud"] == "chart" and claims["sub"] == "alice" and claims["client_id"] == "chart"
    assert claims["iss"] == base + "/o"
    assert claims["scope"] == token["scope"] and claims["patient"] == "p-alice"
    assert claims["fhirContext"] == token["fhirContext"]
    assert any(r.getMessage() == "onTokenGenerating: token for chart aud null" and getattr(r, "flow_id", None)
               for r in caplog.records)
    # The token works where the provider's tokens work.
    info = requests.get(base + "/o/userinfo/", headers={"Authorization": "Bearer " + token["access_token"]}, timeout=30)
    assert info.status_code == 200 and info.json()["sub"]


def test_launch_context_parameters_reach_the_token_response(server):
    browser, client, verifier, _ = login(server, "homer")
    chosen = browser.submit({"person": "0"}, keep=("csrfmiddlewaretoken",))
    token = client.fetch_token(authorization_response=chosen.callback, code_verifier=verifier)
    assert token["patient"] == "bart-1" and token["need_patient_banner"] is True
    assert token["smart_style_url"] == "https://chart.example/style.json"
    assert token["access_token"] != "forged" and access_claims(server, token)["patient"] == "bart-1"
    assert "patient/*.read" not in token["scope"].split()  # Bart's removeRequestedScopes


def test_a_reserved_claim_refuses_the_token_request(server, caplog):
    _, client, verifier, done = login(server, "marge")
    with pytest.raises(Exception) as error:
        client.fetch_token(authorization_response=done.callback, code_verifier=verifier)
    assert "invalid_grant" in str(error.value)
    assert any("onTokenGenerating failed" in r.getMessage() and "smile_internal" in r.getMessage()
               for r in caplog.records)


def test_applications_without_callbacks_keep_opaque_tokens(server):
    _, client, verifier, done = login(server, "alice", client_id="plain", scope="openid")
    token = client.fetch_token(authorization_response=done.callback, code_verifier=verifier)
    assert token["access_token"].count(".") == 0 and "patient" not in token


def test_a_failure_outcome_refuses_the_login_with_its_message(server, caplog):
    browser, _, _, done = login(server, "mallory")
    assert done.callback, done.text[:500]
    query = parse_qs(urlsplit(done.callback).query)
    assert query["error"] == ["access_denied"]
    assert query["error_description"] == ["This account may not open patient charts."]
    assert "code" not in query
    grant_records = [r for r in caplog.records if r.name == "authflow.callbacks"]
    assert grant_records and all(getattr(r, "flow_id", None) for r in grant_records)
    assert LoginGrant.objects.count() == 0
    # Not signed in: the account page asks for a login again.
    assert "/login/" in browser.get("/account/").url


def test_a_script_error_refuses_the_login_without_a_500(server, caplog):
    _, _, _, done = login(server, "broken")
    assert done.callback, done.text[:500]
    query = parse_qs(urlsplit(done.callback).query)
    assert query["error"] == ["access_denied"] and "code" not in query
    assert any("onAuthenticateSuccess failed" in r.getMessage() and "line" in r.getMessage()
               for r in caplog.records if r.name == "authflow.callbacks")


def test_the_selection_page_and_the_choice_set_the_launch_patient(server):
    browser, client, verifier, done = login(server, "homer")
    page = browser.page
    assert not done.callback and page.status_code == 200 and "/login/context/" in page.url, page.text[:500]
    assert "Choose who this is for" in page.text and "Bart Simpson" in page.text and "Lisa Simpson" in page.text
    assert "Read her conditions" in page.text and "Born 1981-05-09" in page.text
    assert '<legend>' in page.text and 'for="person-1"' in page.text
    assert "content-security-policy" in {k.lower() for k in page.headers}
    # No choice: the page says so, and nothing is issued.
    again = browser.submit({"person": "9"}, keep=("csrfmiddlewaretoken",))
    assert again.status_code == 400 and "Choose one of the people listed." in again.text
    chosen = browser.submit({"person": "1"}, keep=("csrfmiddlewaretoken",))
    assert chosen.callback, chosen.text[:500]
    token = client.fetch_token(authorization_response=chosen.callback, code_verifier=verifier)
    assert token["patient"] == "lisa-2"
    assert {"permission": "FHIR_READ_ALL_IN_COMPARTMENT", "argument": "Patient/lisa-2"} in token["authorities"]
    assert "patient/Condition.rs" in token["scope"].split() and "patient/*.read" in token["scope"].split()
    # The choice is made once.
    assert browser.get(page.url).status_code == 409


def test_the_choice_belongs_to_the_user_who_signed_in(server):
    browser, _, _, _ = login(server, "homer")
    selection = browser.page.url
    stranger, _, _, _ = login(server, "alice", client_id="plain", scope="openid")
    assert stranger.get(selection).status_code == 404
    removed = browser.submit({"person": "0"}, url=selection)  # without the form token
    assert removed.status_code == 403


def test_smart_scopes_only_for_applications_with_callbacks(server):
    base, discovery = server
    browser = Browser(base, stop_at=CALLBACK)
    client = OAuth2Session("plain", None, scope=SMART_SCOPE, redirect_uri=CALLBACK, code_challenge_method="S256")
    uri, _ = client.create_authorization_url(discovery["authorization_endpoint"], code_verifier=secrets.token_urlsafe(48))
    done = browser.get(uri)
    assert done.callback and parse_qs(urlsplit(done.callback).query)["error"] == ["invalid_scope"]


def test_smart_configuration_names_the_providers_endpoints(server):
    base, discovery = server
    for path in ("/.well-known/smart-configuration", "/o/.well-known/smart-configuration"):
        smart = requests.get(base + path, timeout=30).json()
        assert smart["issuer"] == discovery["issuer"]
        assert smart["authorization_endpoint"] == discovery["authorization_endpoint"]
        assert smart["token_endpoint"] == discovery["token_endpoint"]
        assert smart["jwks_uri"] == discovery["jwks_uri"]
        assert "launch-standalone" in smart["capabilities"] and smart["code_challenge_methods_supported"] == ["S256"]


class _Metadata(BaseHTTPRequestHandler):
    """A FHIR server's /metadata: just the CapabilityStatement naming the provider's SMART endpoints."""

    statement = b"{}"

    def do_GET(self):  # noqa: N802 - the standard library's name
        if urlsplit(self.path).path != "/fhir/metadata":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/fhir+json")
        self.send_header("Content-Length", str(len(self.statement)))
        self.end_headers()
        self.wfile.write(self.statement)

    def log_message(self, *args):
        pass


@pytest.fixture
def fhir_base(server):
    _, discovery = server
    _Metadata.statement = json.dumps({
        "resourceType": "CapabilityStatement", "status": "active", "date": "2026-01-01", "kind": "instance",
        "fhirVersion": "4.0.1", "format": ["json"],
        "rest": [{"mode": "server", "security": {"extension": [{
            "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
            "extension": [{"url": "authorize", "valueUri": discovery["authorization_endpoint"]},
                          {"url": "token", "valueUri": discovery["token_endpoint"]}],
        }]}}],
    }).encode()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Metadata)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/fhir"
    httpd.shutdown()
    httpd.server_close()


def test_a_standalone_launch_driven_by_a_smart_client_library(server, fhir_base):
    base, _ = server
    smart = FHIRClient(settings={"app_id": "chart", "api_base": fhir_base, "redirect_uri": CALLBACK,
                                 "scope": SMART_SCOPE})
    browser = Browser(base, stop_at=CALLBACK)
    page = browser.get(smart.authorize_url)
    assert 'name="password"' in page.text
    browser.submit({"username": "homer", "password": "homer-password-123"})
    assert "/login/context/" in browser.page.url
    done = browser.submit({"person": "1"}, keep=("csrfmiddlewaretoken",))
    assert done.callback, done.text[:500]
    smart.handle_callback(done.callback)
    assert smart.ready and smart.patient_id == "lisa-2"
    assert smart.launch_context["need_patient_banner"] is True
    assert smart.launch_context["smart_style_url"] == "https://chart.example/style.json"
    claims = access_claims(server, {"access_token": smart.server.auth.access_token})
    assert claims["patient"] == "lisa-2" and claims["tenant"] == "north"


def test_on_post_authorize_is_told_of_the_grant_and_its_errors_are_only_logged(server, caplog):
    _, client, verifier, done = login(server, "alice")
    token = client.fetch_token(authorization_response=done.callback, code_verifier=verifier)
    assert token["access_token"]
    messages = [r.getMessage() for r in caplog.records if r.name == "authflow.callbacks"]
    assert "onPostAuthorize: Successful completion of grant type: authorization_code for alice" in messages
    assert "onPostAuthorize:  * Authorized scopes: " + ",".join(token["scope"].split()) in messages
    assert any(m.startswith("onPostAuthorize failed (the grant stands): TypeError") for m in messages)


def test_a_scripted_authenticator_decides_with_the_callbacks_authenticate(server, caplog):
    base, discovery = server
    browser = Browser(base, stop_at=CALLBACK)
    client = OAuth2Session("gate", None, scope="openid", redirect_uri=CALLBACK, code_challenge_method="S256",
                           token_endpoint=discovery["token_endpoint"])
    verifier = secrets.token_urlsafe(48)
    uri, _ = client.create_authorization_url(discovery["authorization_endpoint"], code_verifier=verifier)
    page = browser.get(uri)
    assert 'name="password"' in page.text and 'name="username"' in page.text
    wrong = browser.submit({"username": "ALICE", "password": "alice-password-123"})
    assert not wrong.callback and "Wrong passphrase." in wrong.text
    done = browser.submit({"username": "ALICE", "password": "open-sesame-ALICE"})
    assert done.callback and "code" in parse_qs(urlsplit(done.callback).query), done.text[:500]
    token = client.fetch_token(authorization_response=done.callback, code_verifier=verifier)
    assert token["access_token"]
    messages = [r.getMessage() for r in caplog.records]
    assert "authenticate: checking ALICE with [secret]" in messages
    assert not any("open-sesame" in m or "alice-password-123" in m for m in messages)


def test_introspection_gives_the_access_tokens_claims(server):
    base, discovery = server
    browser = Browser(base, stop_at=CALLBACK)
    client = OAuth2Session("records", "records-secret-0123456789", scope=SMART_SCOPE, redirect_uri=CALLBACK,
                           code_challenge_method="S256", token_endpoint=discovery["token_endpoint"])
    verifier = secrets.token_urlsafe(48)
    uri, _ = client.create_authorization_url(discovery["authorization_endpoint"], code_verifier=verifier)
    browser.get(uri)
    done = browser.submit({"username": "alice", "password": "alice-password-123"})
    token = client.fetch_token(authorization_response=done.callback, code_verifier=verifier)
    endpoint = base + "/o/introspect/"
    answer = requests.post(endpoint, data={"token": token["access_token"]},
                           auth=("records", "records-secret-0123456789"), timeout=30).json()
    assert answer["active"] is True and answer["client_id"] == "records" and answer["username"] == "alice"
    assert answer["scope"] == token["scope"] and answer["patient"] == "p-alice" and answer["tenant"] == "north"
    assert answer["fhirContext"] == token["fhirContext"]
    forged = token["access_token"][:-4] + ("AAAA" if not token["access_token"].endswith("AAAA") else "BBBB")
    assert requests.post(endpoint, data={"token": forged}, auth=("records", "records-secret-0123456789"),
                         timeout=30).json() == {"active": False}
