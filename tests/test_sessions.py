"""Sign-on sessions: reuse across applications, the script's session API, the active sessions limit, the account page."""
import io
import secrets
import textwrap
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from django.core.management import call_command
from django.utils import timezone
from joserfc import jwt
from joserfc.jwk import KeySet

from authflow.directory.models import User
from authflow.flows.models import LoginFlow
from authflow.sso.models import UserSession
from tests.support.browser import Browser
from tests.support.config import CALLBACK, public_app

pytestmark = pytest.mark.django_db(transaction=True)

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
          "Version/17.1 Mobile/15E148 Safari/604.1")


def app(name, script, steps="{1: [BasicAuthenticator]}"):
    return public_app(name, steps, script)


PLAIN = "var onLoginRequest = function (context) { executeStep(1); };"
ACCOUNT = textwrap.dedent("""
      - name: account
        client_id: account
        client_type: public
        steps: {1: [BasicAuthenticator]}
""").lstrip("\n")
USERS = textwrap.dedent("""
    users:
      - {username: alice, password: "alice-password-123", email: alice@example.com}
      - {username: bob, password: "bob-password-12345", is_staff: true}
""")


@pytest.fixture
def site(live_server, tmp_path):
    def configure(*apps):
        path = tmp_path / "config.yaml"
        path.write_text("applications:\n" + "".join(apps) + ACCOUNT + USERS)
        call_command("apply", "-f", str(path), stdout=io.StringIO())
        discovery = requests.get(live_server.url + "/o/.well-known/openid-configuration", timeout=30).json()
        return live_server.url, discovery
    return configure


class Login:
    """One browser talking to the provider for one application."""

    def __init__(self, base, discovery, client_id, user_agent=FIREFOX, browser=None):
        self.discovery = discovery
        self.browser = browser or Browser(base, stop_at=CALLBACK)
        self.browser.session.headers["User-Agent"] = user_agent
        self.client = OAuth2Session(client_id, None, scope="openid", redirect_uri=CALLBACK,
                                    code_challenge_method="S256", token_endpoint=discovery["token_endpoint"])

    def authorize(self, **extra):
        self.verifier, self.nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
        uri, self.state = self.client.create_authorization_url(self.discovery["authorization_endpoint"],
                                                               code_verifier=self.verifier, nonce=self.nonce, **extra)
        return self.browser.get(uri)

    def password(self, user="alice", secret="alice-password-123"):
        return self.browser.submit({"username": user, "password": secret})

    def tokens(self, page):
        return self.client.fetch_token(authorization_response=page.callback, code_verifier=self.verifier)

    def claims(self, page):
        keys = KeySet.import_key_set(requests.get(self.discovery["jwks_uri"], timeout=30).json())
        return jwt.decode(self.tokens(page)["id_token"], keys, algorithms=["RS256"]).claims


def test_a_second_application_signs_in_from_the_session_and_its_script_sees_it(site):
    base, discovery = site(app("portal", PLAIN), app("wiki", """
        var onLoginRequest = function (context) {
            var apps = getAuthenticatedApplications(context).map(function (a) { return a.appName; });
            var known = checkSessionExistence(1, context);
            executeStep(1, {onSuccess: function (context) {
                context.currentKnownSubject.localClaims['http://example.com/seen'] = apps.join(',') + ' ' + known;
            }});
        };
    """))
    first = Login(base, discovery, "portal")
    first.authorize()
    first_claims = first.claims(first.password())
    time.sleep(1.1)  # auth_time has a resolution of seconds
    wiki = Login(base, discovery, "wiki", browser=first.browser)
    page = wiki.authorize()
    assert page.callback and "code=" in page.callback  # no page: step 1 came from the session
    claims = wiki.claims(page)
    assert claims["sub"] == first_claims["sub"]
    assert claims["auth_time"] == first_claims["auth_time"]  # no new authentication
    from authflow.directory.claims import read_claims
    assert read_claims(User.objects.get(username="alice"))["http://example.com/seen"] == "portal true"
    session = UserSession.objects.get()
    assert sorted(a.application.name for a in session.applications.all()) == ["portal", "wiki"]
    assert session.browser.startswith("Firefox") and session.platform.startswith("Windows")


