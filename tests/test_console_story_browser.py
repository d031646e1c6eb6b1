"""The administrator's whole story in the console, in order, in one real browser (Debian's Chromium via
Playwright) under the Content-Security-Policy: start the demo application's script from a template, make a
mistake and see it at its line, fix it, run the test panel, publish, sign in for real through the demo
application, roll back, compare the two versions, replay that real login round trip by round trip, and find the
publication and the rollback in the audit log.  Each step asserts what the administrator (or the user signing
in) sees; screenshots land in test-artifacts/screenshots/ (the two named readme-* are
docs/console-editor.png and docs/console-replay.png)."""
import os
import re

import pytest

from authflow.flows.models import LoginFlow
from tests.support.chromium import chromium, element_screenshot, screenshot  # noqa: F401  (chromium: a fixture)
from tests.support.console import DEMO_PASSWORD, apply_demo, open_console, sign_in_at_the_demo

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.django_db(transaction=True)

# The live script before the story: a password, nothing more.
V1 = """var onLoginRequest = function (context) {
    executeStep(1);
};
"""
ROLES_LINE = "var rolesNeedingSecondFactor = ['admin', 'manager'];"  # line 3 of the role-based template


@pytest.fixture
def demo(live_server, tmp_path, chromium):
    """The demo application (served under /demo/) on V1, and carol, an admin with an authenticator app."""
    return live_server.url, chromium, apply_demo(live_server.url, tmp_path, V1, roles=["admin"])


