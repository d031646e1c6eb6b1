"""The template gallery, saved scenarios, the publish gate and the flow diagram in a real browser (Debian's
Chromium via Playwright), under the Content-Security-Policy, as an administrator would use them: pick a template,
see it in the editor, run its scenario, save the scenario, publish (refused once an edit breaks the scenario,
then overridden), and view the diagram.  Screenshots land in test-artifacts/screenshots/."""
import os

import pytest

from authflow.api.models import AuditEntry
from authflow.applications.models import Application
from sequences.api import publish_version
from sequences.models import SavedScenario, Sequence, SequenceVersion
from tests.support.chromium import chromium, screenshot  # noqa: F401  (chromium: a fixture)
from tests.support.console import console  # noqa: F401  (a fixture)

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.django_db(transaction=True)

LIVE = """var onLoginRequest = function (context) {
    executeStep(1);
};
"""


def test_template_to_published_version_with_a_saved_scenario_and_its_diagram(live_server, admin_user, console):
    sequence = Sequence.objects.create(name="shop-login")
    publish_version(SequenceVersion.objects.create(sequence=sequence, number=1, source=LIVE, author=admin_user))
    Application.objects.create(name="shop", client_id="shop", sequence=sequence,
                               steps={"1": ["BasicAuthenticator"], "2": ["totp"]})
    page, refused = console.page, console.refused

    # the gallery: pick the role-based template for the application "shop"
    page.goto(live_server.url + "/console/")
    page.get_by_role("link", name="Templates").click()
    card = page.locator("#template-role_based")
    assert "Users holding an administrative role" in card.inner_text()
    screenshot(page, "console-gallery")
    card.get_by_label("Application").select_option("shop")
    card.get_by_role("button", name="Start from this template").click()

    # the editor, on the template (a new draft) with its scenario in the test panel
    page.wait_for_selector("#editor[data-ready=true] .cm-content")
    assert "From the template Role-based" in page.locator(".template-note").inner_text()
    assert "var rolesNeedingSecondFactor = ['admin', 'manager'];" in page.locator(".cm-content").inner_text()
    page.get_by_role("button", name="Run").click()
    page.wait_for_selector("#trace-status:has-text('Result:')")
    assert page.locator("#trace-status").inner_text() == "Result: success (subject alice)"
    assert page.locator("#trace li", has_text="step").count() >= 2
    screenshot(page, "console-gallery-template-run")

    # save the scenario with the script: it keeps the decision this run took
    assert page.get_by_label("Scenario name").input_value() == "Role-based"
    page.get_by_role("button", name="Save scenario").click()
    page.wait_for_selector("#save-scenario-status:has-text('Saved')")
    saved = SavedScenario.objects.get(sequence=sequence)
    assert saved.name == "Role-based" and saved.expect == {"status": "success", "subject": "alice",
                                                           "steps": [1, 2], "effects": []}
    screenshot(page, "console-scenario-saved")

    # save the template as version 2: its saved scenario passes there
    page.get_by_role("button", name="Save as a new version").click()
    page.wait_for_selector("tr#v2")
    assert "✓ passes: Role-based" in page.locator("tr#v2").inner_text()

    # an edit that drops the second factor: version 3 fails the saved scenario
    page.locator("tr#v2").get_by_role("link", name="Edit a copy").click()
    page.wait_for_selector("#editor[data-ready=true] .cm-content")
    page.evaluate("""() => {
        const view = window.consoleEditor;
        const text = view.state.doc.toString();
        const at = text.indexOf('executeStep(2);');
        view.dispatch({changes: {from: at, to: at + 'executeStep(2);'.length, insert: 'Log.info("no second factor");'}});
    }""")
    page.get_by_role("button", name="Save as a new version").click()
    page.wait_for_selector("tr#v3")
    assert "✗ fails: Role-based" in page.locator("tr#v3").inner_text()
    screenshot(page, "console-versions-scenarios")

    # publishing version 3 is refused while it fails the scenario
    page.locator("tr#v3").get_by_role("link", name="Publish v3").click()
    page.get_by_role("button", name="Publish v3").click()
    page.wait_for_selector(".console-error[role=alert]")
    assert "v3 fails saved scenarios: Role-based" in page.locator(".console-error[role=alert]").inner_text()
    sequence.refresh_from_db()
    assert sequence.live_version.number == 1
    screenshot(page, "console-publish-refused")

    # the administrator overrides: published, and the audit log says so
    page.get_by_label("Publish anyway").check()
    page.get_by_role("button", name="Publish v3").click()
    page.wait_for_selector("tr#v3.live")
    sequence.refresh_from_db()
    assert sequence.live_version.number == 3
    override = AuditEntry.objects.get(action="override")
    assert override.actor == f"user:{admin_user.username}" and override.detail["failing"] == ["Role-based"]

    # the diagram of version 2: step 1, then step 2 under onSuccess and the role condition
    page.locator("tr#v2").get_by_role("link", name="Diagram").click()
    page.wait_for_selector("#flow-diagram")
    diagram = page.locator("#flow-diagram")
    assert diagram.locator(".flow-step").count() == 2
    assert "if hasAnyOfTheRolesV2(context, rolesNeedingSecondFactor)" in diagram.inner_text()
    assert diagram.locator(".flow-callback", has_text="onSuccess").count() == 1
    # drawn by the style sheet (boxes with borders), not inline styles
    assert page.locator(".flow-step").first.evaluate("e => getComputedStyle(e).borderTopStyle") == "solid"
    screenshot(page, "console-flow-diagram")
    assert refused == []
