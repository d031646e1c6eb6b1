"""The admin console's script pages (/console/): who gets in, the versions list, diff, publish and roll back
through the page (the API's rules and audit entries), and the editor's checks shown at their line."""
import json
import re
from html import unescape

import pytest
from django.contrib.auth.models import Permission

from authflow.api.models import AuditEntry
from authflow.applications.models import Application
from sequences.api import publish_version
from sequences.models import Sequence, SequenceVersion
from tests.support.console import sign_in_to_console, staff  # noqa: F401  (staff: a fixture)

pytestmark = pytest.mark.django_db

V1 = """var onLoginRequest = function (context) {
    executeStep(1);
};
"""
V2 = """var onLoginRequest = function (context) {
    executeStep(1, {onSuccess: function (context) {
        executeStep(2);
    }});
};
"""
BROKEN = """var onLoginRequest = function (context) {
    executeStep(1);
    if (context.request.ip === ) {
    }
};
"""


@pytest.fixture
def portal(admin_user):
    sequence = Sequence.objects.create(name="portal")
    v1 = SequenceVersion.objects.create(sequence=sequence, number=1, source=V1, author=admin_user)
    SequenceVersion.objects.create(sequence=sequence, number=2, source=V2, author=admin_user)
    publish_version(v1)
    Application.objects.create(name="shop", client_id="shop", steps={"1": ["BasicAuthenticator"]}, sequence=sequence)
    return sequence


def text_of(answer) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", answer.content.decode())))


def csrf_fields(browser, page) -> dict:
    etag = re.search(r'name="etag" value="([^"]*)"', page.content.decode()).group(1)
    return {"csrfmiddlewaretoken": browser.cookies["csrftoken"].value, "etag": unescape(etag)}


def live_number(sequence) -> int:
    sequence.refresh_from_db()
    return sequence.live_version.number


# ---------------------------------------------------------------- who gets in

def test_anonymous_visitors_are_sent_to_the_staff_sign_in(client, portal):
    answer = client.get("/console/scripts/portal/")
    assert answer.status_code == 302 and answer["Location"].startswith("/admin/login/?next=")


def test_signing_in_from_the_console_comes_back_to_it(client, portal):
    from urllib.parse import parse_qs, urlsplit

    from authflow.login import targets

    answer = client.get("/admin/login/?next=/console/scripts/portal/")
    assert answer.status_code == 302
    assert parse_qs(urlsplit(answer["Location"]).query)["next"] == ["/console/scripts/portal/"]
    target = targets.from_next("/console/scripts/portal/")
    assert target.return_to == {"protocol": "local", "next": "/console/scripts/portal/"}
    assert target.application.name == "account"  # the account application's script decides how (a second factor)


def test_staff_without_the_account_applications_sign_in_go_through_it_first(client, admin_user, portal):
    client.force_login(admin_user)  # a session from some other application's login: no second factor yet
    answer = client.get("/console/")
    assert answer.status_code == 302 and answer["Location"].startswith("/admin/login/")


def test_people_who_are_not_staff_are_refused(client, django_user_model, portal):
    user = django_user_model.objects.create(username="mallory", is_staff=False)
    sign_in_to_console(client, user)
    assert client.get("/console/").status_code == 403
    assert client.get("/console/scripts/portal/publish/2/").status_code == 403
    assert client.post("/console/scripts/portal/publish/2/", {"etag": "x"}).status_code == 403
    assert live_number(portal) == 1


