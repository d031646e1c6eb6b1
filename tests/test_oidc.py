"""The OpenID Connect provider end to end: a real OIDC client library against the running server."""
import io
import secrets
import textwrap
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.errors import BadSignatureError, InvalidClaimError
from joserfc.jwk import KeySet
from django.core.management import call_command

from authflow.directory.models import User
from authflow.flows.models import LoginFlow
from tests.support.browser import Browser

pytestmark = pytest.mark.django_db(transaction=True)

CALLBACK = "http://127.0.0.1:9/callback"
SECRET = "portal-secret-0123456789"
CONFIG = textwrap.dedent(f"""
    applications:
      - name: portal
        client_id: portal
        client_secret: {SECRET}
        redirect_uris: ["{CALLBACK}"]
        steps: {{1: [BasicAuthenticator]}}
        script: |
          var onLoginRequest = function(context) {{
              executeStep(1, {{onSuccess: function (context) {{
                  if (hasRole(context.currentKnownSubject, 'blocked')) {{
                      fail({{errorCode: 'access_denied', errorMessage: 'Your account may not use this application.'}});
                  }}
              }}}});
          }};
      - name: spa
        client_id: spa
        client_type: public
        redirect_uris: ["{CALLBACK}"]
        steps: {{1: [BasicAuthenticator]}}
      - name: badge
        client_id: badge
        client_type: public
        redirect_uris: ["{CALLBACK}"]
        steps: {{1: [BasicAuthenticator]}}
        script: |
          var onLoginRequest = function(context) {{
              executeStep(1, {{onSuccess: function (context) {{
                  var user = context.currentKnownSubject;
                  user.claims['http://wso2.org/claims/givenname'] = 'Captain';
                  user.claims['http://example.com/claims/team'] = 'blue';
                  user.claims['sub'] = 'someone-else';
              }}}});
          }};
      - name: broken
        client_id: broken
        client_type: public
        redirect_uris: ["{CALLBACK}"]
        steps: {{1: [BasicAuthenticator]}}
        script: |
          var onLoginRequest = function(context) {{
              executeStep(1, {{onSuccess: function (context) {{ context.nothing.here = 1; }}}});
          }};
    users:
      - {{username: alice, password: "alice-password-123", email: alice@example.com, first_name: Alice}}
      - {{username: mallory, password: "mallory-password-123", roles: [blocked]}}
""")


@pytest.fixture
def server(live_server, tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG)
    call_command("apply", "-f", str(path), stdout=io.StringIO())
    discovery = requests.get(live_server.url + "/o/.well-known/openid-configuration", timeout=30).json()
    return live_server.url, discovery


def client_for(discovery, client_id="portal", secret=SECRET):
    return OAuth2Session(client_id, secret, scope="openid profile email", redirect_uri=CALLBACK,
                         code_challenge_method="S256", token_endpoint=discovery["token_endpoint"])


def authorize(browser, client, discovery, **extra):
    verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
    uri, state = client.create_authorization_url(discovery["authorization_endpoint"], code_verifier=verifier,
                                                 nonce=nonce, **extra)
    page = browser.get(uri)
    return page, verifier, nonce, state


def sign_in(browser, username="alice", password="alice-password-123"):
    return browser.submit({"username": username, "password": password})


def test_discovery_and_jwks(server):
    base, discovery = server
    assert discovery["issuer"] == base + "/o"
    assert "S256" in discovery.get("code_challenge_methods_supported", ["S256"])
    keys = requests.get(discovery["jwks_uri"], timeout=30).json()["keys"]
    assert keys and keys[0]["kty"] == "RSA"