def test_template_error_fix_test_publish_real_login_rollback_diff_replay_and_audit(demo, admin_user):
    base, browser, device = demo
    console = open_console(browser, base, admin_user)
    page, refused = console.page, console.refused

    # 1. the gallery: start the demo application's script from the role-based template
    page.goto(base + "/console/")
    page.get_by_role("link", name="Templates").click()
    card = page.locator("#template-role_based")
    card.get_by_label("Application").select_option("demo")
    card.get_by_role("button", name="Start from this template").click()
    page.wait_for_selector("#editor[data-ready=true] .cm-content")
    assert "From the template Role-based" in page.locator(".template-note").inner_text()
    assert page.locator(".cm-line").nth(2).inner_text() == ROLES_LINE

    # 2. a mistake on line 3 (the closing bracket deleted): the check underlines it at its line as it is typed
    page.locator(".cm-line").nth(2).click()
    page.keyboard.press("End")
    page.keyboard.press("Backspace")
    page.keyboard.press("Backspace")
    page.keyboard.type(";")
    assert page.locator(".cm-line").nth(2).inner_text() == "var rolesNeedingSecondFactor = ['admin', 'manager';"
    marker = page.wait_for_selector(".cm-lint-marker-error")
    gutter_line = page.locator(".cm-lineNumbers .cm-gutterElement", has_text=re.compile(r"^3$")).bounding_box()
    marker_box = marker.bounding_box()
    assert abs(marker_box["y"] - gutter_line["y"]) < gutter_line["height"]  # the marker sits on line 3
    marker.hover()
    tooltip = page.wait_for_selector(".cm-tooltip-lint")
    error_message = tooltip.inner_text()
    assert "SyntaxError: Unexpected token" in error_message
    screenshot(page, "console-story-inline-error")
    element_screenshot(page.locator("#editor"), "readme-console-editor")  # docs/console-editor.png

    # saving it is refused, and the error is named with its line above the editor; the text typed stays
    page.get_by_role("button", name="Save as a new version").click()
    page.wait_for_selector("#script-errors")
    assert "Line 3" in page.locator("#script-errors").inner_text()
    page.wait_for_selector("#editor[data-ready=true] .cm-lint-marker-error")
    assert page.locator(".cm-line").nth(2).inner_text().endswith("'manager';")

    # 3. the fix: the error goes away
    page.locator(".cm-line").nth(2).click()
    page.keyboard.press("End")
    page.keyboard.press("Backspace")
    page.keyboard.type("];")
    assert page.locator(".cm-line").nth(2).inner_text() == ROLES_LINE
    page.wait_for_selector(".cm-lint-marker-error", state="detached")

    # 4. the test panel runs the template's scenario against the text being edited
    page.get_by_role("button", name="Run").click()
    page.wait_for_selector("#trace-status:has-text('Result:')")
    assert page.locator("#trace-status").inner_text() == "Result: success (subject alice)"
    assert page.locator("#trace li", has_text="step").count() >= 2
    screenshot(page, "console-story-test-panel")

    # 5. save as version 2 with a note, then publish it: the confirmation names what changes
    page.get_by_label("Note").fill("Admins and managers pass a second factor")
    page.get_by_role("button", name="Save as a new version").click()
    page.wait_for_selector("tr#v2")
    assert "Saved version 2 of demo" in page.locator(".console-messages").inner_text()
    assert "draft" in page.locator("tr#v2").inner_text()
    assert "Admins and managers pass a second factor" in page.locator("tr#v2").inner_text()
    page.locator("tr#v2").get_by_role("link", name="Publish v2").click()
    assert "Version 2 replaces version 1 for application demo." in page.locator(".confirmation").inner_text()
    page.get_by_role("button", name="Publish v2").click()
    page.wait_for_selector("tr#v2.live")
    assert "live" in page.locator("tr#v2").inner_text() and "was live" in page.locator("tr#v1").inner_text()
    screenshot(page, "console-story-published")

    # 6. a real login through the demo application: carol, an admin, is now asked for her authenticator app
    assert sign_in_at_the_demo(browser, base, device) == ["password", "authenticator app code"]
    flow = LoginFlow.objects.get(application__name="demo", subject="carol")
    assert flow.status == LoginFlow.Status.SUCCEEDED

    # 7. roll back to version 1: the confirmation says so, and the next login asks for a password only
    page.locator("tr#v1").get_by_role("link", name="Roll back to v1").click()
    assert page.locator("h1").inner_text() == "Roll back demo v1?"
    assert "Version 1 replaces version 2 for application demo." in page.locator(".confirmation").inner_text()
    page.get_by_role("button", name="Roll back to v1").click()
    page.wait_for_selector("tr#v1.live")
    assert "was live" in page.locator("tr#v2").inner_text()
    assert sign_in_at_the_demo(browser, base, device) == ["password"]

    # 8. the diff of the two versions, side by side
    compare = page.locator(".console-diff-form")
    compare.locator("select[name=from]").select_option("1")
    compare.locator("select[name=to]").select_option("2")
    page.get_by_role("button", name="Compare").click()
    assert page.locator("h1").inner_text() == "demo: v1 → v2"
    assert page.locator(".console-diff thead").inner_text().split("\t")[0].strip() == "v1 (live)"
    added = page.locator(".console-diff tr", has=page.locator("td.new", has_text="executeStep(2);"))
    assert added.count() == 1 and added.get_attribute("class") in ("diff-insert", "diff-replace")
    assert "executeStep(2);" not in added.locator("td.old").inner_text()
    assert page.locator(".console-diff td.old", has_text="executeStep(1);").count() == 1
    screenshot(page, "console-story-diff")

    # 9. the replay of carol's first login: the version it ran (v2), round trip by round trip
    page.get_by_role("link", name="Login flows").click()
    page.select_option("#flow-application", "demo")
    page.fill("#flow-search", "carol")
    page.get_by_role("button", name="Search").click()
    page.wait_for_selector(f"tr[data-flow='{flow.id}']")
    assert page.locator("#flows tbody tr").count() == 2  # both logins, the one after the rollback on v1
    assert "demo v2" in page.locator(f"tr[data-flow='{flow.id}']").inner_text()
    page.locator(f"tr[data-flow='{flow.id}'] a").click()
    page.wait_for_selector("#replay[data-ready=true]")
    assert page.inner_text("#replay-status") == "3 round trips."
    assert page.inner_text("#round-trip-title") == "Round trip 1 of 3"
    assert page.inner_text("#trip-command") == "show step 1 (BasicAuthenticator)"
    page.get_by_role("button", name="Next round trip").click()
    assert page.inner_text("#round-trip-title") == "Round trip 2 of 3"
    assert page.inner_text("#trip-answer") == "step 1: success with BasicAuthenticator, carol"
    assert page.inner_text("#trip-command") == "show step 2 (totp)"
    assert page.inner_text("#trip-logs") == "INFO line 9 carol holds a role that needs a second factor"
    screenshot(page, "console-story-replay")
    element_screenshot(page.locator("#replay"), "readme-console-replay")  # docs/console-replay.png
    page.get_by_role("button", name="Next round trip").click()
    assert page.inner_text("#round-trip-title") == "Round trip 3 of 3"
    assert page.inner_text("#trip-answer") == "step 2: success with totp, carol"
    assert page.inner_text("#trip-command") == "done: signed in carol"
    assert page.get_by_role("button", name="Next round trip").is_disabled()
    assert DEMO_PASSWORD not in page.content()

    # 10. the audit log: the publication of v2 and the rollback to v1, by this administrator
    page.get_by_role("link", name="Audit log").click()
    page.get_by_label("Application").select_option("demo")
    page.get_by_label("Action").select_option("publish")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator(".audit-log tbody tr").all_inner_texts()
    assert len(rows) == 2
    rollback, publication = rows  # newest first
    assert f"user:{admin_user.username}" in publication and "sequence demo" in publication
    assert "'version': 2, 'previous': 1" in publication
    assert f"user:{admin_user.username}" in rollback and "'version': 1, 'previous': 2" in rollback
    screenshot(page, "console-story-audit")
    assert refused == []