def test_a_login_answered_by_the_session_gives_the_code_at_once_with_what_its_script_set(site):
    base, discovery = site(app("portal", PLAIN), app("wiki", """
        var onLoginRequest = function (context) {
            executeStep(1, {onSuccess: function (context) {
                setCookie(context.response, 'wiki-seen', 'yes', {'max-age': 60});
                context.response.headers['X-Wiki-Login'] = 'from-session';
            }});
        };
    """))
    first = Login(base, discovery, "portal")
    first.authorize()
    first.password()
    wiki = Login(base, discovery, "wiki", browser=first.browser)
    page = wiki.authorize()
    # One response: the authorization request itself answers with the code (no redirect back to it first).
    assert [r.status_code for r in wiki.browser.trail] == [302] and "code=" in page.callback
    assert page.headers["X-Wiki-Login"] == "from-session"
    assert wiki.browser.session.cookies.get("wiki-seen") == "yes"
    assert "no-store" in page.headers["Cache-Control"]
    assert wiki.tokens(page)["id_token"]
    # The code is issued once: the same authorization request again runs a new login (and gets a new code).
    again = wiki.browser.get(wiki.browser.trail[0].url)
    assert again.callback and again.callback != page.callback


def test_force_auth_prompt_login_and_max_age_ask_again(site):
    base, discovery = site(app("portal", PLAIN), app("bank", """
        var onLoginRequest = function (context) { executeStep(1, {stepOptions: {forceAuth: 'true'}}, {}); };
    """))
    login = Login(base, discovery, "portal")
    login.authorize()
    before = login.claims(login.password())
    time.sleep(1.1)
    bank = Login(base, discovery, "bank", browser=login.browser)
    page = bank.authorize()
    assert 'name="password"' in page.text and "Signing in as" not in page.text
    again = Login(base, discovery, "portal", browser=login.browser)
    page = again.authorize(prompt="login")
    assert 'name="password"' in page.text
    after = again.claims(again.password())
    assert after["auth_time"] > before["auth_time"]  # a new authentication
    page = Login(base, discovery, "portal", browser=login.browser).authorize(max_age="0")
    assert 'name="password"' in page.text
    assert UserSession.objects.filter(ended_at__isnull=True).count() == 1  # still one session


def test_prompt_none_never_shows_a_page(site):
    base, discovery = site(app("portal", PLAIN))
    login = Login(base, discovery, "portal")
    page = login.authorize(prompt="none")
    query = parse_qs(urlsplit(page.callback).query)
    assert query["error"] == ["login_required"] and query["state"] == [login.state]
    login.authorize()
    login.password()
    page = login.authorize(prompt="none")
    assert "code=" in page.callback and login.tokens(page)["id_token"]


def test_a_finished_flow_cannot_be_delivered_twice(site):
    base, discovery = site(app("portal", PLAIN))
    login = Login(base, discovery, "portal")
    page = login.authorize()
    flow_url = page.url
    assert login.password().callback
    again = login.browser.get(flow_url)
    assert again.status_code == 409 and "already finished" in again.text and again.callback is None


def test_a_session_that_ended_meanwhile_does_not_answer_a_step(site):
    base, discovery = site(app("portal", PLAIN), app("survey", """
        var onLoginRequest = function (context) {
            executeStep(1, {onSuccess: function () { prompt('consent', {title: 'Share your name?'}, {}); }});
        };
    """))
    login = Login(base, discovery, "portal")
    login.authorize()
    login.password()
    survey = Login(base, discovery, "survey", browser=login.browser)
    page = survey.authorize()
    assert "Share your name?" in page.text  # step 1 from the session, now at the prompt
    UserSession.objects.update(ended_at=timezone.now(), end_reason="test")
    page = login.browser.submit({"action": "success"})
    assert page.status_code == 409 and "Your session ended" in page.text and page.callback is None


