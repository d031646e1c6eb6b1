"""Signing in with a federated OpenID provider: a real one (the npm package oidc-provider on Node.js).

The browser goes to an application, through this server's login flow to the
provider, signs in there, and comes back; the step the script ran succeeds
for the user the provider's policy gives (provisioned, linked, or the remote
identity alone), or fails into the script's onFail.
"""
import io
import json
import secrets
import socket
import textwrap
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
import requests
import yaml
from authlib.integrations.requests_client import OAuth2Session
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.management import call_command
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey

from authflow.directory.claims import read_claims
from authflow.directory.models import FederatedAssociation, User
from authflow.federation import oidc
from authflow.federation.models import IdentityProvider
from tests.support.browser import Browser
from tests.support.totp import code_for
from tests.support.config import CALLBACK, public_app
from sequences.harness.scenario import parse_scenario
from sequences.harness.simulator import simulate
from tests.support.oidc_op import ROOT, OpenIDProvider

pytestmark = pytest.mark.django_db(transaction=True)

CLIENT_SECRET = "provider-client-secret-" + "x" * 16
ACCOUNTS = {
    "ann": {"password": "ann-at-the-provider", "claims": {
        "email": "ann@example.com", "email_verified": True, "given_name": "Ann", "family_name": "Lee",
        "preferred_username": "ann"}},
}
NAMES = ("corp", "corppost", "corplink", "corpnone", "corpwrong", "corpjwt")


def callbacks(live_server):
    return [f"{live_server.url}/federation/oidc/{name}/callback/" for name in NAMES]


@pytest.fixture(scope="module")
def op(live_server, tmp_path_factory):
    clients = [
        {"client_id": "authflow-basic", "client_secret": CLIENT_SECRET, "redirect_uris": callbacks(live_server),
         "token_endpoint_auth_method": "client_secret_basic"},
        {"client_id": "authflow-post", "client_secret": CLIENT_SECRET, "redirect_uris": callbacks(live_server),
         "token_endpoint_auth_method": "client_secret_post"},
    ]
    provider = OpenIDProvider(tmp_path_factory.mktemp("op"), clients=clients, accounts=ACCOUNTS).start()
    yield provider
    provider.stop()


def provider_entry(op, name, *, policy="provision", client_id="authflow-basic", auth="client_secret_basic",
                   secret=CLIENT_SECRET, issuer=None):
    return {"name": name, "display_name": f"{name.title()} Login", "issuer": issuer or op.issuer,
            "client_id": client_id, "client_secret": secret, "client_auth_method": auth,
            "scopes": "openid profile email", "user_policy": policy, "username_claim": "preferred_username",
            "username_prefix": f"{name}-",
            "claim_mapping": {"email": "http://wso2.org/claims/emailaddress",
                              "given_name": "http://wso2.org/claims/givenname"}}


@pytest.fixture
def site(live_server, tmp_path):
    def configure(providers, steps, script):
        text = yaml.safe_dump({"identity_providers": providers}) + "applications:\n" + public_app(
            "shop", steps, script) + textwrap.dedent("""
            users:
              - {username: alice, password: "alice-password-123", email: alice@example.com}
            """)
        path = tmp_path / "config.yaml"
        path.write_text(text)
        call_command("apply", "-f", str(path), stdout=io.StringIO())
        return live_server.url
    return configure


def begin(base, stop_at=CALLBACK):
    """The application's authorization request, followed to the first page that is not a redirect."""
    discovery = requests.get(base + "/o/.well-known/openid-configuration", timeout=30).json()
    browser = Browser(base, stop_at=stop_at)
    client = OAuth2Session("shop", None, scope="openid", redirect_uri=CALLBACK, code_challenge_method="S256")
    uri, _ = client.create_authorization_url(discovery["authorization_endpoint"],
                                             code_verifier=secrets.token_urlsafe(48))
    return browser, browser.get(uri)


def sign_in_at_provider(browser, page, op, password=ACCOUNTS["ann"]["password"], **extra):
    assert page.url.startswith(op.issuer + "/interaction/"), page.url
    assert "Test provider sign-in" in page.text
    return browser.submit({"login": "ann", "password": password, **extra}, url=page.url, keep=())


