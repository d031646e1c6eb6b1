"""Passkeys over HTTP with a software authenticator (tests/support/webauthn.py): enrollment during a login, the
second factor, the usernameless first step, refusals (another challenge or origin, a cloned key, someone else's
key), malformed answers, and the account page.  The browser tests (test_passkeys_browser.py) use Chromium's
virtual authenticator for the same happy paths.
"""
import io
import json
import logging
import os
import secrets
import textwrap
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from django.core.management import call_command
from django.utils import timezone
from fido2.utils import websafe_decode, websafe_encode
from joserfc import jwt
from joserfc.jwk import KeySet

from authflow.authenticators import passkey as plugin
from authflow.directory.models import User
from authflow.directory.services import user_snapshot
from authflow.passkeys import ceremonies
from authflow.passkeys.models import Ceremony, Passkey
from authflow.sso.models import UserSession
from tests.support.browser import Browser
from tests.support.config import CALLBACK, public_app
from tests.support.webauthn import SoftAuthenticator, page_options

pytestmark = pytest.mark.django_db(transaction=True)

FAILED = "http://wso2.org/claims/identity/failedLoginAttempts"
KEEP = ("form_token", "position", "option", "ceremony")
APPS = (
    # password, then a passkey (set up during the login when missing)
    public_app("mfa", "{1: [BasicAuthenticator], 2: [FIDOAuthenticator]}", """
        var onLoginRequest = function (context) { executeStep(1); executeStep(2); };
    """),
    # a passkey only: usernameless
    public_app("keyonly", "{1: [FIDOAuthenticator]}", "var onLoginRequest = function (context) { executeStep(1); };"),
    # identifier first: nothing checked before the passkey, so nobody sets one up here
    public_app("idfirst", "{1: [IdentifierExecutor], 2: [FIDOAuthenticator]}", """
        var onLoginRequest = function (context) { executeStep(1); executeStep(2); };
    """),
    # the script decides what a failed passkey step means
    public_app("guarded", "{1: [BasicAuthenticator], 2: [FIDOAuthenticator]}", """
        var onLoginRequest = function (context) {
            executeStep(1, {onSuccess: function () {
                executeStep(2, {onFail: function () {
                    fail({errorCode: 'access_denied', errorMessage: 'A passkey is required here.'});
                }});
            }});
        };
    """),
)
USERS = textwrap.dedent("""
    - {name: account, client_id: account, client_type: public, steps: {1: [BasicAuthenticator]}}
    users:
      - {username: alice, password: "alice-password-123", email: alice@example.com}
      - {username: bob, password: "bob-password-12345"}
""")


@pytest.fixture
def site(live_server, tmp_path, settings):
    # Passwords are not what these tests check: a fast hash instead of Argon2 keeps the module quick.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *settings.PASSWORD_HASHERS]
    assert urlsplit(live_server.url).hostname == "localhost"  # a WebAuthn RP id must be a domain
    path = tmp_path / "config.yaml"
    path.write_text("applications:\n" + "".join(APPS) + USERS)
    call_command("apply", "-f", str(path), stdout=io.StringIO())
    discovery = requests.get(live_server.url + "/o/.well-known/openid-configuration", timeout=30).json()
    return live_server.url, discovery


