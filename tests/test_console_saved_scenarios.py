"""Saved scenarios in the console: the versions page shows each version's pass/fail, the publish page refuses a
version that fails one (the API's rule) until the administrator ticks the override, which the audit log records;
the scenarios page runs and deletes them."""
import re
from html import unescape

import pytest

from authflow.api.models import AuditEntry
from authflow.applications.models import Application
from sequences.api import publish_version
from sequences.models import Sequence, SequenceVersion
from tests.support.console import staff  # noqa: F401  (a fixture)
from tests.support.scenarios import V1, save_scenario_then_forget_the_second_factor

pytestmark = pytest.mark.django_db

@pytest.fixture
def portal(admin_user):
    sequence = Sequence.objects.create(name="portal")
    publish_version(SequenceVersion.objects.create(sequence=sequence, number=1, source=V1, author=admin_user))
    Application.objects.create(name="shop", client_id="shop", steps={"1": ["BasicAuthenticator"], "2": ["totp"]},
                               sequence=sequence)
    save_scenario_then_forget_the_second_factor(sequence, admin_user)
    return sequence


def text_of(answer) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", answer.content.decode())))


def form_fields(browser, page) -> dict:
    etag = re.search(r'name="etag" value="([^"]*)"', page.content.decode())
    fields = {"csrfmiddlewaretoken": browser.cookies["csrftoken"].value}
    if etag:
        fields["etag"] = unescape(etag.group(1))
    return fields


def row_of(page, number) -> str:
    html = page.content.decode()
    return text_of(type("Page", (), {"content": re.search(rf'<tr id="v{number}".*?</tr>', html, re.S).group(0).encode()}))


def test_the_versions_page_shows_pass_or_fail_per_version(staff, portal):
    page = staff.get("/console/scripts/portal/")
    assert "✓ passes: admins pass a second factor" in row_of(page, 1)
    assert "✗ fails: admins pass a second factor" in row_of(page, 2)
    assert "1 saved scenario" in text_of(page)


def test_publishing_a_failing_version_from_the_console_needs_the_override(staff, portal, admin_user):
    page = staff.get("/console/scripts/portal/publish/2/")
    refused = staff.post("/console/scripts/portal/publish/2/", form_fields(staff, page))
    assert refused.status_code == 409
    assert "v2 fails saved scenarios: admins pass a second factor" in text_of(refused)
    assert 'name="override"' in refused.content.decode()
    portal.refresh_from_db()
    assert portal.live_version.number == 1

    published = staff.post("/console/scripts/portal/publish/2/", {**form_fields(staff, refused), "override": "on"})
    assert published.status_code == 302
    portal.refresh_from_db()
    assert portal.live_version.number == 2
    override = AuditEntry.objects.get(action="override")
    assert override.actor == f"user:{admin_user.username}" and override.detail["failing"] == [
        "admins pass a second factor"]


def test_a_passing_version_publishes_without_an_override(staff, portal):
    portal.live_version = None
    portal.save()
    page = staff.get("/console/scripts/portal/publish/1/")
    assert 'name="override"' not in page.content.decode()
    assert staff.post("/console/scripts/portal/publish/1/", form_fields(staff, page)).status_code == 302
    assert not AuditEntry.objects.filter(action="override").exists()


def test_the_scenarios_page_runs_and_deletes(staff, portal):
    saved = portal.saved_scenarios.get()
    page = staff.get("/console/scripts/portal/scenarios/")
    text = text_of(page)
    assert "admins pass a second factor" in text and "v1: ✓ passes" in text
    assert "v2: ✗ fails (the steps run were [1], expected [1, 2])" in text
    ran = staff.post(f"/console/scripts/portal/scenarios/{saved.pk}/run/", form_fields(staff, page), follow=True)
    assert "admins pass a second factor on v2 fails: the steps run were [1], expected [1, 2]" in text_of(ran)
    deleted = staff.post(f"/console/scripts/portal/scenarios/{saved.pk}/delete/", form_fields(staff, page),
                         follow=True)
    assert "The scenario is deleted" in text_of(deleted) and not portal.saved_scenarios.exists()
    assert AuditEntry.objects.filter(action="delete", target_type="saved_scenario").exists()
    assert staff.post("/console/scripts/portal/scenarios/999/delete/", form_fields(staff, page),
                      follow=True).status_code == 200  # the API's 404, said on the page


def test_the_editor_offers_to_save_the_test_panels_scenario(staff, portal):
    page = staff.get("/console/scripts/portal/edit/")
    assert 'data-url="/api/v1/sequences/portal/scenarios/"' in page.content.decode()