ONE_PROVIDER_SCRIPT = """
    var onLoginRequest = function (context) {
        executeStep(1, {authenticationOptions: [{idp: '%(idp)s'}],
                        authenticatorParams: {federated: {'%(idp)s': {login_hint: 'ann', prompt: 'login'}}}}, {
            onSuccess: function (context) {
                var user = context.steps[1].subject;
                user.localClaims['urn:test:idp'] = context.steps[1].idp;
                user.localClaims['urn:test:authenticator'] = String(context.steps[1].authenticator);
                user.localClaims['urn:test:remote-email'] = user.remoteClaims.email;
            },
            onFail: function (context) {
                fail({errorCode: 'access_denied', errorMessage: 'onFail ran'});
            }
        });
    };
"""


def test_a_login_through_the_provider_provisions_the_user_with_the_mapped_claims(op, site):
    base = site([provider_entry(op, "corp")], "{1: [{idp: corp, authenticator: OpenIDConnectAuthenticator}]}",
                ONE_PROVIDER_SCRIPT % {"idp": "corp"})
    browser, page = begin(base)
    sent = op.last_authorization()
    # The single provider option redirected at once, with the script's authenticatorParams and PKCE.
    assert sent["client_id"] == "authflow-basic" and sent["login_hint"] == "ann" and sent["prompt"] == "login"
    assert sent["code_challenge_method"] == "S256" and len(sent["nonce"]) >= 32 and len(sent["state"]) >= 32
    done = sign_in_at_provider(browser, page, op)
    assert done.callback and "code=" in done.callback, (done.status_code, done.text[:500])
    user = User.objects.get(username="corp-ann")
    assert (user.email, user.first_name, user.has_usable_password()) == ("ann@example.com", "Ann", False)
    claims = read_claims(user)
    assert claims["urn:test:idp"] == "corp" and claims["urn:test:remote-email"] == "ann@example.com"
    assert claims["urn:test:authenticator"] == "OpenIDConnectAuthenticator"
    assert FederatedAssociation.objects.get(idp="corp", subject="corp:ann").user == user

    # A second login finds the linked account (no second user) and signs in again.
    browser, page = begin(base)
    done = sign_in_at_provider(browser, page, op)
    assert done.callback and "code=" in done.callback
    assert User.objects.filter(username__startswith="corp-").count() == 1


def test_a_script_cannot_override_the_protocol_parameters_and_a_typed_username_is_the_login_hint(op, site, live_server):
    base = site([provider_entry(op, "corp")], "{1: [{idp: corp}]}", """
        var onLoginRequest = function (context) {
            executeStep(1, {authenticatorParams: {
                common: {username: 'ann@corp.example', inputType: 'identifierFirst'},
                federated: {corp: {state: 'chosen-by-script', redirect_uri: 'https://evil.example/cb',
                                   nonce: 'fixed', ui_locales: 'fr'}}}});
        };
    """)
    browser, page = begin(base)
    sent = op.last_authorization()
    assert sent["login_hint"] == "ann@corp.example" and sent["ui_locales"] == "fr"
    assert sent["state"] != "chosen-by-script" and sent["nonce"] != "fixed"
    assert sent["redirect_uri"] == f"{live_server.url}/federation/oidc/corp/callback/"
    assert "username" not in sent and "inputType" not in sent
    done = sign_in_at_provider(browser, page, op)
    assert done.callback and "code=" in done.callback


def test_client_secret_post_authenticates_the_client_in_the_body(op, site):
    base = site([provider_entry(op, "corppost", client_id="authflow-post", auth="client_secret_post")],
                "{1: [{idp: corppost}]}", ONE_PROVIDER_SCRIPT % {"idp": "corppost"})
    browser, page = begin(base)
    done = sign_in_at_provider(browser, page, op)
    assert done.callback and "code=" in done.callback
    assert User.objects.filter(username="corppost-ann").exists()