def test_staff_who_may_read_but_not_write_see_versions_but_cannot_publish(client, django_user_model, portal):
    user = django_user_model.objects.create(username="reader", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_sequence"))
    sign_in_to_console(client, user)
    page = client.get("/console/scripts/portal/")
    assert page.status_code == 200 and "Publish v2" not in text_of(page)
    assert client.get("/console/scripts/portal/publish/2/").status_code == 403
    assert client.get("/console/scripts/portal/edit/").status_code == 403


# ---------------------------------------------------------------- versions and diff

def test_the_versions_page_marks_the_live_one_with_author_and_times(staff, portal):
    page = staff.get("/console/scripts/portal/")
    assert page.status_code == 200
    html = page.content.decode()
    live_row = re.search(r'<tr id="v1" class="live">(.*?)</tr>', html, re.S).group(1)
    assert "live" in live_row and "admin" in live_row
    draft_row = re.search(r'<tr id="v2">(.*?)</tr>', html, re.S).group(1)
    assert "draft" in draft_row and "Publish v2" in draft_row
    assert "Used by shop" in text_of(page)
    assert "portal" in text_of(staff.get("/console/"))


def test_the_diff_shows_both_versions_side_by_side(staff, portal):
    page = staff.get("/console/scripts/portal/diff/?from=1&to=2")
    assert page.status_code == 200
    html = page.content.decode()
    assert re.search(r'<tr class="diff-replace">.*?executeStep\(1\);.*?executeStep\(1, \{onSuccess', html, re.S)
    # the new lines face blank ones (no old line number)
    assert re.search(r'<td class="line-number"></td>\s*<td class="code old">[^\n]*<code></code></td>\s*'
                     r'<td class="line-number">3</td>\s*<td class="code new">[^\n]*<code>\s*executeStep\(2\);', html)
    missing = staff.get("/console/scripts/portal/diff/?from=1&to=9")
    assert missing.status_code == 302
    assert "Choose two versions" in text_of(staff.get(missing["Location"]))


# ---------------------------------------------------------------- publish and roll back

def test_publish_then_roll_back_through_the_page_moves_the_live_pointer_and_is_audited(staff, portal):
    confirm = staff.get("/console/scripts/portal/publish/2/")
    assert "Version 2 replaces version 1 for application shop" in text_of(confirm)
    done = staff.post("/console/scripts/portal/publish/2/", csrf_fields(staff, confirm))
    assert done.status_code == 302
    assert live_number(portal) == 2
    entry = AuditEntry.objects.get(action="publish", target_id="portal")
    assert entry.actor == "user:admin" and entry.detail == {"version": 2, "previous": 1}
    assert "Version 2 of portal is live" in text_of(staff.get(done["Location"]))

    back = staff.get("/console/scripts/portal/publish/1/")
    assert "Roll back portal v1?" in text_of(back)
    assert "Version 1 replaces version 2 for application shop" in text_of(back)
    staff.post("/console/scripts/portal/publish/1/", csrf_fields(staff, back))
    assert live_number(portal) == 1
    assert AuditEntry.objects.filter(action="publish", target_id="portal").latest("id").detail == {
        "version": 1, "previous": 2}


def test_a_confirmation_made_stale_by_another_publication_is_refused(staff, portal):
    confirm = staff.get("/console/scripts/portal/publish/2/")
    # meanwhile someone else saves and publishes v3: "version 2 replaces version 1" is no longer what would happen
    publish_version(SequenceVersion.objects.create(sequence=portal, number=3, source=V1))
    refused = staff.post("/console/scripts/portal/publish/2/", csrf_fields(staff, confirm))
    assert refused.status_code == 409 and "Someone published or saved a version" in text_of(refused)
    assert "Version 2 replaces version 3 for application shop" in text_of(refused)  # asked again, as it now is
    assert live_number(portal) == 3
    assert not AuditEntry.objects.filter(action="publish").exists()


def test_publishing_needs_the_csrf_token(staff, portal):
    confirm = staff.get("/console/scripts/portal/publish/2/")
    fields = csrf_fields(staff, confirm)
    del fields["csrfmiddlewaretoken"]
    assert staff.post("/console/scripts/portal/publish/2/", fields).status_code == 403
    assert live_number(portal) == 1


# ---------------------------------------------------------------- the editor

def test_the_editor_opens_on_a_copy_of_the_live_version(staff, portal):
    page = staff.get("/console/scripts/portal/edit/")
    assert page.status_code == 200
    assert "A copy of v1 (live)" in text_of(page)
    textarea = re.search(r'<textarea[^>]*name="source"[^>]*>\n(.*?)</textarea>', page.content.decode(), re.S).group(1)
    assert unescape(textarea) == V1
    assert "console/editor.bundle.js" in page.content.decode()


def test_saving_creates_a_new_version_through_the_api_without_publishing_it(staff, portal, admin_user):
    page = staff.get("/console/scripts/portal/edit/?from=2")
    edited = V2.replace("executeStep(2);", "executeStep(2);\n        Log.info('second step');")
    answer = staff.post("/console/scripts/portal/edit/", {**csrf_fields(staff, page),
                                                          "source": edited.replace("\n", "\r\n")})
    assert answer.status_code == 302 and answer["Location"].endswith("#v3")
    v3 = portal.versions.get(number=3)
    assert v3.source == edited and v3.author == admin_user
    assert live_number(portal) == 1
    assert AuditEntry.objects.filter(action="create", target_id="portal v3").exists()


def test_a_syntax_error_is_shown_at_its_line_and_nothing_is_saved(staff, portal):
    page = staff.get("/console/scripts/portal/edit/")
    answer = staff.post("/console/scripts/portal/edit/", {**csrf_fields(staff, page), "source": BROKEN})
    assert answer.status_code == 400
    html = answer.content.decode()
    error = re.search(r'<li class="console-error" data-line="(\d+)" data-column="(\d*)"', html)
    assert error and error.group(1) == "3"
    assert "Line 3" in text_of(answer) and "if (context.request.ip === ) {" in text_of(answer)
    assert unescape(re.search(r'name="source"[^>]*>\n(.*?)</textarea>', html, re.S).group(1)) == BROKEN  # kept
    assert portal.versions.count() == 2


def test_a_script_without_its_entry_point_is_refused(staff, portal):
    page = staff.get("/console/scripts/portal/edit/")
    answer = staff.post("/console/scripts/portal/edit/", {**csrf_fields(staff, page), "source": "var x = 1;\n"})
    assert answer.status_code == 400 and "onLoginRequest" in text_of(answer)
    assert portal.versions.count() == 2


def test_the_test_panel_starts_from_the_applications_steps(staff, portal):
    Application.objects.filter(name="shop").update(steps={"1": ["BasicAuthenticator"], "2": ["TotpAuthenticator"]})
    page = staff.get("/console/scripts/portal/edit/")
    scenario = re.search(r'<textarea id="scenario"[^>]*>\n(.*?)</textarea>', page.content.decode(), re.S).group(1)
    assert json.loads(unescape(scenario)) == {
        "application": {"steps": {"1": ["BasicAuthenticator"], "2": ["TotpAuthenticator"]}},
        "users": {"alice": {}}, "outcomes": [{"step": 1, "result": "success", "user": "alice"}]}


@pytest.mark.parametrize("path", ["/console/scripts/nope/", "/console/scripts/nope/edit/",
                                  "/console/scripts/portal/publish/9/", "/console/scripts/nope/diff/?from=1&to=2"])
def test_what_does_not_exist_is_a_404(staff, portal, path):
    assert staff.get(path).status_code == 404


@pytest.mark.parametrize("query", ["", "?from=1", "?from=abc&to=2", "?from=1&to=99999999999999", "?from=-1&to=2"])
def test_a_diff_without_two_versions_asks_for_them_again(staff, portal, query):
    answer = staff.get("/console/scripts/portal/diff/" + query)
    assert answer.status_code == 302 and answer["Location"] == "/console/scripts/portal/"


def test_an_oversized_script_is_refused_with_the_apis_message(staff, portal):
    page = staff.get("/console/scripts/portal/edit/")
    answer = staff.post("/console/scripts/portal/edit/", {**csrf_fields(staff, page),
                                                          "source": V1 + "//" + "x" * (256 * 1024)})
    assert answer.status_code == 400 and "Ensure this field has no more than" in text_of(answer)
    assert portal.versions.count() == 2
