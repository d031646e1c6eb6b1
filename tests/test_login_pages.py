"""The login pages in use: prompts, choosing a step's option, sendError, brute force, logout."""
import io
import secrets
import textwrap
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from django.core.management import call_command

from authflow.directory.models import User
from authflow.directory.services import user_snapshot
from tests.support.browser import Browser
from tests.support.config import CALLBACK, public_app

pytestmark = pytest.mark.django_db(transaction=True)

def app_config(name, steps, script):
    return public_app(name, steps, script)


USERS = textwrap.dedent("""
    users:
      - {username: alice, password: "alice-password-123", email: alice@example.com}
""")


@pytest.fixture
def site(live_server, tmp_path):
    def configure(*apps):
        path = tmp_path / "config.yaml"
        path.write_text("applications:\n" + "".join(apps) + USERS)
        call_command("apply", "-f", str(path), stdout=io.StringIO())
        discovery = requests.get(live_server.url + "/o/.well-known/openid-configuration", timeout=30).json()
        return live_server.url, discovery
    return configure


def begin(base, discovery, client_id, **extra):
    browser = Browser(base, stop_at=CALLBACK)
    client = OAuth2Session(client_id, None, scope="openid", redirect_uri=CALLBACK, code_challenge_method="S256",
                           token_endpoint=discovery["token_endpoint"])
    verifier = secrets.token_urlsafe(48)
    uri, state = client.create_authorization_url(discovery["authorization_endpoint"], code_verifier=verifier, **extra)
    page = browser.get(uri)
    return browser, client, verifier, page


def password(browser, user="alice", secret="alice-password-123"):
    return browser.submit({"username": user, "password": secret})


def test_a_prompt_page_takes_the_answer_to_the_script(site):
    base, discovery = site(app_config("survey", "{1: [BasicAuthenticator]}", """
        var onLoginRequest = function (context) {
            executeStep(1, {onSuccess: function (context) {
                var user = context.currentKnownSubject;
                prompt('genericForm', {title: 'About you', inputs: [{id: 'fname', label: 'First Name'}]}, {
                    onSuccess: function (context) {
                        user.localClaims['http://wso2.org/claims/givenname'] = context.request.params.fname[0];
                    }
                });
            }});
        };
    """))
    browser, _, _, _ = begin(base, discovery, "survey")
    page = password(browser)
    assert page.status_code == 200 and "About you" in page.text and 'name="fname"' in page.text
    done = browser.submit({"fname": "Ann", "action": "success"})
    assert done.callback and "code=" in done.callback
    assert User.objects.get(username="alice").first_name == "Ann"


def test_a_password_input_of_a_prompt_is_replayed_but_never_stored_in_clear(site):
    from authflow.flows.models import LoginFlow

    base, discovery = site(app_config("pin", "{1: [BasicAuthenticator]}", """
        var onLoginRequest = function (context) {
            executeStep(1, {onSuccess: function (context) {
                prompt('genericForm', {title: 'Your PIN', inputs: [
                    {id: 'pin', label: 'PIN', type: 'password'}, {id: 'colour', label: 'Colour'}]}, {
                    onSuccess: function (context) {
                        var pin = context.request.params.pin[0];
                        // a second prompt: the first one's answer is replayed from the journal
                        prompt('genericForm', {title: 'Confirm', inputs: [{id: 'ok', label: 'OK'}]}, {
                            onSuccess: function (context) {
                                if (pin !== '4321-secret') { fail({errorCode: 'wrong_pin'}); }
                                Log.info('pin ok, colour ' + context.request.params.colour);
                            }
                        });
                    }
                });
            }});
        };
    """))
    browser, _, _, _ = begin(base, discovery, "pin")
    page = password(browser)
    assert 'name="pin"' in page.text and 'type="password"' in page.text
    page = browser.submit({"pin": "4321-secret", "colour": "blue", "action": "success"})
    assert "Confirm" in page.text
    stored = LoginFlow.objects.get()
    answer = stored.state["journal"]["answers"][-1]
    assert "4321-secret" not in str(stored.state) and answer["params"] == {"colour": ["blue"]}
    assert answer["secret"] == ["pin"] and stored.state["journal"]["sealed"]  # the engine's sealed part
    done = browser.submit({"ok": "yes", "action": "success"})
    assert done.callback and "code=" in done.callback  # the script saw the PIN on every replay
    assert "4321-secret" not in str(LoginFlow.objects.get().state)