def test_private_key_jwt_signs_the_client_assertion_with_a_key_whose_public_half_is_served(op, site, live_server,
                                                                                          tmp_path):
    entry = provider_entry(op, "corpjwt", client_id="authflow-jwt", auth="private_key_jwt")
    del entry["client_secret"]
    base = site([entry], "{1: [{idp: corpjwt}]}", ONE_PROVIDER_SCRIPT % {"idp": "corpjwt"})
    provider = IdentityProvider.objects.get(name="corpjwt")
    assert provider.encrypted_private_key and "PRIVATE KEY" not in provider.encrypted_private_key
    served = requests.get(f"{live_server.url}/federation/oidc/corpjwt/jwks.json", timeout=10).json()
    assert [k["kid"] for k in served["keys"]] == [provider.signing_key().kid] and "d" not in served["keys"][0]
    assert requests.get(f"{live_server.url}/federation/oidc/corp/jwks.json", timeout=10).status_code == 404
    # The provider registers the served public key (oidc-provider takes a jwks_uri over https only).
    jwt_op = OpenIDProvider(tmp_path, accounts=ACCOUNTS, clients=[{
        "client_id": "authflow-jwt", "redirect_uris": callbacks(live_server),
        "token_endpoint_auth_method": "private_key_jwt", "jwks": served}]).start()
    try:
        provider.issuer = jwt_op.issuer
        provider.save()
        browser, page = begin(base)
        done = sign_in_at_provider(browser, page, jwt_op)
        assert done.callback and "code=" in done.callback
        assert User.objects.filter(username="corpjwt-ann").exists()
    finally:
        jwt_op.stop()


def test_provisioning_never_takes_over_an_existing_local_account(op, site):
    base = site([provider_entry(op, "corp")], "{1: [{idp: corp}]}", ONE_PROVIDER_SCRIPT % {"idp": "corp"})
    User.objects.create_user("corp-ann", password="someone-elses-password-1")
    browser, page = begin(base)
    done = sign_in_at_provider(browser, page, op)
    assert done.callback and "error_description=onFail+ran" in done.callback
    assert not FederatedAssociation.objects.filter(idp="corp").exists()


def test_without_a_local_account_the_script_sees_the_remote_identity(op, site):
    base = site([provider_entry(op, "corpnone", policy="none")], "{1: [{idp: corpnone}]}", """
        var onLoginRequest = function (context) {
            executeStep(1, {onSuccess: function (context) {
                var user = context.steps[1].subject;
                fail({errorMessage: 'remote ' + user.username + ' ' + user.remoteClaims.email + ' via '
                      + context.steps[1].idp});
            }});
        };
    """)
    browser, page = begin(base)
    done = sign_in_at_provider(browser, page, op)
    query = parse_qs(urlsplit(done.callback).query)
    assert query["error_description"] == ["remote corpnone:ann ann@example.com via corpnone"]
    assert not User.objects.filter(username__contains="ann").exists()


LINK_SCRIPT = (ROOT / "tests" / "scripts" / "wso2" / "idp_link_with_password.js").read_text().replace(
    "'corp'", "'corplink'")


def test_link_policy_links_after_a_password_then_signs_in_the_linked_account(op, site):
    base = site([provider_entry(op, "corplink", policy="link")],
                "{1: [{idp: corplink}], 2: [BasicAuthenticator]}", LINK_SCRIPT)
    browser, page = begin(base)
    page = sign_in_at_provider(browser, page, op)
    # Not linked yet: the script asks which local account is theirs.
    assert page.status_code == 200 and 'name="password"' in page.text
    assert browser.submit({"username": "alice", "password": "wrong-password-1"}).status_code == 200
    done = browser.submit({"username": "alice", "password": "alice-password-123"})
    assert done.callback and "code=" in done.callback
    link = FederatedAssociation.objects.get(idp="corplink")
    assert (link.subject, link.user.username) == ("corplink:ann", "alice")
    assert not User.objects.filter(username__contains="ann").exists()

    # Linked: the provider alone signs alice in.
    browser, page = begin(base)
    done = sign_in_at_provider(browser, page, op)
    assert done.callback and "code=" in done.callback


def test_a_remote_identity_alone_signs_no_one_in(op, site):
    base = site([provider_entry(op, "corpnone", policy="none")], "{1: [{idp: corpnone}]}",
                "var onLoginRequest = function (context) { executeStep(1); };")
    browser, page = begin(base)
    refused = sign_in_at_provider(browser, page, op)
    assert refused.status_code == 403 and "This account cannot sign in" in refused.text
    assert not User.objects.filter(username__contains="ann").exists()