class Login:
    def __init__(self, site, client_id):
        self.site = site
        self.base, self.discovery = site
        self.browser = Browser(self.base, stop_at=CALLBACK)
        self.client = OAuth2Session(client_id, None, scope="openid", redirect_uri=CALLBACK,
                                    code_challenge_method="S256", token_endpoint=self.discovery["token_endpoint"])
        self.verifier = secrets.token_urlsafe(48)
        uri, _ = self.client.create_authorization_url(self.discovery["authorization_endpoint"],
                                                      code_verifier=self.verifier)
        self.page = self.browser.get(uri)

    @property
    def flow_id(self) -> str:
        return urlsplit(self.browser.page.url).path.rstrip("/").rsplit("/", 1)[-1]

    def password(self, user="alice", secret="alice-password-123"):
        self.page = self.browser.submit({"username": user, "password": secret})
        return self.page

    def options(self) -> dict:
        return page_options(self.browser.page.text)

    def answer(self, response, **extra):
        data = {"credential": json.dumps(response) if isinstance(response, dict) else response, **extra}
        self.page = self.browser.submit(data, keep=KEEP)
        return self.page

    def claims(self):
        tokens = self.client.fetch_token(authorization_response=self.page.callback, code_verifier=self.verifier)
        keys = KeySet.import_key_set(requests.get(self.discovery["jwks_uri"], timeout=30).json())
        return jwt.decode(tokens["id_token"], keys, algorithms=["RS256"]).claims


def text(page) -> str:
    return unescape(page.text)


def error_of(page) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(page.callback).query).items() if k != "state"}


def registered(site, username="alice", *, sign_count=0, name="Test key") -> SoftAuthenticator:
    """A software authenticator whose (discoverable) credential `username` registered earlier."""
    key = SoftAuthenticator(site[0], counter=sign_count)
    key.user_handle = os.urandom(32)
    Passkey.objects.create(user=User.objects.get(username=username), credential_id=key.credential_id,
                           public_key=bytes(key.credential_data), user_handle=key.user_handle,
                           sign_count=sign_count, name=name, discoverable=True)
    return key


def stored(key) -> Passkey:
    return Passkey.objects.get(credential_id=key.credential_id)


def failures(username="alice") -> str:
    return user_snapshot(username)["claims"][FAILED]


# ---------------------------------------------------------------- happy paths

def test_a_user_sets_up_a_passkey_during_the_login_then_confirms_sign_ins_with_it(site):
    login = Login(site, "mfa")
    page = login.password()
    assert "Set up a passkey" in page.text and 'id="known-user">alice<' in page.text
    options = login.options()
    assert options["mode"] == "create" and options["publicKey"]["rp"]["id"] == "localhost"
    assert options["publicKey"]["user"]["name"] == "alice" and not options["publicKey"].get("excludeCredentials")
    key = SoftAuthenticator(site[0], counter=5)
    page = login.answer(key.create(options["publicKey"]), name="  Desk   key ")
    assert page.callback and "code=" in page.callback
    assert login.claims()["amr"] == ["pwd", "hwk", "mfa"]
    passkey = stored(key)
    assert (passkey.user.username, passkey.name, passkey.sign_count, passkey.discoverable) == ("alice", "Desk key", 5,
                                                                                                True)
    assert passkey.transports == ["usb"] and passkey.last_used_at is None

    login = Login(site, "mfa")
    page = login.password()
    assert "Confirm with your passkey" in page.text
    options = login.options()
    assert options["mode"] == "get" and options["publicKey"]["userVerification"] == "preferred"
    assert [c["id"] for c in options["publicKey"]["allowCredentials"]] == [websafe_encode(key.credential_id)]
    page = login.answer(key.get(options["publicKey"]))
    assert page.callback and "code=" in page.callback
    passkey.refresh_from_db()
    assert passkey.sign_count == 6 and passkey.last_used_at is not None


def test_a_discoverable_passkey_signs_in_without_a_username(site):
    key = registered(site, "bob", sign_count=0)  # an authenticator without a counter: 0 stays 0
    login = Login(site, "keyonly")
    assert "Sign in with a passkey" in login.page.text and 'name="username"' not in login.page.text
    options = login.options()["publicKey"]
    assert options["userVerification"] == "required" and not options.get("allowCredentials")
    page = login.answer(key.get(options))
    assert page.callback and "code=" in page.callback
    claims = login.claims()
    assert claims["amr"] == ["hwk"]
    assert UserSession.objects.get(ended_at__isnull=True).user.username == "bob"
    assert stored(key).sign_count == 0 and stored(key).last_used_at is not None