def test_a_step_with_several_options_lets_the_user_choose(site):
    base, discovery = site(app_config("choice", "{1: [totp, BasicAuthenticator]}", """
        var onLoginRequest = function (context) { executeStep(1); };
    """))
    browser, _, _, page = begin(base, discovery, "choice")
    assert "Choose how to sign in" in page.text and "Authenticator app" in page.text and "Username &amp; Password" in page.text
    page = browser.get(page.url + "?option=1")
    assert 'name="password"' in page.text
    assert password(browser).callback


def test_the_choice_offers_only_what_authentication_options_left(site):
    base, discovery = site(app_config("filtered", "{1: [IdentifierExecutor, totp, BasicAuthenticator]}", """
        var onLoginRequest = function (context) {
            executeStep(1, {authenticationOptions: [{authenticator: 'totp'}, {authenticator: 'BasicAuthenticator'}]}, {});
        };
    """))
    browser, _, _, page = begin(base, discovery, "filtered")
    assert "Authenticator app" in page.text and "Username &amp; Password" in page.text and "Identifier First" not in page.text
    assert "?option=2" not in page.text
    page = browser.get(page.url + "?option=1")  # the second option left: the password
    assert 'name="password"' in page.text
    assert password(browser).callback


def test_an_option_without_a_page_can_be_cancelled_back_to_the_application(site):
    base, discovery = site(app_config("otp", "{1: [BasicAuthenticator], 2: [x509CertificateAuthenticator]}", """
        var onLoginRequest = function (context) { executeStep(1); executeStep(2); };
    """))
    browser, _, _, _ = begin(base, discovery, "otp")
    page = password(browser)
    assert "X509 Certificate is not available" in page.text
    done = browser.submit({"action": "abort"})
    assert parse_qs(urlsplit(done.callback).query)["error"] == ["access_denied"]


def test_send_error_goes_to_relative_urls_only(site):
    base, discovery = site(
        app_config("local", "{1: [BasicAuthenticator]}", """
            var onLoginRequest = function (context) {
                executeStep(1, {onSuccess: function () { sendError(null, {errorcode: '000403', errorMsg: 'Not for you.'}); }});
            };
        """),
        app_config("remote", "{1: [BasicAuthenticator]}", """
            var onLoginRequest = function (context) {
                executeStep(1, {onSuccess: function () { sendError('https://evil.example/x', {errorMsg: 'Go away.'}); }});
            };
        """))
    browser, _, _, _ = begin(base, discovery, "local")
    page = password(browser)
    assert page.status_code == 403 and "/login/error/" in page.url and "Not for you." in page.text and "000403" in page.text
    browser, _, _, _ = begin(base, discovery, "remote")
    browser.stop_at = "https://evil.example"
    page = password(browser)
    assert page.callback is None and page.status_code == 403 and "Go away." in page.text


def test_send_error_follows_an_allowed_prefix_exactly(site, settings):
    """https://good.example admits its own URLs, not https://good.example.evil.com."""
    settings.AUTHFLOW_ERROR_URL_ALLOW_LIST = ["https://good.example"]
    script = """
        var onLoginRequest = function (context) {
            executeStep(1, {onSuccess: function () { sendError('%s', {errorMsg: 'Not here.'}); }});
        };
    """
    base, discovery = site(app_config("lookalike", "{1: [BasicAuthenticator]}", script % "https://good.example.evil.com/x"),
                           app_config("allowed", "{1: [BasicAuthenticator]}", script % "https://GOOD.example:443/app/error"))
    browser, _, _, _ = begin(base, discovery, "lookalike")
    browser.stop_at = "https://"
    page = password(browser)
    assert page.callback is None and page.status_code == 403 and "Not here." in page.text
    browser, _, _, _ = begin(base, discovery, "allowed")
    browser.stop_at = "https://"
    assert password(browser).callback == "https://good.example/app/error?errorMsg=Not+here."