def test_authorization_code_with_pkce_and_a_validated_id_token(server):
    base, discovery = server
    browser = Browser(base, stop_at=CALLBACK)
    client = client_for(discovery)
    page, verifier, nonce, state = authorize(browser, client, discovery)
    assert page.status_code == 200 and "/login/flow/" in page.url and 'name="password"' in page.text
    done = sign_in(browser)
    assert done.callback, done.text
    query = parse_qs(urlsplit(done.callback).query)
    assert query["state"] == [state]
    token = client.fetch_token(authorization_response=done.callback, code_verifier=verifier)

    jwks = KeySet.import_key_set(requests.get(discovery["jwks_uri"], timeout=30).json())
    decoded = jwt.decode(token["id_token"], jwks, algorithms=["RS256"])  # checks the signature
    expected = jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": discovery["issuer"]},
        aud={"essential": True, "value": "portal"},
        nonce={"essential": True, "value": nonce},
        exp={"essential": True},
    )
    expected.validate(decoded.claims)  # and exp, nbf, iat
    claims = decoded.claims
    assert claims["preferred_username"] == "alice" and claims["email"] == "alice@example.com"
    # a client expecting another nonce (a replayed ID token) notices
    with pytest.raises(InvalidClaimError):
        jwt.JWTClaimsRegistry(nonce={"essential": True, "value": "other"}).validate(claims)
    # and a token whose signature was tampered with is refused
    header, payload, signature = token["id_token"].split(".")
    with pytest.raises(BadSignatureError):
        jwt.decode(".".join([header, payload, signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBB")]),
                   jwks, algorithms=["RS256"])
    info = client.get(discovery["userinfo_endpoint"]).json()
    assert info["preferred_username"] == "alice" and info["given_name"] == "Alice"
    assert LoginFlow.objects.get().status == LoginFlow.Status.SUCCEEDED


def test_public_client_with_pkce_only(server):
    base, discovery = server
    browser = Browser(base, stop_at=CALLBACK)
    client = client_for(discovery, "spa", None)
    _, verifier, _, _ = authorize(browser, client, discovery)
    done = sign_in(browser)
    token = client.fetch_token(authorization_response=done.callback, code_verifier=verifier)
    assert token["id_token"]


def test_a_wrong_password_is_shown_and_the_step_retried(server):
    base, discovery = server
    browser = Browser(base, stop_at=CALLBACK)
    authorize(browser, client_for(discovery), discovery)
    page = sign_in(browser, password="wrong")
    assert page.status_code == 200 and "The username or password is not correct." in page.text
    assert "wrong" not in page.text
    assert sign_in(browser).callback


def test_fail_returns_the_error_to_the_application(server):
    base, discovery = server
    browser = Browser(base, stop_at=CALLBACK)
    _, _, _, state = authorize(browser, client_for(discovery), discovery)
    done = sign_in(browser, "mallory", "mallory-password-123")
    query = parse_qs(urlsplit(done.callback).query)
    assert query["error"] == ["access_denied"] and query["state"] == [state]
    assert query["error_description"] == ["Your account may not use this application."]
    assert "code" not in query


def test_a_script_error_shows_a_clear_page(server):
    base, discovery = server
    browser = Browser(base, stop_at=CALLBACK)
    authorize(browser, client_for(discovery, "broken", None), discovery)
    page = sign_in(browser)
    assert page.status_code == 503 and "sign-in script failed" in page.text
    assert "Cannot set properties" not in page.text  # the reason is for administrators only
    assert LoginFlow.objects.get(application__name="broken").result["line"] == 2


def test_two_tabs_log_in_side_by_side(server):
    base, discovery = server
    browser = Browser(base, stop_at=CALLBACK)
    client = client_for(discovery)
    first, v1, _, _ = authorize(browser, client, discovery)
    first_url, first_fields = first.url, browser.hidden_fields()
    second, v2, _, _ = authorize(browser, client, discovery)
    assert second.url != first_url
    done_second = sign_in(browser)
    browser.page = first
    first_done = browser.submit({"username": "alice", "password": "alice-password-123"}, url=first_url)
    assert first_fields["position"] == "0"
    assert done_second.callback and first_done.callback
    assert client.fetch_token(authorization_response=done_second.callback, code_verifier=v2)["id_token"]
    assert client.fetch_token(authorization_response=first_done.callback, code_verifier=v1)["id_token"]


def test_every_request_runs_the_script_and_the_session_answers_steps_already_passed(server):
    base, discovery = server
    browser = Browser(base, stop_at=CALLBACK)
    authorize(browser, client_for(discovery), discovery)
    assert sign_in(browser).callback
    # signed in: the next portal request runs portal's script again, and the
    # password step is answered by the session (no page)
    page, _, _, _ = authorize(browser, client_for(discovery), discovery)
    assert page.callback and "code=" in page.callback
    # spa runs its own flow too, answered by the same session
    page, verifier, _, _ = authorize(browser, client_for(discovery, "spa", None), discovery)
    assert page.callback and "code=" in page.callback
    spa_client = client_for(discovery, "spa", None)
    assert spa_client.fetch_token(authorization_response=page.callback, code_verifier=verifier)["id_token"]
    flows = LoginFlow.objects.order_by("created_at")
    assert [f.application.name for f in flows] == ["portal", "portal", "spa"]
    assert [a.get("via") for a in flows[2].state["journal"]["answers"]] == ["session"]
    # prompt=login asks again
    page, _, _, _ = authorize(browser, client_for(discovery), discovery, prompt="login")
    assert "/login/flow/" in page.url and 'name="password"' in page.text


def test_bad_pkce_verifier_and_replayed_code_are_refused(server):
    base, discovery = server
    browser = Browser(base, stop_at=CALLBACK)
    client = client_for(discovery)
    _, verifier, _, _ = authorize(browser, client, discovery)
    done = sign_in(browser)
    code = parse_qs(urlsplit(done.callback).query)["code"][0]

    def redeem(code_verifier):
        return requests.post(discovery["token_endpoint"], timeout=30, auth=("portal", SECRET), data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK, "code_verifier": code_verifier})

    bad = redeem("x" * 64)
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_grant"
    good = redeem(verifier)
    assert good.status_code == 200 and "id_token" in good.json()
    replayed = redeem(verifier)
    assert replayed.status_code == 400 and replayed.json()["error"] == "invalid_grant"


@pytest.mark.parametrize("query, title", [
    ("response_type=code&redirect_uri=" + CALLBACK, "Unknown application"),
    ("response_type=code&client_id=nobody&redirect_uri=" + CALLBACK, "Unknown application"),
    ("response_type=code&client_id=portal&redirect_uri=https://evil.example/cb", "This sign-in request is not valid"),
])
def test_bad_authorization_requests_get_an_error_page_not_a_redirect(server, query, title):
    base, _ = server
    browser = Browser(base, stop_at="https://evil.example")
    page = browser.get("/o/authorize/?" + query + "&scope=openid&code_challenge=" + "a" * 43 +
                       "&code_challenge_method=S256")
    assert page.callback is None
    assert page.status_code == 400 and title in page.text


def test_flow_links_that_are_wrong_get_clear_pages(server):
    base, discovery = server
    browser = Browser(base, stop_at=CALLBACK)
    page, _, _, _ = authorize(browser, client_for(discovery), discovery)
    flow_url = page.url
    tampered = browser.get(flow_url.rstrip("/")[:-4] + "0000/")
    assert tampered.status_code == 404 and "not valid" in tampered.text
    stranger = Browser(base, stop_at=CALLBACK)
    other = stranger.get(flow_url)
    assert other.status_code == 403 and "another browser" in other.text
    # a form without its CSRF token
    browser.page = page
    forged = browser.submit({"username": "alice", "password": "alice-password-123"}, keep=("position",))
    assert forged.status_code == 403 and "form expired" in forged.text
    # finish, then post again to the finished flow
    browser.page = page
    assert sign_in(browser).callback
    browser.page = page
    again = sign_in(browser)
    assert again.status_code == 409 and "already finished" in again.text


def test_an_expired_flow_says_so(server):
    base, discovery = server
    browser = Browser(base, stop_at=CALLBACK)
    page, _, _, _ = authorize(browser, client_for(discovery), discovery)
    from datetime import timedelta

    from django.utils import timezone

    LoginFlow.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    expired = browser.get(page.url)
    assert expired.status_code == 410 and "expired" in expired.text and "Start again" in expired.text


def test_the_id_token_carries_the_login_s_claims_and_methods(server):
    base, discovery = server
    browser = Browser(base, stop_at=CALLBACK)
    client = client_for(discovery, "badge", None)
    _, verifier, nonce, _ = authorize(browser, client, discovery)
    done = sign_in(browser)
    token = client.fetch_token(authorization_response=done.callback, code_verifier=verifier)
    jwks = KeySet.import_key_set(requests.get(discovery["jwks_uri"], timeout=30).json())
    claims = jwt.decode(token["id_token"], jwks, algorithms=["RS256"]).claims
    alice = User.objects.get(username="alice")
    assert claims["given_name"] == "Captain" and claims["http://example.com/claims/team"] == "blue"
    assert claims["sub"] == str(alice.pk) and claims["amr"] == ["pwd"] and claims["nonce"] == nonce
    # the flow's claims are for this login only: the directory and userinfo keep the stored name
    assert client.get(discovery["userinfo_endpoint"]).json()["given_name"] == "Alice"
    assert User.objects.get(username="alice").first_name == "Alice"


def test_the_oauth_security_best_current_practice_is_enforced(server):
    """RFC 9700: iss in the response, tokens hashed at rest, no tokens in URLs, no password grant, S256 only."""
    from oauth2_provider.models import AccessToken

    base, discovery = server
    browser = Browser(base, stop_at=CALLBACK)
    client = client_for(discovery)
    _, verifier, _, _ = authorize(browser, client, discovery)
    done = sign_in(browser)
    query = parse_qs(urlsplit(done.callback).query)
    assert query["iss"] == [discovery["issuer"]]  # RFC 9207: the response names who sent it
    token = client.fetch_token(authorization_response=done.callback, code_verifier=verifier)
    access = token["access_token"]

    # Stored as a hash: a copy of the database does not hold a usable token.
    assert not AccessToken.objects.filter(token=access).exists()
    assert access not in repr(list(AccessToken.objects.values()))
    assert requests.get(discovery["userinfo_endpoint"], headers={"Authorization": f"Bearer {access}"},
                        timeout=30).status_code == 200
    # A token in the query string (it would end up in logs and Referer headers) is refused.
    in_url = requests.get(discovery["userinfo_endpoint"], params={"access_token": access}, timeout=30)
    assert in_url.status_code == 400 and in_url.json()["error"] == "invalid_request"

    # A refresh token used twice (stolen and replayed) revokes what its first use gave.
    refresh = {"grant_type": "refresh_token", "refresh_token": token["refresh_token"]}
    first = requests.post(discovery["token_endpoint"], data=refresh, auth=("portal", SECRET), timeout=30)
    assert first.status_code == 200, first.text
    replay = requests.post(discovery["token_endpoint"], data=refresh, auth=("portal", SECRET), timeout=30)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert requests.get(discovery["userinfo_endpoint"], timeout=30,
                        headers={"Authorization": f"Bearer {first.json()['access_token']}"}).status_code == 401

    # The password grant would skip the login script: refused.
    password_grant = requests.post(discovery["token_endpoint"], data={
        "grant_type": "password", "username": "alice", "password": "alice-password-123"}, auth=("portal", SECRET),
        timeout=30)
    assert password_grant.status_code in (400, 401) and "access_token" not in password_grant.text

    # PKCE "plain" is not accepted: the application is told so.
    plain = Browser(base, stop_at=CALLBACK).get(discovery["authorization_endpoint"] + "?" + "&".join([
        "client_id=portal", "response_type=code", "scope=openid", f"redirect_uri={CALLBACK}", "state=s",
        "code_challenge=" + "a" * 43, "code_challenge_method=plain"]))
    assert plain.callback and "error=invalid_request" in plain.callback and "code=" not in plain.callback
