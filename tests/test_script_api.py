"""The rest of the script API in real logins: cookies, response headers, lookups, secrets, passwords, libraries, acr."""
import io
import logging
import secrets
import textwrap

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from django.core.management import call_command
from joserfc import jwt
from joserfc.jwk import KeySet

from authflow import cookies
from authflow.directory.models import User
from authflow.flows.models import EffectRecord, LoginFlow
from authflow.vault.models import Secret
from tests.support.browser import Browser
from tests.support.config import CALLBACK, public_app
from tests.support.console import sign_in_to_console

pytestmark = pytest.mark.django_db(transaction=True)

USERS = textwrap.dedent("""
    users:
      - {username: alice, password: "alice-password-123", email: alice@example.com,
         claims: {"http://example.com/claims/employee-id": "E-17"}}
      - {username: bob, password: "bob-password-12345", email: bob@example.com, is_staff: true}
""")


@pytest.fixture
def site(live_server, tmp_path):
    def configure(*apps, libraries=""):
        path = tmp_path / "config.yaml"
        path.write_text(libraries + "applications:\n" + "".join(apps) + USERS)
        call_command("apply", "-f", str(path), stdout=io.StringIO())
        discovery = requests.get(live_server.url + "/o/.well-known/openid-configuration", timeout=30).json()
        return live_server.url, discovery
    return configure


class Login:
    def __init__(self, base, discovery, client_id, browser=None):
        self.discovery = discovery
        self.browser = browser or Browser(base, stop_at=CALLBACK)
        self.client = OAuth2Session(client_id, None, scope="openid", redirect_uri=CALLBACK,
                                    code_challenge_method="S256", token_endpoint=discovery["token_endpoint"])

    def authorize(self, **extra):
        self.verifier = secrets.token_urlsafe(48)
        uri, _ = self.client.create_authorization_url(self.discovery["authorization_endpoint"],
                                                      code_verifier=self.verifier, **extra)
        return self.browser.get(uri)

    def password(self, user="alice", secret="alice-password-123"):
        return self.browser.submit({"username": user, "password": secret})

    def id_token(self, page):
        token = self.client.fetch_token(authorization_response=page.callback, code_verifier=self.verifier)
        keys = KeySet.import_key_set(requests.get(self.discovery["jwks_uri"], timeout=30).json())
        return jwt.decode(token["id_token"], keys, algorithms=["RS256"]).claims


DEVICE = """
var onLoginRequest = function (context) {
    executeStep(1, {onSuccess: function (context) {
        var user = context.currentKnownSubject;
        var known = getCookieValue(context.request, 'device', {validateSignature: true});
        user.claims['http://example.com/claims/device'] = known === user.username ? 'known' : 'new';
        if (known !== user.username) {
            setCookie(context.response, 'device', user.username, {sign: true, 'max-age': 3600, httpOnly: true});
        }
        context.response.headers['X-Device'] = known === user.username ? 'known' : 'new';
        context.response.headers['Location'] = 'https://evil.example/';
        context.response.headers['X-Bad'] = 'a\\r\\nSet-Cookie: x=1';
    }});
};
"""


def test_a_signed_cookie_remembers_the_device_and_a_changed_one_does_not(site):
    base, discovery = site(public_app("portal", "{1: [BasicAuthenticator]}", DEVICE))
    login = Login(base, discovery, "portal")
    login.authorize(prompt="login")
    done = login.password()
    browser = login.browser
    assert done.callback and browser.header("X-Device") == "new"
    assert not any("evil" in r.headers.get("Location", "") for r in browser.trail)
    assert browser.header("X-Bad") is None
    raw = login.browser.session.cookies.get("device")
    assert raw.startswith("s1.") and cookies.decode("device", raw, validate=True) == "alice"
    assert login.id_token(done)["http://example.com/claims/device"] == "new"
    # the next login in this browser: the cookie comes back and verifies
    again = Login(base, discovery, "portal", browser=login.browser)
    again.authorize(prompt="login")
    done = again.password()
    assert browser.header("X-Device") == "known" and again.id_token(done)["http://example.com/claims/device"] == "known"
    # a changed cookie does not verify: the device is new again
    domain = next(c.domain for c in login.browser.session.cookies if c.name == "device")
    forged = cookies.encode("device", "mallory", sign=True).split(".")[1]
    login.browser.session.cookies.set("device", f"s1.{forged}.{raw.rsplit('.', 1)[1]}", domain=domain, path="/")
    third = Login(base, discovery, "portal", browser=login.browser)
    third.authorize(prompt="login")
    third.password()
    assert browser.header("X-Device") == "new"


