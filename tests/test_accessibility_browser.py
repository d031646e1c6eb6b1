"""Accessibility in a real browser (Debian's Chromium via Playwright): axe-core (npm, pinned) audits every state
of the login pages in English, German and Arabic against WCAG 2.1 AA; a keyboard alone signs in with a password
and an authenticator app; a login chosen German by ui_locales is German throughout; Arabic is laid out right to
left."""
import base64
import io
import os
import re
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.utils import timezone
from django_otp.oath import totp

from authflow.directory.models import User
from authflow.sso.models import UserSession
from tests.support.chromium import launch, screenshot

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright

pytestmark = pytest.mark.django_db(transaction=True)

AXE = Path(__file__).resolve().parents[1] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
WAIT_URL = "http://127.0.0.1:9/slow"  # allow-listed; no worker runs in these tests, so the call stays pending

SCRIPT = """
var onLoginRequest = function (context) {
    prompt('genericForm', {title: 'Your team', message: 'Tell us where you work.', skippable: true, inputs: [
            {id: 'team', label: 'Team', required: true},
            {id: 'role', label: 'Role', type: 'select', options: ['Developer', 'Designer']},
            {id: 'news', label: 'Send me news', type: 'checkbox'}]}, {
        onSuccess: function (context) {
            prompt('consent', {title: 'Share your email', message: 'The demo would like your email address.',
                               items: ['Email address']}, {
                onSuccess: function (context) {
                    prompt('choice', {title: 'Pick a workspace', options: [{value: 'a', label: 'Alpha'},
                                                                           {value: 'b', label: 'Beta'}]}, {
                        onSuccess: function (context) {
                            executeStep(1, {onSuccess: function (context) {
                                executeStep(2);
                                executeStep(3, {authenticatorParams: {local: {SessionExecutor: {MaxSessionCount: '1'}}}}, {});
                            }});
                        }});
                }});
        }});
};
"""
WAITING_SCRIPT = """
var onLoginRequest = function (context) {
    httpGet('%s', {}, {onSuccess: function (context, data) { executeStep(1); },
                       onFail: function (context, data) { executeStep(1); }});
};
""" % WAIT_URL
PASSWORD_AND_TOTP = "var onLoginRequest = function (context) { executeStep(1); executeStep(2); };"


def configure(tmp_path, live_server, script: str, steps: dict):
    config = {
        "allowed_endpoints": [{"url": WAIT_URL}],
        "applications": [
            {"name": "demo", "client_id": "demo-client", "client_type": "public",
             "redirect_uris": [live_server.url + "/demo/callback"], "steps": steps, "script": script},
            {"name": "waiter", "client_id": "waiter", "client_type": "public",
             "redirect_uris": [live_server.url + "/demo/callback"], "steps": {1: ["BasicAuthenticator"]},
             "script": WAITING_SCRIPT}],
        "users": [{"username": name, "password": "a-long-password-123", "email": f"{name}@example.com"}
                  for name in ("useren", "userde", "userar", "keys", "hans")],
        "branding": [{"display_name": "Example Group", "links": {"privacy": "https://example.com/privacy",
                                                                 "help": "https://example.com/help"}}],
    }
    path = tmp_path / "demo.yaml"
    path.write_text(yaml.safe_dump(config))
    call_command("apply", "-f", str(path), stdout=io.StringIO())