@pytest.mark.parametrize("scenario_file, status, steps, message", [
    ("idp_link_with_password.first_time.json", "success", [1, 2], None),
    ("idp_link_with_password.linked.json", "success", [1], None),
    ("idp_link_with_password.provider_failed.json", "failed", [1], "the corporate sign-in failed"),
])
def test_the_link_fixture_script_simulates_each_path(scenario_file, status, steps, message):
    scripts = ROOT / "tests" / "scripts" / "wso2"
    trace, code = simulate((scripts / "idp_link_with_password.js").read_text(),
                           parse_scenario(json.loads((scripts / scenario_file).read_text())))
    assert code == 0 and trace["status"] == status, trace
    assert [e["step"] for e in trace["events"] if e["type"] == "step"] == steps
    if message:
        (failed,) = [e for e in trace["events"] if e["type"] == "fail"]
        assert failed["params"]["errorMessage"] == message
    if scenario_file.endswith("first_time.json"):
        assert any(e.get("type") == "effect" and "associate" in json.dumps(e) for e in trace["events"]), trace


def test_a_user_who_cancels_at_the_provider_reaches_onFail(op, site):
    base = site([provider_entry(op, "corp")], "{1: [{idp: corp}]}", ONE_PROVIDER_SCRIPT % {"idp": "corp"})
    browser, page = begin(base)
    done = browser.submit({"action": "abort"}, url=page.url, keep=())
    assert done.callback and "error_description=onFail+ran" in done.callback
    assert not User.objects.filter(username="corp-ann").exists()


def test_without_onFail_a_failed_provider_step_shows_why_and_offers_to_try_again(op, site):
    base = site([provider_entry(op, "corp")], "{1: [{idp: corp}]}", """
        var onLoginRequest = function (context) { executeStep(1); };
    """)
    browser, page = begin(base)
    page = browser.submit({"action": "abort"}, url=page.url, keep=())
    assert page.status_code == 200 and "You cancelled signing in with Corp Login" in page.text
    assert 'id="federated-retry"' in page.text
    page = browser.get(page.url + "?option=0&retry=1")
    done = sign_in_at_provider(browser, page, op)
    assert done.callback and "code=" in done.callback


def test_a_callback_with_a_changed_or_replayed_state_is_refused(op, site, live_server):
    base = site([provider_entry(op, "corp")], "{1: [{idp: corp}]}", ONE_PROVIDER_SCRIPT % {"idp": "corp"})
    browser, page = begin(base)
    browser.stop_at = live_server.url + "/federation/"
    back = sign_in_at_provider(browser, page, op)
    callback = back.callback
    assert callback and "code=" in callback
    parts = urlsplit(callback)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    changed = urlunsplit(parts._replace(query=urlencode(dict(query, state=query["state"][:-2] + "xx"))))
    browser.stop_at = CALLBACK
    refused = browser.get(changed)
    assert refused.status_code == 400 and "This sign-in response is not valid" in refused.text

    # Another browser with the genuine callback: refused (the state is bound to the browser that started).
    other = requests.get(callback, allow_redirects=False, timeout=30)
    assert other.status_code == 403 and "Continue in the browser you started in" in other.text

    # The state was used up by that attempt: even the genuine browser cannot use it now.
    replayed = browser.get(callback)
    assert replayed.status_code == 400
    assert not User.objects.filter(username="corp-ann").exists()


def test_a_provider_whose_discovery_names_another_issuer_fails_the_step(op, site):
    wrong = op.issuer.replace("127.0.0.1", "localhost")
    base = site([provider_entry(op, "corpwrong", issuer=wrong)], "{1: [{idp: corpwrong}]}",
                ONE_PROVIDER_SCRIPT % {"idp": "corpwrong"})
    browser, page = begin(base)
    assert page.callback and "error_description=onFail+ran" in page.callback


def test_a_wrong_client_secret_is_refused_at_the_token_endpoint_and_fails_the_step(op, site):
    base = site([provider_entry(op, "corp", secret="not-the-secret-" + "y" * 16)], "{1: [{idp: corp}]}",
                ONE_PROVIDER_SCRIPT % {"idp": "corp"})
    browser, page = begin(base)
    done = sign_in_at_provider(browser, page, op)
    assert "error_description=onFail+ran" in done.callback
    assert not User.objects.filter(username="corp-ann").exists()


