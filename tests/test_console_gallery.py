"""The template gallery: every template's scenario takes the decision it documents (run through the simulator,
the real engine in its sandbox), and "start from this template" opens the chosen application's script editor on
it as a new draft."""
import json
import re
from html import unescape

import pytest

from authflow.applications.models import Application
from authflow.console_pages import gallery
from sequences.api import publish_version
from sequences.expectations import run_expectation
from sequences.models import Sequence, SequenceVersion
from tests.support.console import staff  # noqa: F401  (a fixture)

LIVE = """var onLoginRequest = function (context) {
    executeStep(1);
};
"""
NAMED = {"role_based", "group_based", "user_age", "user_store", "login_attempts", "new_device", "ip_range", "acr",
         "concurrent_sessions", "sign_in_option", "passkey_progressive_enrollment"}


def test_the_gallery_has_the_templates_the_console_promises():
    assert {t.slug for t in gallery.templates()} == NAMED
    for template in gallery.templates():
        assert "onLoginRequest" in template.source and template.title and template.decision
        assert {"status", "steps"} <= set(template.expect)  # a decision, not just "it ran"


@pytest.mark.parametrize("slug", sorted(NAMED))
def test_each_templates_scenario_takes_the_decision_it_documents(slug):
    template = gallery.template(slug)
    verdict = run_expectation(template.source, template.scenario, template.expect)
    assert verdict.passed, verdict.reasons
    assert all(event["type"] != "error" for event in verdict.trace["events"])


def test_a_changed_template_would_fail_its_documented_decision():
    """The check can fail: the role template without its second step no longer takes its decision."""
    template = gallery.template("role_based")
    broken = template.source.replace("executeStep(2);", "")
    verdict = run_expectation(broken, template.scenario, template.expect)
    assert not verdict.passed and verdict.reasons == ["the steps run were [1], expected [1, 2]"]


@pytest.fixture
def shop(admin_user):
    sequence = Sequence.objects.create(name="shop-login")
    publish_version(SequenceVersion.objects.create(sequence=sequence, number=1, source=LIVE, author=admin_user))
    Application.objects.create(name="shop", client_id="shop", steps={"1": ["BasicAuthenticator"]}, sequence=sequence)
    return sequence


def text_of(answer) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", answer.content.decode())))


@pytest.mark.django_db
def test_the_gallery_page_lists_every_template_with_its_decision(staff, shop):
    page = staff.get("/console/templates/")
    assert page.status_code == 200
    text = text_of(page)
    for template in gallery.templates():
        assert template.title in text and template.decision in text
    assert '<option value="shop">' in page.content.decode()
    detail = staff.get("/console/templates/acr/")
    assert "selectAcrFrom(context, supportedLevels)" in unescape(detail.content.decode())
    assert "switch level" in text_of(detail) and detail.content.decode().count('class="flow-node flow-step"') == 5


@pytest.mark.django_db
def test_start_from_a_template_opens_the_applications_script_on_it_as_a_draft(staff, shop):
    answer = staff.get("/console/templates/ip_range/start/?application=shop")
    assert answer.status_code == 302 and answer["Location"] == "/console/scripts/shop-login/edit/?template=ip_range"
    editor = staff.get(answer["Location"])
    html = unescape(editor.content.decode())
    assert gallery.template("ip_range").source in html  # in the editor's field
    assert '"ip": "203.0.113.9"' in html  # its scenario in the test panel
    assert "From the template IP range" in text_of(editor)
    assert shop.versions.count() == 1  # nothing saved until the administrator saves
    shop.refresh_from_db()
    assert shop.live_version.number == 1


@pytest.mark.django_db
def test_a_refused_save_of_a_template_keeps_the_template_and_its_scenario(staff, shop):
    """The test panel still runs the template's scenario after the checks refuse a save, not the default one."""
    url = "/console/scripts/shop-login/edit/?template=role_based"
    editor = staff.get(url)
    etag = unescape(re.search(r'name="etag" value="([^"]+)"', editor.content.decode()).group(1))
    broken = gallery.template("role_based").source.replace("'manager'];", "'manager';")
    answer = staff.post(url, {"source": broken, "etag": etag, "note": "",
                              "csrfmiddlewaretoken": staff.cookies["csrftoken"].value})
    assert answer.status_code == 400
    html = unescape(answer.content.decode())
    assert "Line 3" in text_of(answer) and broken in html  # the error at its line, the text as typed
    assert "From the template Role-based" in text_of(answer)
    scenario = re.search(r'<textarea id="scenario"[^>]*>(.*?)</textarea>', html, re.S).group(1)
    assert json.loads(scenario) == gallery.template("role_based").scenario  # the template's, not the default
    assert 'id="scenario-name" type="text" maxlength="100" value="Role-based"' in html
    assert shop.versions.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("url, status", [
    ("/console/templates/no-such/", 404),
    ("/console/templates/no-such/start/?application=shop", 404),
    ("/console/templates/acr/start/?application=nobody", 302),
    ("/console/templates/acr/start/", 302),
])
def test_an_unknown_template_or_application_is_a_clear_answer(staff, shop, url, status):
    answer = staff.get(url)
    assert answer.status_code == status
    if status == 302:
        assert answer["Location"] == "/console/templates/acr/"
        assert "Choose an application" in text_of(staff.get(answer["Location"]))


@pytest.mark.django_db
def test_the_gallery_is_for_staff(client, shop):
    assert client.get("/console/templates/")["Location"].startswith("/admin/login/")