@pytest.mark.parametrize("url, allowed", [
    ("https://good.example/app", True),
    ("https://good.example/app/", True),
    ("https://good.example/app/error?code=1", True),
    ("https://GOOD.EXAMPLE./app/x", True),
    ("https://good.example:443/app/x", True),
    ("https://good.example.evil.com/app", False),
    ("https://good.example@evil.com/app", False),
    ("https://user:pw@good.example/app", False),
    ("https://evil.com\\@good.example/app", False),
    ("https://good.example\\.evil.com/app", False),
    ("https://good.example:8443/app", False),
    ("http://good.example/app", False),
    ("https://good.example/application", False),
    ("https://good.example/ap", False),
    ("https://good.example/app/../admin", False),
    ("https://good.example/app/%2e%2e/admin", False),
    ("https://good.example/app%2f..%2fadmin", False),
    ("https://good.example/app\t", False),
    ("javascript:alert(1)//https://good.example/app", False),
    ("//good.example/app", False),
    ("/login/error/", True),
    ("//evil.example/", False),
    ("/\\evil.example/", False),
    ("/\t/evil.example/", False),
    ("/\n/evil.example/", False),
])
def test_send_error_urls_match_scheme_host_port_and_path_segments(settings, url, allowed):
    from authflow.login.error_urls import redirect_url

    settings.AUTHFLOW_ERROR_URL_ALLOW_LIST = ["https://good.example/app", "not a url"]
    assert (redirect_url(url) is not None) is allowed


def test_a_wrong_password_stays_on_the_password_page_with_the_username_and_the_error(site):
    base, discovery = site(app_config("either", "{1: [BasicAuthenticator, MagicLinkAuthenticator]}", """
        var onLoginRequest = function (context) { executeStep(1); };
    """))
    browser, _, _, page = begin(base, discovery, "either")
    assert "Choose how to sign in" in page.text
    browser.get(page.url + "?option=0")
    page = password(browser, secret="wrong-password")
    assert "Choose how to sign in" not in page.text and 'name="password"' in page.text
    assert "The username or password is not correct." in page.text
    assert 'name="username" autocomplete="username" required value="alice"' in page.text
    assert 'type="password" autocomplete="current-password" required autofocus' in page.text
    chooser = browser.get(page.url.split("?")[0] + "?choose")  # "Choose another way to sign in"
    assert "Choose how to sign in" in chooser.text and "not correct" not in chooser.text
    page = browser.get(page.url.split("?")[0])  # the page of the option tried, still
    assert 'value="alice"' in page.text and password(browser).callback


def test_an_option_the_user_has_not_set_up_goes_back_to_the_other_options(site):
    base, discovery = site(app_config("second", "{1: [BasicAuthenticator], 2: [backup-code-authenticator, totp]}", """
        var onLoginRequest = function (context) { executeStep(1); executeStep(2); };
    """))
    browser, _, _, _ = begin(base, discovery, "second")
    page = password(browser)
    page = browser.get(page.url + "?option=0")
    assert "Backup code is not set up" in page.text
    page = browser.submit({"action": "not_enrolled"})
    assert "Confirm it's you" in page.text and "Backup code is not set up for your account." in page.text
    assert "?option=1" in page.text


