"""The console's new pages attacked from the web side: hostile text a script's administrator controls (prompt
names, step options, callback names, log lines, scenario names, a user's name) rendered escaped under the
Content-Security-Policy (no inline script), every POST CSRF-checked, unknown ids a 404, no open redirect through
`next` or `?template=`, and staff without the permission refused."""
import re

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from authflow.directory.models import User
from sequences.api import save_version
from sequences.models import SavedScenario
from tests.support.console import sign_in_to_console, staff  # noqa: F401  (staff: a fixture)
from tests.test_replay_debugger import make_alice, make_app, run_login

pytestmark = pytest.mark.django_db

XSS = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
HOSTILE = """var onLoginRequest = function (context) {
    Log.info('%(x)s');
    executeStep(1, {authenticationOptions: [{authenticator: '%(x)s'}], '%(x)s': 1}, {
        onSuccess: function (context) {
            prompt('%(x)s', {title: '%(x)s'}, {'%(x)s': function () { executeStep(2); }, onSuccess: function () { }});
        }
    });
};
""" % {"x": XSS.replace("'", "\\'")}


@pytest.fixture
def hostile(admin_user):
    version, _ = save_version("portal", HOSTILE)
    SavedScenario.objects.create(sequence=version.sequence, name=XSS, scenario={
        "application": {"name": "portal", "steps": {"1": ["BasicAuthenticator"]}}, "users": {"alice": {}},
        "outcomes": [{"step": 1, "result": "success", "user": "alice"}]}, expect={"status": "success"})
    return version


def _safe(answer):
    body = answer.content.decode()
    assert "<script>alert(1)</script>" not in body and "<img src=x onerror" not in body
    # no inline script: every <script> element loads a file
    assert all("src=" in tag for tag in re.findall(r"<script\b[^>]*>", body)), re.findall(r"<script\b[^>]*>", body)
    policy = answer["Content-Security-Policy"]
    script_src = re.search(r"(?:script-src|default-src)[^;]*", policy).group(0)
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src


def test_hostile_names_are_escaped_on_the_versions_scenarios_and_diagram_pages(staff, hostile):
    for url in ("/console/scripts/portal/", "/console/scripts/portal/scenarios/", "/console/scripts/portal/diagram/",
                "/console/scripts/portal/edit/", "/console/templates/", "/console/templates/acr/"):
        answer = staff.get(url)
        assert answer.status_code == 200, url
        _safe(answer)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in staff.get("/console/scripts/portal/diagram/").content.decode()


def test_a_hostile_username_and_search_are_escaped_on_the_flows_and_replay_pages(staff):
    app = make_app()
    make_alice()
    flow = run_login(app)
    from authflow.flows.models import LoginFlow

    LoginFlow.objects.filter(pk=flow.pk).update(subject=XSS)
    for url in ("/console/flows/?q=" + XSS, f"/console/flows/{flow.id}/", "/console/flows/?application=" + XSS):
        answer = staff.get(url)
        assert answer.status_code == 200, url
        _safe(answer)


@pytest.mark.parametrize("url", [
    "/console/scripts/portal/publish/1/", "/console/scripts/portal/edit/",
    "/console/scripts/portal/scenarios/{pk}/run/", "/console/scripts/portal/scenarios/{pk}/delete/"])
def test_every_console_post_needs_the_csrf_token(staff, hostile, url):
    pk = SavedScenario.objects.get().pk
    answer = staff.post(url.format(pk=pk), {"version": "1", "source": "x", "etag": "x", "override": "on"})
    assert answer.status_code == 403
    assert SavedScenario.objects.filter(pk=pk).exists()


@pytest.mark.parametrize("url", [
    "/console/flows/00000000-0000-0000-0000-000000000000/", "/console/scripts/nope/diagram/",
    "/console/scripts/nope/scenarios/", "/console/templates/nope/", "/console/templates/nope/start/",
    "/console/scripts/nope/publish/1/", "/console/scripts/portal/publish/99/", "/console/scripts/nope/edit/",
    "/console/flows/not-a-uuid/"])
def test_unknown_ids_are_a_404(staff, hostile, url):
    assert staff.get(url).status_code == 404


def test_unknown_scenario_on_run_or_delete_is_not_a_server_error(staff, hostile):
    staff.get("/console/scripts/portal/scenarios/")
    token = staff.cookies["csrftoken"].value
    for action in ("run", "delete"):
        answer = staff.post(f"/console/scripts/portal/scenarios/999999/{action}/", {"csrfmiddlewaretoken": token})
        assert answer.status_code in (302, 404), action


def test_no_open_redirect_through_next_or_template(staff, hostile):
    from authflow.applications.models import Application

    Application.objects.create(name="portal", client_id="portal", sequence=hostile.sequence,
                               steps={"1": [{"authenticator": "BasicAuthenticator", "idp": "LOCAL"}]})
    answer = staff.get("/console/templates/acr/start/?application=portal&next=https://evil.example/")
    assert answer.status_code == 302 and answer["Location"].startswith("/console/")
    answer = staff.get("/console/scripts/portal/edit/?template=https://evil.example/")
    assert answer.status_code == 200 and "evil.example" not in answer.content.decode()
    anonymous = Client()
    answer = anonymous.get("/console/flows/?next=https://evil.example/")
    assert answer.status_code == 302 and answer["Location"].startswith("/admin/login/")
    # the sign-in page does not send a signed-in member of staff off-site either
    answer = staff.get("/admin/login/?next=https://evil.example/")
    assert "evil.example" not in answer.get("Location", "")


def test_staff_without_the_flows_permission_see_no_flow_and_no_trace(hostile):
    app = make_app(name="shop")
    make_alice()
    flow = run_login(app)
    clerk = User.objects.create_user(username="clerk", password="clerk pass phrase 1234", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_sequence"))
    browser = Client()
    sign_in_to_console(browser, clerk)
    assert browser.get("/console/flows/").status_code == 403
    assert browser.get(f"/console/flows/{flow.id}/").status_code == 403
    assert browser.get(f"/api/v1/flows/{flow.id}/trace/").status_code == 403
    assert browser.get(f"/api/v1/flows/{flow.id}/rerun/?version=1").status_code == 403