def test_scripts_list_and_terminate_the_users_other_sessions(site):
    base, discovery = site(app("portal", PLAIN), app("single", """
        var onLoginRequest = function (context) {
            executeStep(1, {onSuccess: function (context) {
                var user = context.currentKnownSubject;
                var sessions = getUserSessions(user);
                Log.info('sessions before: ' + sessions.length);
                for (var i = 0; i < sessions.length; i++) {
                    Log.info(sessions[i].userAgent.platform + ' ' + sessions[i].applications[0].appName);
                    terminateUserSession(user, sessions[i]);
                }
                user.localClaims['http://example.com/left'] = String(getUserSessions(user).length);
            }});
        };
    """))
    phone = Login(base, discovery, "portal", user_agent=IPHONE)
    phone.authorize()
    assert phone.password().callback
    laptop = Login(base, discovery, "single")
    laptop.authorize()
    assert laptop.password().callback
    from authflow.directory.claims import read_claims
    assert read_claims(User.objects.get(username="alice"))["http://example.com/left"] == "0"
    phone_session = UserSession.objects.get(platform__startswith="iOS")
    assert phone_session.ended_at is not None and phone_session.end_reason == "ended by a login script"
    # the phone is signed out: its next request needs the password again
    page = phone.authorize()
    assert 'name="password"' in page.text
    assert UserSession.objects.filter(ended_at__isnull=True).count() == 1


SESSION_LIMIT = """
    var onLoginRequest = function (context) {
        executeStep(1, {onSuccess: function (context) {
            if (hasRole(context.currentKnownSubject, 'limited')) {
                executeStep(2, {authenticatorParams: {local: {SessionExecutor: {MaxSessionCount: '2'}}}}, {});
            }
        }});
    };
"""


def test_the_active_sessions_limit_lets_the_user_end_sessions_to_continue(site):
    base, discovery = site(app("portal", SESSION_LIMIT, "{1: [BasicAuthenticator], 2: [SessionExecutor]}"))
    User.objects.get(username="alice").roles.create(name="limited")
    phone = Login(base, discovery, "portal", user_agent=IPHONE)
    phone.authorize()
    assert phone.password().callback  # no other session: the step passes without a page
    tablet = Login(base, discovery, "portal")
    tablet.authorize()
    assert tablet.password().callback  # one other session, limit 2: still fine
    laptop = Login(base, discovery, "portal")
    laptop.authorize()
    page = laptop.password()
    assert page.callback is None and "Too many active sessions" in page.text
    assert "Mobile Safari" in page.text and "iOS" in page.text and "Firefox" in page.text
    page = laptop.browser.submit({"action": "end"})  # nothing chosen
    assert "end at least 1" in page.text and page.callback is None
    phone_id = str(UserSession.objects.get(platform__startswith="iOS").pk)
    page = laptop.browser.submit({"action": "end", "session": phone_id})
    assert page.callback and "code=" in page.callback
    assert UserSession.objects.get(pk=phone_id).end_reason == "ended to stay within the active sessions limit"
    assert UserSession.objects.filter(ended_at__isnull=True).count() == 2


def test_cancelling_the_sessions_limit_refuses_the_login(site):
    base, discovery = site(app("portal", SESSION_LIMIT.replace("'2'", "'1'"),
                               "{1: [BasicAuthenticator], 2: [SessionExecutor]}"))
    User.objects.get(username="alice").roles.create(name="limited")
    first = Login(base, discovery, "portal")
    first.authorize()
    first.password()
    second = Login(base, discovery, "portal")
    second.authorize()
    assert "Too many active sessions" in second.password().text
    page = second.browser.submit({"action": "abort"})
    assert parse_qs(urlsplit(page.callback).query)["error"] == ["access_denied"]