def test_an_account_locks_after_repeated_failures(site, settings):
    settings.AUTHFLOW_LOCKOUT_THRESHOLD = 3
    base, discovery = site(app_config("lock", "{1: [BasicAuthenticator]}", """
        var onLoginRequest = function (context) { executeStep(1); };
    """))
    browser, _, _, _ = begin(base, discovery, "lock")
    for attempt in range(1, 3):
        page = password(browser, secret="wrong")
        assert "not correct" in page.text
        assert user_snapshot("alice")["claims"]["http://wso2.org/claims/identity/failedLoginAttempts"] == str(attempt)
    page = password(browser, secret="wrong")
    assert user_snapshot("alice")["claims"]["http://wso2.org/claims/identity/accountLocked"] == "true"
    page = password(browser)  # the right password does not help while locked
    assert page.callback is None and "account is locked" in page.text
    User.objects.filter(username="alice").update(locked_until=None, failed_login_attempts=0)
    assert password(browser).callback


def test_an_address_with_too_many_failures_is_refused(site, settings):
    settings.AUTHFLOW_ADDRESS_FAILURE_LIMIT = 2
    base, discovery = site(app_config("throttle", "{1: [BasicAuthenticator]}", """
        var onLoginRequest = function (context) { executeStep(1); };
    """))
    browser, _, _, _ = begin(base, discovery, "throttle")
    password(browser, user="nobody", secret="x")
    password(browser, user="someone", secret="y")
    page = password(browser)
    assert page.callback is None and "Too many failed sign-ins from your network" in page.text


def test_rp_initiated_logout_ends_the_session(site):
    base, discovery = site(app_config("portal", "{1: [BasicAuthenticator]}", """
        var onLoginRequest = function (context) { executeStep(1); };
    """))
    browser, client, verifier, _ = begin(base, discovery, "portal")
    done = password(browser)
    token = client.fetch_token(authorization_response=done.callback, code_verifier=verifier)
    out = browser.get(discovery["end_session_endpoint"] + "?" + requests.compat.urlencode({
        "id_token_hint": token["id_token"], "post_logout_redirect_uri": CALLBACK, "client_id": "portal"}))
    assert out.callback and out.callback.startswith(CALLBACK)
    from authflow.sso.models import UserSession
    assert UserSession.objects.get().end_reason == "signed out"
    # signed out: the next authorization request needs a login again
    again = browser.get(client.create_authorization_url(discovery["authorization_endpoint"],
                                                        code_verifier=secrets.token_urlsafe(48))[0])
    assert "/login/flow/" in again.url and 'name="password"' in again.text


def test_signing_in_gives_the_browser_a_new_session_key(site):
    from django.contrib.sessions.backends.db import SessionStore

    base, discovery = site(app_config("portal", "{1: [BasicAuthenticator]}", """
        var onLoginRequest = function (context) { executeStep(1); };
    """))
    planted = SessionStore()
    planted["planted"] = True
    planted.create()  # a session key an attacker could have fixed in the victim's browser
    browser, _, _, page = begin(base, discovery, "portal")
    domain = next(c.domain for c in browser.session.cookies if c.name == "authflow_browser")
    browser.session.cookies.set("sessionid", planted.session_key, domain=domain, path="/")
    done = password(browser)
    assert done.callback and "code=" in done.callback, done.text
    assert browser.session.cookies.get("sessionid") not in (None, planted.session_key)
    assert not SessionStore().exists(planted.session_key)


def test_the_application_s_login_hint_and_acr_values_reach_the_script(site):
    base, discovery = site(app_config("acr", "{1: [BasicAuthenticator]}", """
        var onLoginRequest = function (context) {
            var p = context.request.params;
            Log.info('asked: ' + p.acr_values[0] + ' for ' + p.login_hint[0] + ' by ' + p.client_id[0]);
            executeStep(1);
        };
    """))
    import logging
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logging.getLogger("authflow.script").addHandler(handler)
    try:
        _, _, _, page = begin(base, discovery, "acr", acr_values="urn:acr:mfa", login_hint="alice")
    finally:
        logging.getLogger("authflow.script").removeHandler(handler)
    assert 'value="alice"' in page.text
    assert [r.getMessage() for r in records] == ["asked: urn:acr:mfa for alice by acr"]
    assert records[0].flow_id