# ---------------------------------------------------------------- refusals: counted, nothing stored

def _another_challenge(login, key):
    earlier = Login(login.site, "keyonly")  # a real answer to another login's challenge
    return key.get(earlier.options()["publicKey"])


CASES = {
    "another challenge": (lambda login, key: key.get(login.options()["publicKey"], challenge=os.urandom(32)),
                          ceremonies.FOR_ANOTHER_REQUEST),
    "another login's answer": (_another_challenge, ceremonies.FOR_ANOTHER_REQUEST),
    "another origin": (lambda login, key: key.get(login.options()["publicKey"],
                                                  origin=login.base.replace("localhost", "evil.localhost")),
                       ceremonies.FOR_ANOTHER_SITE),
    "another relying party": (lambda login, key: key.get(dict(login.options()["publicKey"], rpId="example.com")),
                              ceremonies.FOR_ANOTHER_SITE),
    "a cloned key": (lambda login, key: key.get(login.options()["publicKey"], counter=7), ceremonies.CLONED),
    "the same counter again": (lambda login, key: key.get(login.options()["publicKey"], counter=10),
                               ceremonies.CLONED),
    "a bad signature": (lambda login, key: _bad_signature(key.get(login.options()["publicKey"])),
                        ceremonies.NOT_VERIFIED),
}


def _bad_signature(response):
    signature = bytearray(websafe_decode(response["response"]["signature"]))
    signature[-1] ^= 1
    response["response"]["signature"] = websafe_encode(bytes(signature))
    return response


@pytest.mark.parametrize("case", list(CASES))
def test_a_response_that_proves_nothing_is_refused_counted_and_changes_nothing(site, settings, caplog, case):
    from django.core.cache import cache

    settings.AUTHFLOW_ADDRESS_FAILURE_LIMIT = 1
    key = registered(site, "alice", sign_count=10)
    make, message = CASES[case]
    for app in ("keyonly", "mfa"):  # the usernameless first step, and the second factor after a password
        User.objects.filter(username="alice").update(failed_login_attempts=0)
        cache.clear()
        login = Login(site, app)
        if app == "mfa":
            login.password()
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="authflow.passkeys"):
            page = login.answer(make(login, key))
        assert page.status_code == 200 and page.callback is None, app
        assert message in text(page), app
        assert failures("alice") == "1", app
        passkey = stored(key)
        assert passkey.sign_count == 10 and passkey.last_used_at is None, app
        [refusal] = [r for r in caplog.records if r.name == "authflow.passkeys"]
        assert (refusal.levelno, refusal.flow_id, refusal.user) == (logging.WARNING, login.flow_id, "alice"), app
        # the address counter went up too: with a limit of 1, even a good answer is refused now
        page = login.answer(key.get(login.options()["publicKey"], counter=11))
        assert "Too many failed sign-ins from your network" in page.text and stored(key).sign_count == 10, app


def test_a_cloned_key_is_logged_with_the_flow_and_both_counters(site, caplog):
    key = registered(site, "alice", sign_count=10)
    login = Login(site, "keyonly")
    with caplog.at_level(logging.WARNING, logger="authflow.passkeys"):
        login.answer(key.get(login.options()["publicKey"], counter=3))
    [record] = [r for r in caplog.records if getattr(r, "reason", None) == "cloned"]
    assert record.levelno == logging.WARNING and "cloned" in record.getMessage()
    assert (record.flow_id, record.stored_count, record.presented_count) == (login.flow_id, 10, 3)


def test_a_passkey_without_user_verification_cannot_sign_in_alone(site):
    key = registered(site, "alice", sign_count=1)
    login = Login(site, "keyonly")
    page = login.answer(key.get(login.options()["publicKey"], user_verified=False))
    assert ceremonies.NEEDS_VERIFICATION in text(page) and failures() == "1"
    # as a second factor the touch is enough
    login = Login(site, "mfa")
    login.password()
    assert login.answer(key.get(login.options()["publicKey"], user_verified=False)).callback