def test_the_account_page_lists_sessions_and_ends_them(site):
    base, discovery = site(app("portal", PLAIN))
    phone = Login(base, discovery, "portal", user_agent=IPHONE)
    phone.authorize()
    phone.password()
    # the account page signs in through the account application
    laptop = Browser(base)
    laptop.session.headers["User-Agent"] = FIREFOX
    page = laptop.get("/account/")
    assert "/login/flow/" in page.url and 'name="password"' in page.text
    page = laptop.submit({"username": "alice", "password": "alice-password-123"})
    assert page.url.endswith("/account/") and "Your sessions" in page.text
    assert "Mobile Safari 17 on iOS 17.1" in page.text and "(this browser)" in page.text and "portal" in page.text
    phone_id = str(UserSession.objects.get(platform__startswith="iOS").pk)
    page = laptop.submit({}, url=f"{base}/account/sessions/{phone_id}/end/", keep=("csrfmiddlewaretoken",))
    assert "The session was ended." in page.text and "Mobile Safari" not in page.text
    assert 'name="password"' in phone.authorize().text  # the phone signs in again
    # without the CSRF token nothing ends
    own_id = str(UserSession.objects.get(platform__startswith="Windows").pk)
    refused = laptop.session.post(f"{base}/account/sessions/{own_id}/end/", allow_redirects=False, timeout=30)
    assert refused.status_code == 403 and UserSession.objects.get(pk=own_id).ended_at is None
    # someone else's session id is not the user's to end
    bob = Browser(base)
    bob.get("/account/")
    bob.submit({"username": "bob", "password": "bob-password-12345"})
    bob_id = str(UserSession.objects.get(user__username="bob").pk)
    laptop.get("/account/")
    laptop.submit({}, url=f"{base}/account/sessions/{bob_id}/end/", keep=("csrfmiddlewaretoken",))
    assert UserSession.objects.get(pk=bob_id).ended_at is None
    # signing out here ends this session
    page = laptop.get("/account/")
    page = laptop.submit({}, url=f"{base}/account/sign-out/", keep=("csrfmiddlewaretoken",))
    assert "You are signed out" in page.text
    assert UserSession.objects.get(pk=own_id).end_reason == "signed out"


def test_sessions_time_out_when_idle(site, settings):
    base, discovery = site(app("portal", PLAIN))
    login = Login(base, discovery, "portal")
    login.authorize()
    login.password()
    UserSession.objects.update(last_access_at=timezone.now() - timedelta(seconds=settings.AUTHFLOW_SESSION_IDLE_SECONDS + 5))
    assert 'name="password"' in login.authorize().text


def test_the_admin_console_signs_in_through_a_flow(site):
    base, _ = site(app("portal", PLAIN))
    User.objects.filter(username="bob").update(is_superuser=True)
    staff = Browser(base)
    staff.session.headers["User-Agent"] = FIREFOX
    page = staff.get("/admin/")
    assert "/login/flow/" in page.url and 'name="password"' in page.text
    page = staff.submit({"username": "bob", "password": "bob-password-12345"})
    assert page.status_code == 200 and "Site administration" in page.text
    # sessions and flows are there to read, not to edit
    session = UserSession.objects.get(user__username="bob")
    page = staff.get(f"/admin/sso/usersession/{session.pk}/change/")
    assert page.status_code == 200 and "Firefox" in page.text and 'name="_save"' not in page.text
    page = staff.get("/admin/flows/loginflow/")
    assert page.status_code == 200 and "succeeded" in page.text
    other = Browser(base)
    other.get("/admin/")
    page = other.submit({"username": "alice", "password": "alice-password-123"})
    assert page.status_code == 403 and "cannot use the administration console" in page.text
    assert LoginFlow.objects.filter(application__name="account").count() == 2