def test_an_encrypted_cookie_with_a_key_that_is_gone_reads_as_null(site, settings):
    import base64
    import os

    settings.AUTHFLOW_ENCRYPTION_KEYS = base64.urlsafe_b64encode(os.urandom(32)).decode()
    script = """
    var onLoginRequest = function (context) {
        executeStep(1, {onSuccess: function (context) {
            var seen = getCookieValue(context.request, 'pref', {decrypt: true});
            context.response.headers['X-Pref'] = String(seen);
            setCookie(context.response, 'pref', 'dark', {encrypt: true});
        }});
    };
    """
    base, discovery = site(public_app("portal", "{1: [BasicAuthenticator]}", script))
    login = Login(base, discovery, "portal")
    login.authorize(prompt="login")
    login.password()
    assert login.browser.header("X-Pref") == "null"
    assert "dark" not in login.browser.session.cookies.get("pref")
    again = Login(base, discovery, "portal", browser=login.browser)
    again.authorize(prompt="login")
    again.password()
    assert login.browser.header("X-Pref") == "dark"
    settings.AUTHFLOW_ENCRYPTION_KEYS = base64.urlsafe_b64encode(os.urandom(32)).decode()  # the old key is gone
    third = Login(base, discovery, "portal", browser=login.browser)
    third.authorize(prompt="login")
    third.password()
    assert login.browser.header("X-Pref") == "null"


def test_users_by_claims_secrets_and_password_changes(site, caplog):
    script = """
    var onLoginRequest = function (context) {
        executeStep(1, {onSuccess: function (context) {
            var user = context.currentKnownSubject;
            var owner = getUniqueUserWithClaimValues({'http://example.com/claims/employee-id': 'E-17'}, context);
            var staff = getUsersWithClaimValues({'http://wso2.org/claims/emailaddress': 'bob@example.com'}, context);
            var key = getSecretByName('risk-api-key');
            user.claims['http://example.com/claims/checks'] = [owner.username, staff.length, staff[0].username,
                getSecretByName('missing'), key ? getMaskedValue(key) : 'no key',
                updateUserPassword(user, 'short'), updateUserPassword(user, 'a-New-and-long-passphrase-42')].join('|');
        }});
    };
    """
    base, discovery = site(public_app("portal", "{1: [BasicAuthenticator]}", script))
    secret = Secret(name="risk-api-key")
    secret.set_value("sk-live-0123456789")
    secret.save()
    assert "sk-live" not in Secret.objects.get().encrypted_value
    login = Login(base, discovery, "portal")
    login.authorize()
    with caplog.at_level(logging.DEBUG):
        done = login.password()
    checks = login.id_token(done)["http://example.com/claims/checks"]
    assert checks == "alice|1|bob||s****************9|false|true"
    alice = User.objects.get(username="alice")
    assert alice.check_password("a-New-and-long-passphrase-42")
    flow = LoginFlow.objects.get()
    stored = str(flow.state) + str(list(EffectRecord.objects.values_list("args", flat=True)))
    assert "passphrase" not in stored and "sk-live" not in stored and "passphrase" not in caplog.text
    assert [e.args for e in EffectRecord.objects.filter(name="updateUserPassword")] == [
        ["alice", "[redacted]"], ["alice", "[redacted]"]]