def test_someone_elses_passkey_does_not_confirm_a_sign_in(site):
    registered(site, "alice", sign_count=1)
    bobs = registered(site, "bob", sign_count=4)
    login = Login(site, "mfa")
    login.password()
    page = login.answer(bobs.get(login.options()["publicKey"]))
    assert plugin.NOT_YOURS in page.text and page.callback is None
    assert failures("alice") == "1" and failures("bob") == "0" and stored(bobs).sign_count == 4
    # and a key nobody registered
    page = login.answer(SoftAuthenticator(site[0]).get(login.options()["publicKey"]))
    assert plugin.NOT_YOURS in page.text and failures("alice") == "2"


def test_a_registration_that_proves_nothing_stores_nothing(site):
    login = Login(site, "mfa")
    login.password()
    key = SoftAuthenticator(site[0])
    lies = {"another origin": ({"origin": "http://localhost:1"}, ceremonies.FOR_ANOTHER_SITE),
            "another challenge": ({"challenge": os.urandom(32)}, ceremonies.FOR_ANOTHER_REQUEST),
            "another relying party": ({"rp_id": "example.com"}, ceremonies.FOR_ANOTHER_SITE),
            "no credential in it": ({"attested": False}, ceremonies.NOT_VERIFIED),
            "a key nobody can check": ({"cose_key": {1: 2, 3: -7, -1: 1}}, ceremonies.UNSUPPORTED_KEY),
            "an unsupported algorithm": ({"cose_key": {1: 1, 3: -65535}}, ceremonies.UNSUPPORTED_KEY)}
    for count, (lie, (how, message)) in enumerate(lies.items(), start=1):
        page = login.answer(key.create(login.options()["publicKey"], **how))
        assert page.callback is None and "Set up a passkey" in page.text, lie
        assert message in text(page), lie
        assert not Passkey.objects.exists() and failures() == str(count), lie
    # each refusal came with a fresh challenge: the real thing works
    assert login.answer(key.create(login.options()["publicKey"])).callback and Passkey.objects.count() == 1


# ---------------------------------------------------------------- bad input: a message, never a 500

def _unknown_ceremony(login):
    return {"ceremony": "00000000-0000-0000-0000-000000000000"}


def _other_flows_ceremony(login):
    other = Login(login.site, "keyonly")
    return {"ceremony": other.browser.hidden_fields()["ceremony"]}


def _expired_ceremony(login):
    Ceremony.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    return {}


MALFORMED = {
    "nothing": "",
    "not JSON": "{nope",
    "a list": "[1, 2]",
    "wrong types": json.dumps({"id": 5, "rawId": 7, "response": "x"}),
    "missing fields": json.dumps({"id": "AAAA", "rawId": "AAAA", "type": "public-key", "response": {}}),
    "not base64": json.dumps({"id": "!!", "rawId": "!!", "type": "public-key",
                              "response": {"clientDataJSON": "!!", "authenticatorData": "!!", "signature": "!!"}}),
    "client data not JSON": json.dumps({"id": "AAAA", "rawId": "AAAA", "type": "public-key", "response": {
        "clientDataJSON": websafe_encode(b"\xff{"), "authenticatorData": "AAAA", "signature": "AAAA"}}),
    "huge": "x" * (ceremonies.MAX_RESPONSE_CHARS + 1),
}


def test_an_unreadable_answer_is_asked_again(site):
    key = registered(site, "alice", sign_count=1)
    login = Login(site, "keyonly")
    for case, answer in MALFORMED.items():
        page = login.answer(answer)
        assert page.status_code == 200 and page.callback is None, case
        assert ceremonies.NOT_READABLE in text(page), case
    assert failures() == "0"  # nothing was checked
    assert login.answer(key.get(login.options()["publicKey"])).callback  # the page's fresh challenge works


