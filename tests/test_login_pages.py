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

pytestmark = pytest.mark.django_db(transaction=True)

CALLBACK = "http://127.0.0.1:9/callback"


def app_config(name, steps, script):
    """One entry of the applications list."""
    return textwrap.dedent(f"""
          - name: {name}
            client_id: {name}
            client_type: public
            redirect_uris: ["{CALLBACK}"]
            steps: {steps}
            script: |
        """).lstrip("\n") + textwrap.indent(textwrap.dedent(script).strip("\n"), " " * 10) + "\n"


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


def test_a_step_with_several_options_lets_the_user_choose(site):
    base, discovery = site(app_config("choice", "{1: [totp, BasicAuthenticator]}", """
        var onLoginRequest = function (context) { executeStep(1); };
    """))
    browser, _, _, page = begin(base, discovery, "choice")
    assert "Choose how to sign in" in page.text and "TOTP" in page.text and "Username &amp; Password" in page.text
    page = browser.get(page.url + "?option=1")
    assert 'name="password"' in page.text
    assert password(browser).callback


def test_an_option_without_a_page_can_be_cancelled_back_to_the_application(site):
    base, discovery = site(app_config("otp", "{1: [BasicAuthenticator], 2: [totp]}", """
        var onLoginRequest = function (context) { executeStep(1); executeStep(2); };
    """))
    browser, _, _, _ = begin(base, discovery, "otp")
    page = password(browser)
    assert "TOTP is not available" in page.text
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
    from django.core.cache import cache

    cache.clear()


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
    # signed out: the next authorization request needs a login again
    again = browser.get(client.create_authorization_url(discovery["authorization_endpoint"],
                                                        code_verifier=secrets.token_urlsafe(48))[0])
    assert "/login/flow/" in again.url
