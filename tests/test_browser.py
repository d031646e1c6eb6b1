"""Logins in a real browser (Debian's Chromium via Playwright), through the demo relying party.

Screenshots of every page land in test-artifacts/screenshots/.
"""
import io
import os

import pytest
from django.core.management import call_command

from tests.support.chromium import launch, screenshot

# Playwright's synchronous API runs an event loop in this thread; the ORM calls
# the test makes around it are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright

pytestmark = pytest.mark.django_db(transaction=True)

SCRIPT = """
var onLoginRequest = function (context) {
    executeStep(1, {onSuccess: function (context) {
        var user = context.currentKnownSubject;
        if (hasRole(user, 'blocked')) {
            fail({errorCode: 'access_denied', errorMessage: 'This account may not use the demo.'});
        }
        if (hasRole(user, 'admin')) {
            // the second step, for administrators only: one session at a time
            executeStep(2, {authenticatorParams: {local: {SessionExecutor: {MaxSessionCount: '1'}}}}, {});
        }
        if (hasRole(user, 'newcomer')) {
            prompt('genericForm', {title: 'Welcome', inputs: [{id: 'nickname', label: 'Nickname'}]}, {
                onSuccess: function (context) {
                    user.localClaims['http://wso2.org/claims/givenname'] = context.request.params.nickname[0];
                    removeUserRoles(user, ['newcomer']);
                }
            });
        }
    }});
};
"""


@pytest.fixture
def demo(live_server, tmp_path):
    config = {
        "applications": [{
            "name": "demo", "client_id": "demo-client", "client_type": "public",
            "redirect_uris": [live_server.url + "/demo/callback"],
            "steps": {1: ["BasicAuthenticator"], 2: ["SessionExecutor"]}, "script": SCRIPT,
        }, {"name": "account", "client_id": "account", "client_type": "public", "steps": {1: ["BasicAuthenticator"]}}],
        "users": [
            {"username": "alice", "password": "alice-password-123", "email": "alice@example.com", "first_name": "Alice"},
            {"username": "mallory", "password": "mallory-password-123", "roles": ["blocked"]},
            {"username": "newbie", "password": "newbie-password-123", "roles": ["newcomer"]},
            {"username": "root", "password": "root-password-123", "roles": ["admin"]},
        ],
    }
    import yaml

    path = tmp_path / "demo.yaml"
    path.write_text(yaml.safe_dump(config))
    call_command("apply", "-f", str(path), stdout=io.StringIO())
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            yield live_server.url, browser
        finally:
            browser.close()


def sign_in(page, base, username, password, shot=None):
    page.goto(base + "/demo/")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("input[name=password]")
    if shot:
        screenshot(page, shot)
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.get_by_role("button", name="Sign in").click()


def test_password_login_through_the_demo_application(demo):
    base, browser = demo
    page = browser.new_page()
    page.goto(base + "/demo/")
    screenshot(page, "01-demo-signed-out")
    sign_in(page, base, "alice", "wrong-password", shot="02-login-password")
    page.wait_for_selector("[role=alert]")
    screenshot(page, "03-login-wrong-password")
    assert "not correct" in page.inner_text("[role=alert]")
    page.fill("input[name=password]", "alice-password-123")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("#signed-in-as")
    screenshot(page, "04-demo-signed-in")
    assert page.inner_text("#signed-in-as") == "alice"
    assert "alice@example.com" in page.inner_text("#claims")


def test_a_login_the_script_refuses(demo):
    base, browser = demo
    page = browser.new_page()
    sign_in(page, base, "mallory", "mallory-password-123")
    page.wait_for_selector("[role=alert]")
    screenshot(page, "05-demo-refused")
    assert "This account may not use the demo." in page.inner_text("[role=alert]")


def test_a_prompt_in_the_browser(demo):
    base, browser = demo
    page = browser.new_page()
    sign_in(page, base, "newbie", "newbie-password-123")
    page.wait_for_selector("input[name=nickname]")
    screenshot(page, "06-login-prompt")
    page.fill("input[name=nickname]", "Newt")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_selector("#signed-in-as")
    assert "Newt" in page.inner_text("#claims")


def test_two_tabs_sign_in_at_the_same_time(demo):
    base, browser = demo
    context = browser.new_context()
    first, second = context.new_page(), context.new_page()
    for page in (first, second):
        page.goto(base + "/demo/")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_selector("input[name=password]")
    assert first.url != second.url  # two flows
    for page, name in ((second, "alice"), (first, "alice")):
        page.fill("input[name=username]", name)
        page.fill("input[name=password]", "alice-password-123")
        page.get_by_role("button", name="Sign in").click()
    for page in (first, second):
        page.wait_for_selector("#signed-in-as")
        assert page.inner_text("#signed-in-as") == "alice"
    screenshot(first, "07-two-tabs-first")
    context.close()


def test_two_steps_for_an_administrator_who_ends_an_old_session(demo):
    base, browser = demo
    office = browser.new_context()
    page = office.new_page()
    sign_in(page, base, "root", "root-password-123")
    page.wait_for_selector("#signed-in-as")  # no other session: step 2 passed without a page
    home = browser.new_context()
    page = home.new_page()
    sign_in(page, base, "root", "root-password-123")
    page.wait_for_selector("text=Too many active sessions")
    screenshot(page, "08-login-session-limit")
    page.get_by_role("button", name="End the selected sessions and continue").click()
    page.wait_for_selector("[role=alert]")
    assert "end at least 1" in page.inner_text("[role=alert]")
    page.check("input[name=session]")
    page.get_by_role("button", name="End the selected sessions and continue").click()
    page.wait_for_selector("#signed-in-as")
    assert page.inner_text("#signed-in-as") == "root"
    # the office browser was signed out: its account page asks it to sign in
    office_page = office.pages[0]
    office_page.goto(base + "/account/")
    office_page.wait_for_selector("input[name=password]")
    # while home lists its one session
    page.goto(base + "/account/")
    page.wait_for_selector("#sessions")
    screenshot(page, "09-account-sessions")
    rows = page.locator("#sessions tbody tr")
    assert rows.count() == 1 and "(this browser)" in rows.first.inner_text()
    assert "demo" in rows.first.inner_text()
    office.close()
    home.close()


def test_the_content_security_policy_lets_the_pages_work_and_stops_an_injected_script(demo):
    base, browser = demo
    page = browser.new_page()
    refused = []
    page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text
            else None)
    page.goto(base + "/demo/")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("input[name=password]")
    assert refused == [], refused  # the login page's own styles and scripts all load
    # What an injected tag would do: an inline script and an inline event handler; neither runs.
    page.evaluate("""() => {
        const script = document.createElement('script');
        script.textContent = 'window.injected = true';
        document.body.appendChild(script);
        const image = document.createElement('img');
        image.setAttribute('src', 'data:,');
        image.setAttribute('onerror', 'window.injected = true');
        document.body.appendChild(image);
    }""")
    page.wait_for_timeout(200)
    assert page.evaluate("() => window.injected") is None
    assert any("script-src" in text for text in refused), refused
    refused.clear()
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "alice-password-123")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("#signed-in-as")  # the redirects back to the application are not blocked
    assert refused == [], refused