def test_a_missing_expired_or_foreign_challenge_is_asked_again(site):
    key = registered(site, "alice", sign_count=1)
    login = Login(site, "keyonly")
    for ceremony in (_unknown_ceremony, _other_flows_ceremony, _expired_ceremony, lambda login: {"ceremony": "x"}):
        page = login.answer(key.get(login.options()["publicKey"]), **ceremony(login))
        assert page.status_code == 200 and plugin.EXPIRED in page.text and page.callback is None, ceremony
        assert stored(key).sign_count == 1 and failures() == "0", ceremony


def test_an_answer_is_used_once(site):
    key = registered(site, "alice", sign_count=1)
    login = Login(site, "keyonly")
    fields = {k: v for k, v in login.browser.hidden_fields().items() if k in KEEP}
    answer = json.dumps(key.get(login.options()["publicKey"]))
    url = login.browser.page.url
    assert login.answer(answer).callback
    again = login.browser.session.post(url, data=dict(fields, credential=answer), allow_redirects=False, timeout=30)
    assert again.status_code == 409 and stored(key).sign_count == 2


def test_an_unknown_passkey_counts_against_the_address(site, settings):
    settings.AUTHFLOW_ADDRESS_FAILURE_LIMIT = 1
    key = registered(site, "alice", sign_count=1)
    login = Login(site, "keyonly")
    page = login.answer(SoftAuthenticator(site[0]).get(login.options()["publicKey"]))
    assert plugin.UNKNOWN in page.text and failures() == "0"
    page = login.answer(key.get(login.options()["publicKey"]))
    assert "Too many failed sign-ins from your network" in page.text


# ---------------------------------------------------------------- the script decides

def test_without_a_passkey_the_scripts_on_fail_decides(site):
    registered(site, "alice", sign_count=1)
    login = Login(site, "guarded")
    login.password()
    page = login.browser.submit({"action": "without"})
    assert error_of(page) == {"error": "access_denied", "error_description": "A passkey is required here."}
    assert failures() == "0"


def test_a_refused_passkey_goes_to_the_scripts_on_fail(site):
    key = registered(site, "alice", sign_count=1)
    login = Login(site, "guarded")
    login.password()
    page = login.answer(key.get(login.options()["publicKey"], origin="https://phish.example"))
    assert error_of(page)["error_description"] == "A passkey is required here." and failures() == "1"


def test_not_setting_one_up_goes_to_the_scripts_on_fail(site):
    login = Login(site, "guarded")
    page = login.password()
    assert "Set up a passkey" in page.text and "Not now" in page.text
    page = login.browser.submit({"action": "not_enrolled"})
    assert error_of(page)["error_description"] == "A passkey is required here." and not Passkey.objects.exists()


def test_after_an_identifier_only_the_users_own_passkeys_are_asked_for_and_none_is_set_up(site):
    key = registered(site, "alice", sign_count=1)
    for username, allowed in (("alice", [websafe_encode(key.credential_id)]), ("bob", []), ("nobody", [])):
        login = Login(site, "idfirst")
        page = login.browser.submit({"username": username})
        # the same page whether or not the account has a passkey (or exists): no enrollment before a credential
        assert "Confirm with your passkey" in page.text and "Set up a passkey" not in page.text, username
        assert [c["id"] for c in login.options()["publicKey"].get("allowCredentials", [])] == allowed, username
    page = login.browser.submit({"action": "without"})  # "nobody" has no way on but another step
    assert plugin.NO_PASSKEY in page.text and page.callback is None


def test_a_locked_account_cannot_sign_in_with_its_passkey(site):
    key = registered(site, "alice", sign_count=1)
    User.objects.filter(username="alice").update(locked_until=timezone.now() + timedelta(minutes=5))
    login = Login(site, "keyonly")
    page = login.answer(key.get(login.options()["publicKey"]))
    assert "account is locked" in page.text and page.callback is None and stored(key).sign_count == 1