def test_a_request_without_pkce_goes_back_to_the_application_with_an_error(site):
    base, discovery = site(app_config("portal", "{1: [BasicAuthenticator]}", """
        var onLoginRequest = function (context) { executeStep(1); };
    """))
    browser = Browser(base, stop_at=CALLBACK)
    page = browser.get("/o/authorize/?" + requests.compat.urlencode({
        "response_type": "code", "client_id": "portal", "redirect_uri": CALLBACK, "scope": "openid", "state": "s1"}))
    query = parse_qs(urlsplit(page.callback).query)
    assert query["error"] == ["invalid_request"] and query["state"] == ["s1"]
    assert "Code challenge required" in query["error_description"][0]


def test_staff_see_why_a_script_failed(site):
    base, discovery = site(app_config("broken", "{1: [BasicAuthenticator]}", """
        var onLoginRequest = function (context) {
            executeStep(1, {onSuccess: function (context) { context.nothing.here = 1; }});
        };
    """) + "- {name: account, client_id: account, client_type: public, steps: {1: [BasicAuthenticator]}}\n")
    User.objects.filter(username="alice").update(is_staff=True)
    browser, _, _, _ = begin(base, discovery, "broken")
    page = password(browser)
    assert page.status_code == 503 and "For administrators" not in page.text  # not signed in: no detail
    browser.get("/account/")
    assert password(browser).status_code == 200  # signed in (staff) through the account application
    client = OAuth2Session("broken", None, scope="openid", redirect_uri=CALLBACK, code_challenge_method="S256")
    page = browser.get(client.create_authorization_url(discovery["authorization_endpoint"],
                                                       code_verifier=secrets.token_urlsafe(48))[0])
    assert page.status_code == 503 and "For administrators" in page.text and "line 2" in page.text
    assert "Cannot set properties of undefined" in page.text


def test_identifier_first_then_the_password_of_that_user(site):
    base, discovery = site(app_config("idf", "{1: [IdentifierExecutor], 2: [BasicAuthenticator]}", """
        var onLoginRequest = function (context) { executeStep(1); executeStep(2); };
    """))
    browser, _, _, page = begin(base, discovery, "idf", login_hint="alice")
    assert 'name="password"' not in page.text and 'value="alice"' in page.text
    page = browser.submit({"username": "alice"})
    assert "Signing in as" in page.text and "alice" in page.text and 'name="username"' not in page.text
    # a username sent along is ignored: the password is checked for the identified user
    page = browser.submit({"username": "mallory", "password": "alice-password-123"})
    assert page.callback and "code=" in page.callback


def test_identifier_first_does_not_reveal_which_accounts_exist(site):
    base, discovery = site(app_config("idf", "{1: [IdentifierExecutor], 2: [BasicAuthenticator]}", """
        var onLoginRequest = function (context) { executeStep(1); executeStep(2); };
    """))
    browser, _, _, _ = begin(base, discovery, "idf")
    page = browser.submit({"username": "nobody"})
    assert "Signing in as" in page.text  # same page as for an existing account
    page = browser.submit({"password": "whatever-1234"})
    assert "The username or password is not correct." in page.text and page.callback is None


def test_a_login_that_never_checks_a_credential_is_refused(site):
    base, discovery = site(app_config("loose", "{1: [IdentifierExecutor]}", """
        var onLoginRequest = function (context) { executeStep(1); };
    """))
    browser, _, _, _ = begin(base, discovery, "loose")
    page = browser.submit({"username": "alice"})
    assert page.status_code == 403 and page.callback is None and "did not check who you are" in page.text


CONSENT = """
    var onLoginRequest = function (context) {
        executeStep(1, {onSuccess: function (context) {
            var user = context.currentKnownSubject;
            prompt('consent', {title: 'Share your email?', message: 'The app asks for your email.'}, {
                onSuccess: function () { user.localClaims['http://example.com/consent'] = 'yes'; },
                onDeny: function () { fail({errorCode: 'consent_required', errorMessage: 'You did not agree.'}); }
            });
        }});
    };
"""