def test_secrets_are_never_shown_back_in_the_admin(site, client):
    site(public_app("portal", "{1: [BasicAuthenticator]}", "var onLoginRequest = function (c) { executeStep(1); };"))
    User.objects.filter(username="bob").update(is_superuser=True)
    sign_in_to_console(client, User.objects.get(username="bob"))
    page = client.post("/admin/vault/secret/add/", {"name": "api", "description": "d", "value": "hunter2-secret"},
                       HTTP_HOST="127.0.0.1")
    assert page.status_code == 302
    secret = Secret.objects.get(name="api")
    assert secret.value() == "hunter2-secret"
    page = client.get(f"/admin/vault/secret/{secret.pk}/change/", HTTP_HOST="127.0.0.1")
    assert page.status_code == 200 and b"hunter2" not in page.content and secret.encrypted_value.encode() not in page.content
    client.post(f"/admin/vault/secret/{secret.pk}/change/", {"name": "api", "description": "new", "value": ""},
                HTTP_HOST="127.0.0.1")
    assert Secret.objects.get(name="api").value() == "hunter2-secret"  # a blank value keeps the old one


LIBRARY_V1 = """
  - name: policy
    source: |
      module.exports = {needsSecondLook: function (user) { return !hasRole(user, 'trusted'); }, version: 1};
"""


def test_a_library_is_loaded_and_a_login_in_progress_keeps_its_version(site, tmp_path):
    script = """
    var onLoginRequest = function (context) {
        var policy = require('policy');
        executeStep(1, {onSuccess: function (context) {
            prompt('genericForm', {title: 'Version ' + policy.version}, {onSuccess: function (context) {
                context.currentKnownSubject.claims['http://example.com/claims/policy'] =
                    policy.version + ' ' + policy.needsSecondLook(context.currentKnownSubject);
            }});
        }});
    };
    """
    base, discovery = site(public_app("portal", "{1: [BasicAuthenticator]}", script), libraries="libraries:" + LIBRARY_V1)
    login = Login(base, discovery, "portal")
    login.authorize()
    page = login.password()
    assert "Version 1" in page.text
    # an administrator publishes version 2 while this login waits at the prompt
    path = tmp_path / "v2.yaml"
    path.write_text("libraries:" + LIBRARY_V1.replace("version: 1", "version: 2"))
    call_command("apply", "-f", str(path), stdout=io.StringIO())
    done = login.browser.submit({"action": "success"})
    assert login.id_token(done)["http://example.com/claims/policy"] == "1 true"
    fresh = Login(base, discovery, "portal")
    fresh.authorize()
    assert "Version 2" in fresh.password().text


def test_prompt_identifier_for_step_then_the_password_for_that_username(site):
    script = """
    var onLoginRequest = function (context) {
        promptIdentifierForStep(1, {onSuccess: function (context) {
            var name = context.request.params.username[0];
            executeStep(1, {authenticatorParams: {common: {username: name, inputType: 'identifierFirst'}}}, {});
        }});
    };
    """
    base, discovery = site(public_app("idp", "{1: [BasicAuthenticator]}", script))
    login = Login(base, discovery, "idp")
    page = login.authorize()
    assert 'name="username"' in page.text and 'name="password"' not in page.text
    page = login.browser.submit({"username": "alice", "action": "success"})
    assert "Signing in as" in page.text and "alice" in page.text and 'name="username"' not in page.text
    page = login.browser.submit({"username": "bob", "password": "bob-password-12345"})  # the typed name is ignored
    assert page.callback is None and "not correct" in page.text
    assert login.browser.submit({"password": "alice-password-123"}).callback


def test_the_application_s_acr_values_and_the_script_s_choice_reach_the_id_token(site):
    script = """
    var onLoginRequest = function (context) {
        var acr = selectAcrFrom(context, ['urn:authflow:mfa', 'urn:authflow:pwd']);
        context.selectedAcr = acr || 'urn:authflow:pwd';
        executeStep(1);
    };
    """
    base, discovery = site(public_app("acr", "{1: [BasicAuthenticator]}", script))
    login = Login(base, discovery, "acr")
    login.authorize(acr_values="urn:other urn:authflow:mfa")
    assert login.id_token(login.password())["acr"] == "urn:authflow:mfa"
    plain = Login(base, discovery, "acr")
    plain.authorize()
    assert plain.id_token(plain.password())["acr"] == "urn:authflow:pwd"