def test_the_chooser_lists_local_authenticators_and_providers(op, site):
    base = site([provider_entry(op, "corp")], "{1: [BasicAuthenticator, {idp: corp}]}", """
        var onLoginRequest = function (context) { executeStep(1); };
    """)
    browser, page = begin(base)
    assert page.status_code == 200 and "Choose how to sign in" in page.text
    assert "Sign in with Corp Login" in page.text and "?option=1" in page.text
    page = browser.get(page.url + "?option=1")
    done = sign_in_at_provider(browser, page, op)
    assert done.callback and "code=" in done.callback


def test_an_unknown_provider_is_shown_as_not_available(site):
    base = site([], "{1: [{idp: nowhere}]}", "var onLoginRequest = function (context) { executeStep(1); };")
    _, page = begin(base)
    assert page.status_code == 200 and "is not available" in page.text


# ---------------------------------------------------------------- the ID token's checks

class _KeysServer:
    """Serves a JWKS document on 127.0.0.1 (the provider's jwks_uri)."""

    def __init__(self, jwks: dict):
        self.jwks = jwks
        self.fetches = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                outer.fetches += 1
                body = json.dumps(outer.jwks).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/jwks"


@pytest.fixture
def signing():
    key = RSAKey.import_key(rsa.generate_private_key(65537, 2048))
    public = key.as_dict(private=False, kid="k1", alg="RS256", use="sig")
    server = _KeysServer({"keys": [public]})
    yield key, {"jwks_uri": server.url, "id_token_signing_alg_values_supported": ["RS256"], "server": server}
    server.server.shutdown()


ISSUER = "https://idp.example"


def test_a_rotated_key_is_fetched_once_and_the_key_set_is_cached(signing):
    key, metadata = signing
    server = metadata["server"]
    _check(_token(key), metadata)
    _check(_token(key), metadata)
    assert server.fetches == 1
    new_key = RSAKey.import_key(rsa.generate_private_key(65537, 2048))
    server.jwks = {"keys": [new_key.as_dict(private=False, kid="k2", alg="RS256", use="sig")]}
    assert _check(_token(new_key, kid="k2"), metadata)["sub"] == "ann"
    assert server.fetches == 2


def _token(key, alg="RS256", kid="k1", **overrides):
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": "client-1", "sub": "ann", "nonce": "nonce-1", "iat": now, "exp": now + 300}
    claims.update(overrides)
    return jwt.encode({"alg": alg, "kid": kid}, {k: v for k, v in claims.items() if v is not None}, key,
                      algorithms=[alg])


def _check(token, metadata, nonce="nonce-1"):
    return oidc.validate_id_token(token, issuer=ISSUER, client_id="client-1", nonce=nonce, metadata=metadata)


def test_a_valid_id_token_passes(signing):
    key, metadata = signing
    assert _check(_token(key), metadata)["sub"] == "ann"


@pytest.mark.parametrize("overrides, reason", [
    ({"iss": "https://evil.example"}, "another provider"),
    ({"aud": "client-2"}, "another client"),
    ({"aud": ["client-1", "client-2"]}, "azp"),
    ({"nonce": "nonce-2"}, "nonce"),
    ({"nonce": None}, "nonce"),
    ({"exp": int(time.time()) - 3600}, "not valid now"),
    ({"sub": None}, "no subject"),
])
def test_an_id_token_failing_a_check_is_refused(signing, overrides, reason):
    key, metadata = signing
    with pytest.raises(oidc.ProviderError, match=reason):
        _check(_token(key, **overrides), metadata)


def test_an_id_token_signed_by_another_key_or_with_the_client_secret_is_refused(signing):
    key, metadata = signing
    other = RSAKey.import_key(rsa.generate_private_key(65537, 2048))
    with pytest.raises(oidc.ProviderError, match="signature"):
        _check(_token(other), metadata)
    with pytest.raises(oidc.ProviderError):
        _check(_token(OctKey.import_key("client-secret-" + "z" * 32), alg="HS256"), metadata)
    header, payload, signature = _token(key).split(".")
    tampered = _token(key, sub="mallory").split(".")[1]
    with pytest.raises(oidc.ProviderError, match="signature"):
        _check(".".join([header, tampered, signature]), metadata)


# ---------------------------------------------------------------- configuration as code

