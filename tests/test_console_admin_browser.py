"""The console's applications, users and audit pages, and the editor's completion and warnings, in a real browser
(Debian's Chromium via Playwright) under the Content-Security-Policy, as an administrator uses them.
Screenshots land in test-artifacts/screenshots/."""
import os
from datetime import timedelta

import pytest
from django.utils import timezone

from authflow.api.models import AuditEntry
from authflow.applications.models import Application
from authflow.directory.models import User
from sequences.api import publish_version
from sequences.models import Sequence, SequenceVersion
from tests.support.chromium import chromium, screenshot  # noqa: F401  (chromium: a fixture)
from tests.support.console import console  # noqa: F401  (a fixture)

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.django_db(transaction=True)

V1 = """var onLoginRequest = function (context) {
    executeStep(1);
};
"""


def test_create_an_application_edit_its_steps_unlock_a_user_and_see_it_all_in_the_audit_log(
        live_server, admin_user, console):
    portal = Sequence.objects.create(name="portal")
    publish_version(SequenceVersion.objects.create(sequence=portal, number=1, source=V1, author=admin_user))
    User.objects.create_user("carol", email="carol@example.com", password="x", failed_login_attempts=5,
                             locked_until=timezone.now() + timedelta(minutes=15))
    page, refused = console.page, console.refused
    page.goto(live_server.url + "/console/applications/")
    page.get_by_role("link", name="New application").click()
    page.get_by_label("Name", exact=True).fill("shop")
    page.get_by_label("Client ID").fill("shop-client")
    page.get_by_label("Client type").select_option("public")
    page.get_by_label("Redirect URIs").fill("https://shop.example/callback")
    page.get_by_label("Login script").select_option("portal")
    page.get_by_label("Step 1", exact=True).select_option(["local:BasicAuthenticator"])
    screenshot(page, "console-application-new")
    page.get_by_role("button", name="Create application").click()
    page.wait_for_selector(".console-messages:has-text('Created application shop')")
    assert "live version v1" in page.locator("#live-script").inner_text()
    assert page.locator(".recent-logins").inner_text().count("No logins recorded yet") == 1

    # a mistake the API refuses shows at its field, and what was chosen stays chosen
    page.get_by_label("Redirect URIs").fill("ftp://shop.example/callback")
    page.get_by_label("Step 2", exact=True).select_option(["local:totp", "local:email-otp"])
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_selector("#redirect_uris-error")
    assert "is not an https" in page.locator("#redirect_uris-error").inner_text()
    assert sorted(page.locator("#step-2").evaluate("s => [...s.selectedOptions].map(o => o.value)")) == [
        "local:email-otp", "local:totp"]
    screenshot(page, "console-application-error")
    page.get_by_label("Redirect URIs").fill("https://shop.example/callback")
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_selector(".console-messages:has-text('Saved application shop')")
    screenshot(page, "console-application-edited")
    app = Application.objects.get(name="shop")
    assert {n: sorted(o["authenticator"] for o in options) for n, options in app.steps.items()} == {
        "1": ["BasicAuthenticator"], "2": ["email-otp", "totp"]}
    assert app.client_type == "public" and app.redirect_uris == ["https://shop.example/callback"]

    page.get_by_role("link", name="Users").click()
    page.get_by_label("Search").fill("carol")
    page.get_by_role("button", name="Search").click()
    assert "Locked" in page.locator("tr", has_text="carol").inner_text()
    screenshot(page, "console-users")
    page.get_by_role("link", name="Unlock carol").click()
    assert "after 5 failed sign-ins" in page.locator(".confirmation").inner_text()
    page.get_by_role("button", name="Unlock carol").click()
    page.wait_for_selector(".console-messages:has-text('Unlocked carol')")
    assert not User.objects.get(username="carol").account_locked

    page.get_by_role("link", name="Audit log").click()
    page.get_by_label("Actor").select_option("user:admin")
    page.get_by_role("button", name="Filter").click()
    log = page.locator(".audit-log tbody").inner_text()
    assert "unlock\tuser carol" in log
    assert "update\tapplication shop" in log and "create\tapplication shop" in log
    page.get_by_label("Application").select_option("shop")
    page.get_by_label("Action").select_option("update")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator(".audit-log tbody tr")
    assert rows.count() == 1 and "application shop" in rows.inner_text()  # the refused save wrote nothing
    screenshot(page, "console-audit")
    assert AuditEntry.objects.filter(action="update", target_id="shop").count() == 1
    assert refused == []


def test_the_editor_completes_the_script_api_and_warns_of_unknown_functions_and_steps(
        live_server, admin_user, console):
    portal = Sequence.objects.create(name="portal")
    publish_version(SequenceVersion.objects.create(sequence=portal, number=1, source=V1, author=admin_user))
    Application.objects.create(name="shop", client_id="shop", sequence=portal,
                               steps={"1": [{"authenticator": "BasicAuthenticator", "idp": "LOCAL"}]})
    page, refused = console.page, console.refused
    page.goto(live_server.url + "/console/scripts/portal/edit/")
    page.wait_for_selector("#editor[data-ready=true][data-completion=ready] .cm-content")
    page.locator(".cm-content").click()
    page.keyboard.press("Control+End")
    page.keyboard.type("var isAdmin = function (context) { return hasRo")
    page.wait_for_selector(".cm-tooltip-autocomplete")
    assert "hasRole" in page.locator(".cm-tooltip-autocomplete").inner_text()
    page.keyboard.press("Escape")
    page.keyboard.type("le(context.request.")
    page.wait_for_selector(".cm-tooltip-autocomplete li:has-text('headers')")
    assert {"ip", "params", "cookies"} <= set(page.locator(".cm-tooltip-autocomplete .cm-completionLabel").all_inner_texts())
    screenshot(page, "console-editor-completion")
    page.keyboard.type("ip, context.currentKnownSubject.")
    page.wait_for_selector(".cm-tooltip-autocomplete .cm-completionLabel:text-is('username')")
    assert {"roles", "claims"} <= set(page.locator(".cm-tooltip-autocomplete .cm-completionLabel").all_inner_texts())
    page.keyboard.type("username, 'admin'); };")
    page.keyboard.press("Escape")
    page.keyboard.press("Enter")
    page.keyboard.type("var later = function () { executeStep(4); hasRoel(); };")
    page.wait_for_selector(".cm-lint-marker-warning")
    page.locator(".cm-lint-marker-warning").first.hover()
    tooltip = page.wait_for_selector(".cm-tooltip-lint")
    assert "step 4 is not configured for application shop" in tooltip.inner_text()
    assert "hasRoel is not a function of the script API" in tooltip.inner_text()
    screenshot(page, "console-editor-warnings")
    page.get_by_label("Note").fill("Admins checked by IP")
    page.get_by_role("button", name="Save as a new version").click()
    page.wait_for_selector("tr#v2")
    assert "Admins checked by IP" in page.locator("tr#v2").inner_text()
    assert "Line 5: step 4 is not configured" in page.locator(".console-messages").inner_text()
    assert refused == []