@pytest.fixture
def chromium(live_server, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            yield live_server.url, browser
        finally:
            browser.close()


def code_for(secret: str) -> str:
    secret = secret.replace(" ", "")
    return f"{totp(base64.b32decode(secret + '=' * (-len(secret) % 8))):06d}"


class Auditor:
    """axe-core, injected into every page (not as an inline script: the pages' CSP would refuse it)."""

    def __init__(self):
        self.violations = {}

    def context(self, browser, language: str):
        context = browser.new_context(locale=language, extra_http_headers={"Accept-Language": language})
        context.add_init_script(path=str(AXE))
        return context

    def audit(self, page, name: str):
        page.wait_for_load_state("load")
        found = page.evaluate("""async (tags) => {
            const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
            return result.violations.map(v => `${v.id} (${v.impact}): ${v.help} at `
                + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '));
        }""", WCAG_21_AA)
        screenshot(page, f"a11y-{name}")
        self.violations[name] = found
        return found


def _submit(page, value: str = "success"):
    page.click(f"button[name=action][value={value}]")
    page.wait_for_load_state("load")


def test_every_login_page_state_passes_the_wcag_21_aa_audit_in_english_german_and_arabic(chromium, tmp_path,
                                                                                        live_server):
    base, browser = chromium
    configure(tmp_path, live_server, SCRIPT, {
        1: ["BasicAuthenticator", "MagicLinkAuthenticator", "FIDOAuthenticator", "email-otp-authenticator",
            "IdentifierExecutor", "backup-code-authenticator", "sms-otp-authenticator"],
        2: ["totp"], 3: ["SessionExecutor"]})
    auditor = Auditor()
    for language in ("en", "de", "ar"):
        user = User.objects.get(username=f"user{language}")
        now = timezone.now()
        UserSession.objects.create(user=user, browser="Firefox", platform="Linux", ip="192.0.2.7", login_at=now,
                                   last_access_at=now)  # so that the sessions limit (1) asks to end it
        context = auditor.context(browser, language)
        page = context.new_page()
        page.goto(base + "/demo/")
        page.click("form[action$='/demo/sign-in/'] button")
        page.wait_for_selector("#in-1")
        assert page.get_attribute("html", "lang") == language
        auditor.audit(page, f"{language}-prompt-form")
        page.fill("#in-1", "Blue")
        _submit(page)
        auditor.audit(page, f"{language}-prompt-consent")
        _submit(page)
        auditor.audit(page, f"{language}-prompt-choice")
        page.check("#choice-1")
        _submit(page)
        auditor.audit(page, f"{language}-chooser")
        flow_url = page.url.split("?")[0]
        for index, name in enumerate(("password", "magic-link", "passkey", "email-otp", "identifier", "backup-code",
                                      "sms-otp")):
            page.goto(f"{flow_url}?option={index}")
            auditor.audit(page, f"{language}-step-{name}")
        page.goto(f"{flow_url}?option=0")
        page.fill("#username", user.username)
        page.fill("#password", "wrong-password")
        page.click("form:has(#password) button[type=submit]")
        page.wait_for_selector("p.error")
        auditor.audit(page, f"{language}-password-error")
        page.fill("#password", "a-long-password-123")
        page.click("form:has(#password) button[type=submit]")
        page.wait_for_selector("#totp-secret")
        auditor.audit(page, f"{language}-totp-enroll")
        page.fill("#code", "000000" if code_for(page.inner_text("#totp-secret")) != "000000" else "111111")
        page.click("form:has(#code) button[type=submit]")
        page.wait_for_selector("p.error")
        auditor.audit(page, f"{language}-totp-enroll-error")
        page.fill("#code", code_for(page.inner_text("#totp-secret")))
        page.click("form:has(#code) button[type=submit]")
        page.wait_for_selector("#backup-codes")
        auditor.audit(page, f"{language}-totp-backup-codes")
        _submit(page, "codes_saved")
        page.wait_for_selector("#session-1")
        auditor.audit(page, f"{language}-session-limit")
        page.check("#session-1")
        _submit(page, "end")
        page.wait_for_selector("#signed-in-as")
        page.goto(base + "/account/")
        auditor.audit(page, f"{language}-account")
        page.goto(base + "/login/flow/not-a-flow/")
        auditor.audit(page, f"{language}-problem")
        page.goto(base + "/login/error/?status=Refused&statusMsg=Not+today")
        auditor.audit(page, f"{language}-error")
        waiting = context.new_page()
        waiting.goto(base + "/o/authorize/?client_id=waiter&response_type=code&scope=openid&state=s"
                     "&code_challenge=E9Melhoa2OwvFrEMTJguCQaoWrCXFnwS4VCgf5qE_Hg&code_challenge_method=S256"
                     f"&redirect_uri={live_server.url}/demo/callback")
        waiting.wait_for_selector("#waiting")
        auditor.audit(waiting, f"{language}-waiting")
        context.close()
    assert len(auditor.violations) == 3 * 20
    assert {name: found for name, found in auditor.violations.items() if found} == {}


def test_a_keyboard_alone_signs_in_with_a_password_and_an_authenticator_app(chromium, tmp_path, live_server):
    base, browser = chromium
    configure(tmp_path, live_server, PASSWORD_AND_TOTP, {1: ["BasicAuthenticator"], 2: ["totp"]})
    page = browser.new_context(locale="en").new_page()
    page.goto(base + "/demo/")
    tab_to(page, "button", "Sign in")
    page.keyboard.press("Enter")
    page.wait_for_selector("#username")
    assert focused(page)["id"] == "username"  # the first field has the focus: type at once
    page.keyboard.type("keys")
    page.keyboard.press("Tab")
    assert focused(page)["id"] == "password"
    page.keyboard.type("a-long-password-123")
    page.keyboard.press("Enter")
    page.wait_for_selector("#totp-secret")
    assert focused(page)["id"] == "code"
    page.keyboard.type(code_for(page.inner_text("#totp-secret")))
    page.keyboard.press("Enter")
    page.wait_for_selector("#backup-codes")
    tab_to(page, "button", "I have saved them, continue")
    page.keyboard.press("Enter")
    page.wait_for_selector("#signed-in-as")
    assert page.inner_text("#signed-in-as") == "keys"


def focused(page) -> dict:
    return page.evaluate("""() => {
        const e = document.activeElement;
        const style = getComputedStyle(e);
        return {tag: e.tagName.toLowerCase(), id: e.id, text: (e.innerText || e.value || '').trim(),
                outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2};
    }""")


def tab_to(page, tag: str, text: str, limit: int = 40):
    """Press Tab until the element with `text` has the focus, checking each stop shows a focus outline."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = focused(page)
        assert now["outline"], f"no visible focus on {now}"
        if now["tag"] == tag and now["text"] == text:
            return
    raise AssertionError(f"Tab never reached the {tag} {text!r}")


def ask_for_german(route):
    """The demo application's redirect to the authorization endpoint, with ui_locales=de-DE en added."""
    response = route.fetch(max_redirects=0)
    location = response.headers["location"] + "&ui_locales=de-DE+en"
    route.fulfill(response=response, headers={**response.headers, "location": location})


def test_a_login_chosen_german_by_ui_locales_is_german_on_every_page(chromium, tmp_path, live_server):
    base, browser = chromium
    configure(tmp_path, live_server, PASSWORD_AND_TOTP, {1: ["BasicAuthenticator"], 2: ["totp"]})
    context = browser.new_context(locale="en-US")  # the browser asks for English; the application for German
    page = context.new_page()
    page.route("**/demo/sign-in/", ask_for_german)  # as an application sends ui_locales
    page.goto(base + "/demo/")
    page.click("form[action$='/demo/sign-in/'] button")
    page.wait_for_selector("#username")
    english = re.compile(r"\b(Sign in|Password|Username|Continue|Cancel|Verify|Set up|Choose|Language)\b")

    def german(name):
        assert page.get_attribute("html", "lang") == "de"
        text = page.inner_text("main")
        assert not english.search(text), text
        screenshot(page, f"de-{name}")
        return text

    assert "Passwort" in german("password")
    page.fill("#username", "hans")
    page.fill("#password", "falsch")
    page.click("form:has(#password) button[type=submit]")
    page.wait_for_selector("p.error")
    assert "Der Benutzername oder das Passwort ist nicht korrekt." in german("password-error")
    page.fill("#password", "a-long-password-123")
    page.click("form:has(#password) button[type=submit]")
    page.wait_for_selector("#totp-secret")
    assert "Richten Sie Ihre Authenticator-App ein" in german("totp-enroll")
    page.fill("#code", code_for(page.inner_text("#totp-secret")))
    page.click("form:has(#code) button[type=submit]")
    page.wait_for_selector("#backup-codes")
    assert "Ihre Authenticator-App ist eingerichtet" in german("backup-codes")
    page.click("button[name=action][value=codes_saved]")
    page.wait_for_selector("#signed-in-as")


def test_an_arabic_page_is_laid_out_right_to_left(chromium, tmp_path, live_server):
    base, browser = chromium
    configure(tmp_path, live_server, PASSWORD_AND_TOTP, {1: ["BasicAuthenticator"], 2: ["totp"]})
    boxes = {}
    for language in ("en", "ar"):
        page = browser.new_context(locale=language, extra_http_headers={"Accept-Language": language},
                                   viewport={"width": 1000, "height": 800}).new_page()
        page.goto(base + "/demo/")
        page.click("form[action$='/demo/sign-in/'] button")
        page.wait_for_selector("#username")
        boxes[language] = {
            "dir": page.get_attribute("html", "dir"),
            "brand": page.locator("#brand").bounding_box(),
            "switcher": page.locator("#language-switcher").bounding_box(),
            "label": page.evaluate("""() => {  // the label's text, not its (full width) box
                const range = document.createRange();
                range.selectNodeContents(document.querySelector('label[for=username]'));
                const r = range.getBoundingClientRect();
                return {x: r.x, width: r.width};
            }"""),
            "card": page.locator("section.card").bounding_box(),
            "align": page.evaluate("getComputedStyle(document.querySelector('label[for=username]')).direction"),
        }
        screenshot(page, f"rtl-{language}")
    en, ar = boxes["en"], boxes["ar"]
    assert (en["dir"], ar["dir"], ar["align"]) == ("ltr", "rtl", "rtl")
    # Mirrored: the brand starts the header on the right, the language switcher is on the left.
    assert en["brand"]["x"] < en["switcher"]["x"] and ar["brand"]["x"] > ar["switcher"]["x"]
    assert ar["brand"]["x"] + ar["brand"]["width"] > 900
    # Labels start at the card's right edge in Arabic, at its left edge in English.
    card_right = ar["card"]["x"] + ar["card"]["width"]
    assert abs((ar["label"]["x"] + ar["label"]["width"]) - (card_right - 25)) < 5
    assert abs(en["label"]["x"] - (en["card"]["x"] + 25)) < 5