def test_apply_and_export_keep_the_client_secret_encrypted(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"identity_providers": [{
        "name": "corp", "issuer": "https://idp.example", "client_id": "authflow", "client_secret": CLIENT_SECRET,
        "user_policy": "provision", "username_claim": "email",
        "claim_mapping": {"email": "http://wso2.org/claims/emailaddress"},
        "extra_params": {"prompt": "select_account"}}]}))
    out = io.StringIO()
    call_command("apply", "-f", str(path), stdout=out)
    provider = IdentityProvider.objects.get(name="corp")
    assert CLIENT_SECRET not in provider.encrypted_client_secret and provider.client_secret() == CLIENT_SECRET

    exported = io.StringIO()
    call_command("export", stdout=exported)
    assert CLIENT_SECRET not in exported.getvalue()
    entry = yaml.safe_load(exported.getvalue())["identity_providers"][0]
    assert entry["client_secret_encrypted"] == provider.encrypted_client_secret
    assert entry["extra_params"] == {"prompt": "select_account"} and entry["user_policy"] == "provision"

    path.write_text(exported.getvalue())
    again = io.StringIO()
    call_command("apply", "-f", str(path), stdout=again)
    assert "identity providers unchanged" in again.getvalue()
    assert IdentityProvider.objects.get(name="corp").client_secret() == CLIENT_SECRET


@pytest.mark.parametrize("entry, message", [
    ({"issuer": "https://idp.example", "client_id": "a", "scopes": "profile"}, "scopes must include openid"),
    ({"issuer": "https://idp.example", "client_id": "a", "user_policy": "adopt"}, "user_policy must be one of"),
    ({"issuer": "https://idp.example", "client_id": "a", "extra_params": {"state": "x"}}, "cannot be set"),
    ({"issuer": "https://idp.example", "client_id": "a", "claim_mapping": {"email": "not a uri"}}, "claim URI"),
    ({"issuer": "https://idp.example", "client_id": "a", "client_secret_encrypted": "v1:abcd:xyz"},
     "does not decrypt"),
    ({"issuer": "ftp://idp.example", "client_id": "a"}, "issuer must be"),
])
def test_apply_refuses_a_bad_identity_provider_and_names_it(tmp_path, entry, message):
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"identity_providers": [dict(name="corp", **entry)]}))
    with pytest.raises(Exception, match=message) as raised:
        call_command("apply", "-f", str(path), stdout=io.StringIO())
    assert "identity_providers[0] (corp)" in str(raised.value)
    assert not IdentityProvider.objects.exists()


def test_an_unreachable_provider_fails_the_step_and_without_onFail_says_why(site):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    base = site([{"name": "corpdown", "issuer": f"http://127.0.0.1:{port}", "client_id": "authflow",
                  "client_secret": CLIENT_SECRET}], "{1: [{idp: corpdown}]}",
                "var onLoginRequest = function (context) { executeStep(1); };")
    _, page = begin(base)
    assert page.status_code == 200 and "cannot be used right now: the provider could not be reached" in page.text


# ---------------------------------------------------------------- the admin console

def test_administrators_add_a_provider_whose_secret_is_never_shown_back(admin_client):
    form = {"name": "corp", "display_name": "Corp", "enabled": "on", "protocol": "oidc",
            "issuer": "https://idp.example", "client_id": "authflow", "client_secret": CLIENT_SECRET,
            "client_auth_method": "client_secret_basic", "scopes": "openid email", "extra_params": "{}",
            "use_userinfo": "on", "claim_mapping": '{"email": "not a uri"}', "user_policy": "provision",
            "username_claim": "email", "username_prefix": ""}
    refused = admin_client.post("/admin/federation/identityprovider/add/", form)
    assert refused.status_code == 200 and "is not a claim URI" in refused.content.decode()
    form["claim_mapping"] = '{"email": "http://wso2.org/claims/emailaddress"}'
    added = admin_client.post("/admin/federation/identityprovider/add/", form)
    assert added.status_code == 302
    provider = IdentityProvider.objects.get(name="corp")
    assert provider.client_secret() == CLIENT_SECRET
    page = admin_client.get(f"/admin/federation/identityprovider/{provider.pk}/change/").content.decode()
    assert CLIENT_SECRET not in page and provider.encrypted_client_secret not in page


# ---------------------------------------------------------------- in Chromium