HEADERS = """
var onLoginRequest = function (context) {
    var h = context.response.headers;
    h['X-Risk-Score'] = '12';
    h['x-trace'] = 'abc';
    h['Refresh'] = '0;url=https://evil.example/';
    h['Clear-Site-Data'] = '"cookies", "storage"';
    h['Link'] = '<https://evil.example/x.css>; rel=preload; as=style';
    h['Cache-Control'] = 'public, max-age=86400';
    h['X-Frame-Options'] = 'ALLOWALL';
    h['X-Accel-Redirect'] = '/internal/secret';
    h['X-Sendfile'] = '/etc/passwd';
    h['X-Forwarded-Host'] = 'evil.example';
    h['X-Control'] = 'a\\u0007b';
    executeStep(1);
};
"""


def test_a_script_sets_its_own_x_headers_only(site, caplog):
    """Headers that redirect, wipe, preload, cache or instruct the proxy are not the script's to set."""
    base, discovery = site(public_app("portal", "{1: [BasicAuthenticator]}", HEADERS))
    login = Login(base, discovery, "portal")
    with caplog.at_level(logging.WARNING, logger="authflow.login"):
        page = login.authorize()
    assert 'name="password"' in page.text
    assert login.browser.header("X-Risk-Score") == "12" and login.browser.header("X-Trace") == "abc"
    for name in ("Refresh", "Clear-Site-Data", "Link", "X-Accel-Redirect", "X-Sendfile", "X-Forwarded-Host", "X-Control"):
        assert login.browser.header(name) is None, name
    assert "public" not in page.headers["Cache-Control"] and page.headers["X-Frame-Options"] == "DENY"
    refused = {r.header for r in caplog.records if r.getMessage() == "a script header was not sent"}
    assert refused == {"Refresh", "Clear-Site-Data", "Link", "Cache-Control", "X-Frame-Options", "X-Accel-Redirect",
                       "X-Sendfile", "X-Forwarded-Host", "X-Control"}


RESERVED_COOKIES = """
var onLoginRequest = function (context) {
    executeStep(1, {onSuccess: function (context) {
        var names = ['sessionid', 'csrftoken', 'authflow_browser', 'SessionId', '__Host-id', '__secure-id', 'device'];
        context.currentKnownSubject.claims['http://example.com/claims/set'] = names.map(function (name) {
            return name + '=' + setCookie(context.response, name, 'planted', {path: '/'});
        }).join(' ');
    }});
};
"""


def test_a_script_cannot_set_the_server_s_own_cookies(site, caplog):
    base, discovery = site(public_app("portal", "{1: [BasicAuthenticator]}", RESERVED_COOKIES))
    login = Login(base, discovery, "portal")
    login.authorize()
    browser_token = login.browser.session.cookies.get("authflow_browser")
    with caplog.at_level(logging.WARNING, logger="authflow.flows"):
        done = login.password()
    assert login.id_token(done)["http://example.com/claims/set"] == (
        "sessionid=false csrftoken=false authflow_browser=false SessionId=false __Host-id=false __secure-id=false "
        "device=true")
    jar = {c.name: c.value for c in login.browser.session.cookies}
    assert jar["device"] == "planted" and jar["authflow_browser"] == browser_token
    assert jar["sessionid"] != "planted" and jar.get("csrftoken") != "planted" and "__Host-id" not in jar
    assert login.browser.get("/account/").status_code == 200  # still signed in
    refused = [r.cookie for r in caplog.records if r.getMessage() == "a script cookie was refused: the name is the server's"]
    assert refused == ["sessionid", "csrftoken", "authflow_browser", "SessionId", "__Host-id", "__secure-id"]