def test_without_on_fail_a_refused_step_is_shown_again_with_the_message(site):
    key = registered(site, "alice", sign_count=1)
    login = Login(site, "mfa")
    login.password()
    page = login.browser.submit({"action": "without"})
    assert plugin.NO_PASSKEY in page.text and "Confirm with your passkey" in page.text
    assert login.answer(key.get(login.options()["publicKey"])).callback


# ---------------------------------------------------------------- the account page

def account_browser(site, username="alice", secret="alice-password-123"):
    browser = Browser(site[0])
    browser.get("/account/")
    browser.submit({"username": username, "password": secret})
    assert browser.page.url.endswith("/account/")
    return browser


def post_json(browser, url, body):
    token = browser.session.cookies.get("csrftoken")
    return browser.session.post(browser.base_url + url, data=body if isinstance(body, str) else json.dumps(body),
                                headers={"X-CSRFToken": token, "Content-Type": "application/json",
                                         "Origin": browser.base_url, "Referer": browser.base_url + "/account/"},
                                allow_redirects=False, timeout=30)


def test_the_account_page_adds_a_passkey(site):
    browser = account_browser(site)
    assert "Passkeys and security keys" in browser.page.text and 'id="passkeys-none"' in browser.page.text
    begun = post_json(browser, "/account/passkeys/register/begin/", {})
    assert begun.status_code == 200
    options = begun.json()["publicKey"]
    assert options["user"]["name"] == "alice" and options["authenticatorSelection"]["residentKey"] == "preferred"
    key = SoftAuthenticator(site[0])
    # for another origin: refused, counted, nothing stored
    bad = post_json(browser, "/account/passkeys/register/complete/",
                    {"ceremony": begun.json()["ceremony"], "credential": key.create(options, origin="http://evil.example")})
    assert bad.status_code == 400 and bad.json()["error"] == ceremonies.FOR_ANOTHER_SITE
    assert not Passkey.objects.exists() and failures() == "1"
    # the challenge was used up by that attempt
    again = post_json(browser, "/account/passkeys/register/complete/",
                      {"ceremony": begun.json()["ceremony"], "credential": key.create(options)})
    assert again.status_code == 400 and "expired or was already used" in again.json()["error"]
    begun = post_json(browser, "/account/passkeys/register/begin/", {}).json()
    done = post_json(browser, "/account/passkeys/register/complete/",
                     {"ceremony": begun["ceremony"], "credential": key.create(begun["publicKey"]), "name": "Phone"})
    assert done.status_code == 200 and done.json() == {"ok": True, "redirect": "/account/"}
    page = browser.get("/account/")
    assert "The passkey “Phone” was added." in page.text and 'value="Phone"' in page.text
    assert "signs in without a username" in page.text
    # the same authenticator again is excluded by the options, and refused if it answers anyway
    begun = post_json(browser, "/account/passkeys/register/begin/", {}).json()
    assert [c["id"] for c in begun["publicKey"]["excludeCredentials"]] == [websafe_encode(key.credential_id)]
    dup = post_json(browser, "/account/passkeys/register/complete/",
                    {"ceremony": begun["ceremony"], "credential": key.create(begun["publicKey"])})
    assert dup.status_code == 400 and "already registered" in dup.json()["error"] and Passkey.objects.count() == 1


def test_the_account_page_answers_bad_json_with_a_message(site):
    browser = account_browser(site)
    post_json(browser, "/account/passkeys/register/begin/", {})
    for body in ["", "{nope", "[]", json.dumps({"ceremony": 5, "credential": "x"}),
                 json.dumps({"credential": {"rawId": "AA"}})]:
        response = post_json(browser, "/account/passkeys/register/complete/", body)
        assert response.status_code == 400 and response.json()["error"], body
    begun = post_json(browser, "/account/passkeys/register/begin/", {}).json()
    for credential in ["{nope", [1], {"rawId": "AA", "response": {}}]:
        response = post_json(browser, "/account/passkeys/register/complete/",
                             {"ceremony": begun["ceremony"], "credential": credential})
        assert response.status_code == 400 and response.json()["error"], credential
    assert not Passkey.objects.exists()