# The script asks a user who came through the provider for a local second factor (an authenticator app).
FEDERATED_THEN_TOTP = """
var onLoginRequest = function (context) {
    executeStep(1, {
        onSuccess: function (context) {
            if (context.steps[1].idp === 'corp') {
                executeStep(2, {authenticationOptions: [{authenticator: 'totp'}]}, {});
            }
        }
    });
};
"""


def test_chromium_signs_in_to_the_demo_through_the_provider(op, live_server, tmp_path, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    from tests.support.chromium import launch, screenshot

    path = tmp_path / "demo.yaml"
    path.write_text(yaml.safe_dump({
        "identity_providers": [provider_entry(op, "corp")],
        "applications": [{"name": "demo", "client_id": "demo-client", "client_type": "public",
                          "redirect_uris": [live_server.url + "/demo/callback"],
                          "steps": {1: ["BasicAuthenticator", {"idp": "corp"}], 2: ["totp"]},
                          "script": FEDERATED_THEN_TOTP}]}))
    call_command("apply", "-f", str(path), stdout=io.StringIO())
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page()
            page.goto(live_server.url + "/demo/")
            page.get_by_role("button", name="Sign in").click()
            page.get_by_role("link", name="Sign in with Corp Login").click()
            page.wait_for_selector("input[name=login]")
            screenshot(page, "federation-01-at-the-provider")
            assert page.url.startswith(op.issuer)
            page.fill("input[name=login]", "ann")
            page.fill("input[name=password]", ACCOUNTS["ann"]["password"])
            page.get_by_role("button", name="Sign in").click()
            # Back here: the script asks for a local TOTP, which the provisioned account sets up on the spot.
            page.wait_for_selector("text=Set up your authenticator app")
            assert page.url.startswith(live_server.url), page.url
            screenshot(page, "federation-02-local-totp")
            page.fill("input[name=code]", code_for(page.inner_text("#totp-secret")))
            page.get_by_role("button", name="Set up and continue").click()
            page.wait_for_selector("#backup-codes")
            page.get_by_role("button", name="I have saved them, continue").click()
            page.wait_for_selector("#signed-in-as")
            screenshot(page, "federation-03-back-at-the-demo")
            assert page.inner_text("#signed-in-as") == "corp-ann"
            claims = page.inner_text("#claims")
            assert "ann@example.com" in claims and "otp" in claims
        finally:
            browser.close()


# ---------------------------------------------------------------- the account page

def test_the_account_page_lists_linked_identities_and_unlinks_one(client):
    IdentityProvider.objects.create(name="corp", display_name="Corp Login", issuer="https://idp.example",
                                    client_id="authflow")
    alice = User.objects.create_user("alice", password="alice-password-123")
    bob = User.objects.create_user("bob")  # provisioned: no password, one link
    link = FederatedAssociation.objects.create(idp="corp", subject="corp:ann", user=alice)
    bobs = FederatedAssociation.objects.create(idp="corp", subject="corp:bob", user=bob)

    client.force_login(alice)
    page = client.get("/account/").content.decode()
    assert "Linked identities" in page and "Corp Login" in page and ">ann<" in page
    assert client.post(f"/federation/linked/{bobs.pk}/unlink/").status_code == 302  # not alice's
    assert FederatedAssociation.objects.filter(pk=bobs.pk).exists()
    client.post(f"/federation/linked/{link.pk}/unlink/")
    assert not FederatedAssociation.objects.filter(pk=link.pk).exists()
    assert "Linked identities" not in client.get("/account/").content.decode()

    client.force_login(bob)
    followed = client.post(f"/federation/linked/{bobs.pk}/unlink/", follow=True).content.decode()
    assert "only way to sign in" in followed and FederatedAssociation.objects.filter(pk=bobs.pk).exists()


def test_a_remote_identifier_too_long_to_link_is_refused_not_an_error():
    from authflow.federation.providers import UserRefused, local_user

    provider = IdentityProvider.objects.create(name="corp", issuer="https://idp.example", client_id="a",
                                               user_policy="provision", username_claim="email")
    with pytest.raises(UserRefused, match="too long"):
        local_user(provider, {"sub": "s" * 255, "email": "ann@example.com"})
    assert local_user(provider, {"sub": "s" * 200, "email": "ann@example.com"}) == "ann@example.com"
    assert FederatedAssociation.objects.get(idp="corp").subject == "corp:" + "s" * 200
