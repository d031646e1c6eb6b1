"""The context selection page in a real browser (Debian's Chromium via Playwright), through the demo application."""
import io
import os

import pytest
import yaml
from django.core.management import call_command

from authflow.callbacks.models import LoginGrant
from tests.support.chromium import launch, screenshot

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright

pytestmark = pytest.mark.django_db(transaction=True)

CALLBACKS = """
function onSmartLoginPreContextSelection(theUserSession, theContextSelectionChoices) {
  var people = [['Homer', '1950-01-12', '111'], ['Lisa', '1981-05-09', '444']];
  people.forEach(function (p) {
    var person = theContextSelectionChoices.addPerson();
    person.familyName = 'Simpson';
    person.givenName = p[0];
    person.birthDate = p[1];
    person.associatedPatientContextResourceId = 'context-patient-id-' + p[2];
    person.addAuthority('FHIR_READ_ALL_IN_COMPARTMENT', 'Patient/' + person.associatedPatientContextResourceId);
    person.addAutoGrantScopes('patient/Observation.rs');
  });
  theContextSelectionChoices.addDisplayTranslation('patient/Observation.rs', 'Read observations');
}
"""


@pytest.fixture
def demo(live_server, tmp_path):
    config = {
        "applications": [{
            "name": "demo", "client_id": "demo-client", "client_type": "public",
            "redirect_uris": [live_server.url + "/demo/callback"],
            "steps": {1: ["BasicAuthenticator"]}, "callbacks_script": CALLBACKS,
        }],
        "users": [{"username": "homer", "password": "homer-password-123", "email": "homer@example.com"}],
    }
    path = tmp_path / "demo.yaml"
    path.write_text(yaml.safe_dump(config))
    call_command("apply", "-f", str(path), stdout=io.StringIO())
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            yield live_server.url, browser
        finally:
            browser.close()


def test_choosing_a_person_in_the_browser(demo):
    base, browser = demo
    page = browser.new_page()
    console_errors = []
    page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
    page.goto(base + "/demo/")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("input[name=password]")
    page.fill("input[name=username]", "homer")
    page.fill("input[name=password]", "homer-password-123")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("h1#page-title")
    screenshot(page, "smart-01-context-selection")
    assert page.inner_text("h1#page-title") == "Choose who this is for"
    group = page.get_by_role("group", name="People you may act for")
    assert group.get_by_role("radio").count() == 2
    # Continuing without a choice: the browser's own validation keeps the user on the page.
    page.get_by_role("button", name="Continue").click()
    assert "/login/context/" in page.url
    lisa = page.get_by_role("radio", name="Lisa Simpson")
    assert "Born 1981-05-09" in page.inner_text(f"#{lisa.get_attribute('aria-describedby')}")
    assert "Read observations" in page.inner_text(f"#{lisa.get_attribute('aria-describedby')}")
    lisa.check()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_selector("#signed-in-as")
    screenshot(page, "smart-02-signed-in")
    assert page.inner_text("#signed-in-as") == "homer"
    grant = LoginGrant.objects.get()
    assert grant.chosen == 1 and grant.launch == {"patient": "context-patient-id-444"}
    assert "patient/Observation.rs" in grant.approved_scopes
    assert not [e for e in console_errors if "Content Security Policy" in e]