def test_a_passkey_name_with_control_characters_is_stored_without_them(site):
    browser = account_browser(site)
    begun = post_json(browser, "/account/passkeys/register/begin/", {}).json()
    key = SoftAuthenticator(site[0])
    done = post_json(browser, "/account/passkeys/register/complete/", {  # a NUL: PostgreSQL cannot store it
        "ceremony": begun["ceremony"], "credential": key.create(begun["publicKey"]), "name": "Desk\u0000key\u0007"})
    assert done.status_code == 200 and Passkey.objects.get().name == "Desk key"


def test_adding_a_passkey_needs_a_recent_sign_in(site):
    browser = account_browser(site)
    UserSession.objects.update(login_at=timezone.now() - timedelta(hours=2))
    begun = post_json(browser, "/account/passkeys/register/begin/", {})
    assert begun.status_code == 403 and "reauthenticate=1" in begun.json()["redirect"]
    signed_out = Browser(site[0])
    signed_out.get("/account/")
    response = post_json(signed_out, "/account/passkeys/register/begin/", {})
    assert response.status_code in (401, 403) and not Passkey.objects.exists()


def test_the_account_page_renames_and_removes_only_ones_own_passkeys(site):
    registered(site, "alice", name="Laptop")
    bobs = registered(site, "bob", name="Bob's key")
    browser = account_browser(site)
    assert "Laptop" in browser.page.text and "Bob&#x27;s key" not in browser.page.text
    mine, theirs = Passkey.objects.get(name="Laptop").pk, stored(bobs).pk
    keep = ("csrfmiddlewaretoken",)
    page = browser.submit({"name": "Work laptop"}, url=f"{site[0]}/account/passkeys/{mine}/rename/", keep=keep)
    assert "is now called “Work laptop”" in page.text and Passkey.objects.get(pk=mine).name == "Work laptop"
    page = browser.submit({"name": "   "}, url=f"{site[0]}/account/passkeys/{mine}/rename/", keep=keep)
    assert "Give the passkey a name." in page.text
    page = browser.submit({"name": "Mine now"}, url=f"{site[0]}/account/passkeys/{theirs}/rename/", keep=keep)
    assert "That passkey is not on your account." in page.text and stored(bobs).name == "Bob's key"
    page = browser.submit({}, url=f"{site[0]}/account/passkeys/{theirs}/remove/", keep=keep)
    assert "That passkey is not on your account." in page.text and Passkey.objects.filter(pk=theirs).exists()
    # without the CSRF token nothing happens
    refused = browser.session.post(f"{site[0]}/account/passkeys/{mine}/remove/", allow_redirects=False, timeout=30)
    assert refused.status_code == 403 and Passkey.objects.filter(pk=mine).exists()
    page = browser.submit({}, url=f"{site[0]}/account/passkeys/{mine}/remove/", keep=keep)
    assert "The passkey “Work laptop” was removed" in page.text and not Passkey.objects.filter(pk=mine).exists()
    assert 'id="passkeys-none"' in page.text


def test_the_account_pages_passkey_requests_need_the_csrf_token(site):
    # The views are imported by their first request (authflow.passkeys.urls): Django's CSRF check still applies.
    browser = account_browser(site)
    for url in ("/account/passkeys/register/begin/", "/account/passkeys/1/rename/", "/account/passkeys/1/remove/"):
        forged = browser.session.post(browser.base_url + url, data="{}", allow_redirects=False, timeout=30,
                                      headers={"Content-Type": "application/json", "Origin": browser.base_url,
                                               "Referer": browser.base_url + "/account/"})
        assert forged.status_code == 403, url
    assert post_json(browser, "/account/passkeys/register/begin/", {}).status_code == 200