def test_consent_allow_and_deny_reach_their_handlers(site):
    base, discovery = site(app_config("consent", "{1: [BasicAuthenticator]}", CONSENT))
    browser, _, _, _ = begin(base, discovery, "consent")
    page = password(browser)
    assert "Share your email?" in page.text and "The app asks for your email." in page.text
    done = browser.submit({"action": "deny"})
    query = parse_qs(urlsplit(done.callback).query)
    assert query["error"] == ["consent_required"] and query["error_description"] == ["You did not agree."]
    browser, _, _, _ = begin(base, discovery, "consent", prompt="login")
    password(browser)
    assert "code=" in browser.submit({"action": "success"}).callback
    assert user_snapshot("alice")["claims"]["http://example.com/consent"] == "yes"


def test_choice_and_generic_form_answers_are_checked(site):
    base, discovery = site(app_config("forms", "{1: [BasicAuthenticator]}", """
        var onLoginRequest = function (context) {
            executeStep(1, {onSuccess: function (context) {
                var user = context.currentKnownSubject;
                prompt('choice', {title: 'Where do you work?', options: [{value: 'hq', label: 'Head office'}, 'remote']}, {
                    onSuccess: function (context) {
                        var where = context.request.params.choice[0];
                        prompt('genericForm', {title: 'Details', skippable: true, inputs: [
                            {id: 'phone', label: 'Phone', type: 'tel', required: true},
                            {id: 'news', label: 'Newsletter', type: 'checkbox'}]}, {
                            onSuccess: function (context) {
                                var p = context.request.params;
                                user.localClaims['http://example.com/answers'] =
                                    where + ' ' + p.phone[0] + ' ' + p.news[0] + ' ' + (p.injected === undefined);
                            },
                            onSkip: function () { user.localClaims['http://example.com/answers'] = where + ' skipped'; }
                        });
                    }
                });
            }});
        };
    """))
    browser, _, _, _ = begin(base, discovery, "forms")
    page = password(browser)
    assert "Head office" in page.text and 'value="remote"' in page.text
    page = browser.submit({"choice": "moon"})
    assert page.status_code == 400 and "Choose one of the options." in page.text
    page = browser.submit({"choice": "hq"})
    assert "Details" in page.text and 'type="tel"' in page.text
    page = browser.submit({"phone": "  ", "action": "success"})
    assert page.status_code == 400 and "Phone is required." in page.text
    done = browser.submit({"phone": "+44 20 7946 0000", "injected": "x", "action": "success"})
    assert "code=" in done.callback
    assert user_snapshot("alice")["claims"]["http://example.com/answers"] == "hq +44 20 7946 0000 false true"
    browser, _, _, _ = begin(base, discovery, "forms", prompt="login")
    password(browser)
    browser.submit({"choice": "remote"})
    assert "code=" in browser.submit({"action": "skip"}).callback
    assert user_snapshot("alice")["claims"]["http://example.com/answers"] == "remote skipped"


def test_over_https_the_cookies_are_secure(client, settings, tmp_path):
    settings.AUTHFLOW_HTTPS = True
    path = tmp_path / "config.yaml"
    path.write_text("applications:\n" + app_config("portal", "{1: [BasicAuthenticator]}",
                                                   "var onLoginRequest = function (c) { executeStep(1); };") + USERS)
    call_command("apply", "-f", str(path), stdout=io.StringIO())
    query = requests.compat.urlencode({"response_type": "code", "client_id": "portal", "redirect_uri": CALLBACK,
                                       "scope": "openid", "code_challenge": "a" * 43, "code_challenge_method": "S256"})
    page = client.get("/login/start/?" + requests.compat.urlencode({"next": "/o/authorize/?" + query}),
                      HTTP_HOST="127.0.0.1")
    assert page.status_code == 302 and page.cookies["authflow_browser"]["secure"] is True
    assert page.cookies["authflow_browser"]["httponly"] is True
