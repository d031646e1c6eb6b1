"""The management API's sequences: tokens and scopes, versions checked like `apply`, diff, publish and rollback
with If-Match, simulate, and the audit entries every write leaves."""
import pytest

from authflow.api.models import AuditEntry
from authflow.applications.models import Application
from authflow.flows import service as flows
from sequences.models import Sequence
from tests.support.api import api_client, create_client, token_for
from tests.support.scripts import scenario

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


@pytest.fixture
def writer():
    return api_client("sequences:read", "sequences:write", name="writer")


@pytest.fixture
def reader():
    return api_client("sequences:read", name="reader")


def create_sequence(client, name="portal", kind="script"):
    answer = client.post("/api/v1/sequences/", {"name": name, "kind": kind}, format="json")
    assert answer.status_code == 201, answer.content
    return answer


def add_version(client, name, source, etag=None):
    etag = etag or client.get(f"/api/v1/sequences/{name}/")["ETag"]
    return client.post(f"/api/v1/sequences/{name}/versions/", {"source": source}, format="json", HTTP_IF_MATCH=etag)


def publish(client, name, number):
    etag = client.get(f"/api/v1/sequences/{name}/")["ETag"]
    return client.post(f"/api/v1/sequences/{name}/publish/", {"version": number}, format="json", HTTP_IF_MATCH=etag)


# ---------------------------------------------------------------- tokens and scopes

def test_a_client_gets_only_its_scopes_and_only_by_client_credentials():
    client_id, secret = create_client("pipeline", "sequences:read")
    assert token_for(client_id, secret).json()["scope"] == "sequences:read"
    assert token_for(client_id, secret, "sequences:write").status_code == 400  # invalid_scope
    assert token_for(client_id, "wrong-secret-wrong-secret").status_code == 401


def test_without_a_token_401_with_a_bearer_challenge(client):
    answer = client.get("/api/v1/sequences/")
    assert answer.status_code == 401
    assert answer["WWW-Authenticate"].startswith("Bearer")
    assert answer.json() == {"errors": [{"field": None, "message": "Authentication credentials were not provided.",
                                         "line": None, "column": None}]}
    bad = client.get("/api/v1/sequences/", HTTP_AUTHORIZATION="Bearer not-a-token")
    assert bad.status_code == 401


def test_a_read_scope_cannot_write_and_other_scopes_cannot_read(reader):
    assert reader.get("/api/v1/sequences/").status_code == 200
    refused = reader.post("/api/v1/sequences/", {"name": "x"}, format="json")
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["message"] == "this request needs the scope sequences:write"
    assert not Sequence.objects.filter(name="x").exists()
    users = api_client("users:read", name="users-only")
    assert users.get("/api/v1/sequences/").status_code == 403
    assert users.get("/api/v1/audit/").status_code == 403


def test_a_login_token_of_a_user_is_not_an_api_credential(client, django_user_model):
    from oauth2_provider.models import AccessToken, get_application_model
    from django.utils import timezone
    from datetime import timedelta

    client_id, _ = create_client("pipeline", "sequences:read")
    app = get_application_model().objects.get(client_id=client_id)
    user = django_user_model.objects.create(username="mallory", is_staff=False)
    AccessToken.objects.create(user=user, application=app, token="user-token-123", scope="sequences:read",
                               expires=timezone.now() + timedelta(hours=1))
    answer = client.get("/api/v1/sequences/", HTTP_AUTHORIZATION="Bearer user-token-123")
    assert answer.status_code == 401


def test_staff_session_needs_csrf_on_writes(admin_user):
    from django.test import Client

    from tests.support.console import sign_in_to_console

    browser = Client(enforce_csrf_checks=True)
    sign_in_to_console(browser, admin_user)
    assert browser.get("/api/v1/sequences/").status_code == 200
    refused = browser.post("/api/v1/sequences/", {"name": "x"}, content_type="application/json")
    assert refused.status_code == 403 and "CSRF" in refused.json()["errors"][0]["message"]
    browser.get("/admin/")  # sets the CSRF cookie
    token = browser.cookies["csrftoken"].value
    created = browser.post("/api/v1/sequences/", {"name": "x"}, content_type="application/json",
                           HTTP_X_CSRFTOKEN=token)
    assert created.status_code == 201
    assert AuditEntry.objects.get(target_id="x").actor == f"user:{admin_user.username}"


def test_a_non_staff_session_is_not_let_in(client, django_user_model):
    client.force_login(django_user_model.objects.create(username="bob"))
    assert client.get("/api/v1/sequences/").status_code == 401


# ---------------------------------------------------------------- sequences and versions

def test_create_list_filter_and_order_sequences(writer):
    create_sequence(writer, "zeta")
    create_sequence(writer, "alpha")
    create_sequence(writer, "helpers", kind="library")
    listed = writer.get("/api/v1/sequences/?ordering=-name").json()
    assert listed["count"] == 3 and [s["name"] for s in listed["results"]] == ["zeta", "helpers", "alpha"]
    assert [s["name"] for s in writer.get("/api/v1/sequences/?kind=library").json()["results"]] == ["helpers"]
    page = writer.get("/api/v1/sequences/?limit=1&offset=1").json()
    assert [s["name"] for s in page["results"]] == ["helpers"] and page["next"]
    again = writer.post("/api/v1/sequences/", {"name": "alpha"}, format="json")
    assert again.status_code == 409 and again.json()["errors"][0]["field"] == "name"
    bad = writer.post("/api/v1/sequences/", {"name": "no spaces"}, format="json")
    assert bad.status_code == 400
    assert bad.json()["errors"] == [{"field": "name", "message": "may hold only letters, digits, - and _",
                                     "line": None, "column": None}]
    entry = AuditEntry.objects.get(action="create", target_id="zeta")
    assert entry.actor == "client:writer" and entry.via == "api" and entry.ip == "127.0.0.1"


def test_a_version_is_checked_like_apply_with_line_and_column(writer):
    create_sequence(writer)
    broken = add_version(writer, "portal", "var onLoginRequest = function (context) {\n  executeStep(1;\n};\n")
    assert broken.status_code == 400
    error = broken.json()["errors"][0]
    assert error["field"] == "source" and error["line"] == 2 and error["column"] > 0
    no_entry = add_version(writer, "portal", "var x = 1;\n")
    assert no_entry.status_code == 400 and "onLoginRequest" in no_entry.json()["errors"][0]["message"]
    # The same rule as `manage.py apply`: one path (authflow/configuration/rules.py).
    from authflow.configuration.schema import ConfigError, parse

    with pytest.raises(ConfigError, match="onLoginRequest"):
        parse({"applications": [{"name": "portal", "client_id": "p", "steps": {"1": ["BasicAuthenticator"]},
                                 "script": "var x = 1;\n", "client_type": "public"}]})
    assert Sequence.objects.get(name="portal").versions.count() == 0
    assert not AuditEntry.objects.filter(target_type="sequence_version").exists()


def test_a_library_needs_no_entry_point(writer):
    create_sequence(writer, "helpers", kind="library")
    answer = add_version(writer, "helpers", "module.exports = {twice: function (x) { return 2 * x; }};\n")
    assert answer.status_code == 201, answer.content


def test_versions_are_immutable_numbered_and_diffed(writer):
    create_sequence(writer)
    first = add_version(writer, "portal", V1)
    assert first.status_code == 201 and first.json()["number"] == 1 and first.json()["live"] is False
    assert first.json()["author"] is None
    second = add_version(writer, "portal", V2, etag=first["ETag"])
    assert second.status_code == 201 and second.json()["number"] == 2
    listed = writer.get("/api/v1/sequences/portal/versions/").json()
    assert [v["number"] for v in listed["results"]] == [1, 2]
    assert writer.get("/api/v1/sequences/portal/versions/1/").json()["source"] == V1
    assert writer.get("/api/v1/sequences/portal/versions/9/").status_code == 404
    diff = writer.get("/api/v1/sequences/portal/diff/?from=1&to=2").json()["diff"]
    assert diff.startswith("--- portal v1\n+++ portal v2\n")
    assert "-    executeStep(1);\n" in diff and "+        executeStep(2);\n" in diff
    missing = writer.get("/api/v1/sequences/portal/diff/?from=1&to=7")
    assert missing.status_code == 400 and missing.json()["errors"][0]["field"] == "to"
    assert writer.put("/api/v1/sequences/portal/versions/1/", {"source": V2}, format="json").status_code == 405


def test_publish_moves_the_one_live_pointer_and_rollback_keeps_flows_in_progress(writer):
    create_sequence(writer)
    add_version(writer, "portal", V1)
    add_version(writer, "portal", V2)
    assert writer.get("/api/v1/sequences/portal/live/").status_code == 404
    assert publish(writer, "portal", 2).json()["live_version"] == 2
    app = Application.objects.create(name="portal", client_id="portal", steps={
        "1": [{"authenticator": "BasicAuthenticator", "idp": "LOCAL"}],
        "2": [{"authenticator": "totp", "idp": "LOCAL"}]}, sequence=Sequence.objects.get(name="portal"))
    in_progress = flows.start_flow(app, {"ip": "203.0.113.1", "headers": {}, "params": {}, "cookies": {}})
    assert in_progress.sequence_version.number == 2

    rolled_back = publish(writer, "portal", 1)  # a rollback
    assert rolled_back.status_code == 200 and rolled_back.json()["live_version"] == 1
    live = writer.get("/api/v1/sequences/portal/live/").json()
    assert live["number"] == 1 and live["live"] is True
    assert writer.get("/api/v1/sequences/portal/versions/2/").json()["live"] is False
    in_progress.refresh_from_db()
    assert in_progress.sequence_version.number == 2  # stays on its version
    app = Application.objects.get(pk=app.pk)  # as the next login's request loads it
    assert flows.start_flow(app, {"ip": "203.0.113.1", "headers": {}, "params": {}, "cookies": {}}
                            ).sequence_version.number == 1
    entries = AuditEntry.objects.filter(action="publish").order_by("id")
    assert [e.detail for e in entries] == [{"version": 2, "previous": None}, {"version": 1, "previous": 2}]
    unknown = publish(writer, "portal", 5)
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["field"] == "version"


def test_two_admins_cannot_overwrite_each_other(writer):
    create_sequence(writer)
    add_version(writer, "portal", V1)
    seen_by_both = writer.get("/api/v1/sequences/portal/")["ETag"]
    other = api_client("sequences:read", "sequences:write", name="other-admin")
    assert add_version(other, "portal", V2, etag=seen_by_both).status_code == 201
    late = writer.post("/api/v1/sequences/portal/publish/", {"version": 1}, format="json", HTTP_IF_MATCH=seen_by_both)
    assert late.status_code == 412 and late.json()["errors"][0]["field"] == "If-Match"
    missing = writer.post("/api/v1/sequences/portal/publish/", {"version": 1}, format="json")
    assert missing.status_code == 428
    no_match_version = writer.post("/api/v1/sequences/portal/versions/", {"source": V2}, format="json")
    assert no_match_version.status_code == 428
    assert Sequence.objects.get(name="portal").live_version is None
    assert Sequence.objects.get(name="portal").versions.count() == 2
    described = writer.patch("/api/v1/sequences/portal/", {"description": "the portal's login"}, format="json",
                             HTTP_IF_MATCH=writer.get("/api/v1/sequences/portal/")["ETag"])
    assert described.status_code == 200 and described.json()["description"] == "the portal's login"
    assert AuditEntry.objects.filter(action="update", target_id="portal").exists()


# ---------------------------------------------------------------- simulate

def test_simulate_a_script_and_a_stored_version(reader, writer):
    outcomes = [{"step": 1, "result": "success", "user": "alice", "authenticator": "BasicAuthenticator"},
                {"step": 2, "result": "success", "user": "alice", "authenticator": "totp"}]
    trace = reader.post("/api/v1/simulate/", {"source": V2, "scenario": scenario(outcomes)}, format="json")
    assert trace.status_code == 200, trace.content
    assert trace.json()["status"] == "success" and trace.json()["subject"] == "alice"
    assert [e["type"] for e in trace.json()["events"]] == ["step", "step"]
    create_sequence(writer)
    add_version(writer, "portal", V1)
    stored = reader.post("/api/v1/simulate/", {"sequence": "portal", "version": 1, "scenario": scenario(outcomes)},
                         format="json")
    assert stored.json()["status"] == "success" and len(stored.json()["events"]) == 1
    unpublished = reader.post("/api/v1/simulate/", {"sequence": "portal", "scenario": scenario()}, format="json")
    assert unpublished.status_code == 400 and unpublished.json()["errors"][0]["field"] == "version"
    error = reader.post("/api/v1/simulate/", {"source": "var onLoginRequest = function (c) {\n  nope(;\n};",
                                              "scenario": scenario()}, format="json").json()
    assert error["status"] == "error" and error["events"][0]["line"] == 2
    bad = reader.post("/api/v1/simulate/", {"source": V1, "scenario": {"application": 3}}, format="json")
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "scenario"
    assert not AuditEntry.objects.filter(action="simulate").exists()


def test_simulate_touches_no_real_user(reader, django_user_model):
    django_user_model.objects.create(username="alice")
    script = """var onLoginRequest = function (context) {
        executeStep(1, {onSuccess: function (context) {
            assignUserRoles(context.currentKnownSubject, ['admin']);
            sendEmail(context.currentKnownSubject, 'otp', {});
        }});
    };"""
    outcomes = [{"step": 1, "result": "success", "user": "alice", "authenticator": "BasicAuthenticator"}]
    trace = reader.post("/api/v1/simulate/", {"source": script, "scenario": scenario(outcomes, roles=["admin"])},
                        format="json").json()
    assert trace["status"] == "success"
    assert not django_user_model.objects.get(username="alice").roles.exists()
    from django.core import mail

    assert mail.outbox == []


# ---------------------------------------------------------------- audit

def test_audit_log_is_readable_with_its_scope_only(writer):
    create_sequence(writer)
    add_version(writer, "portal", V1)
    auditor = api_client("audit:read", name="auditor")
    entries = auditor.get("/api/v1/audit/?target_type=sequence_version").json()
    assert entries["count"] == 1
    assert entries["results"][0]["target_id"] == "portal v1" and entries["results"][0]["actor"] == "client:writer"
    assert auditor.post("/api/v1/audit/", {}, format="json").status_code in (403, 405)
    assert writer.get("/api/v1/audit/").status_code == 403


def test_the_readme_example_creates_simulates_and_publishes(writer):
    """The README's curl example, request for request."""
    create_sequence(writer)
    version = add_version(writer, "portal", "var onLoginRequest = function (context) { executeStep(1); };")
    assert version.json()["number"] == 1
    trace = writer.post("/api/v1/simulate/", {"sequence": "portal", "version": 1, "scenario": {
        "application": {"steps": {"1": ["BasicAuthenticator"]}}, "users": {"alice": {}},
        "outcomes": [{"step": 1, "result": "success", "user": "alice"}]}}, format="json")
    assert trace.status_code == 200, trace.content
    assert trace.json()["status"] == "success" and trace.json()["subject"] == "alice"
    assert publish(writer, "portal", 1).json()["live_version"] == 1


def test_a_staff_session_gets_what_its_console_permissions_allow(django_user_model):
    from django.contrib.auth.models import Permission
    from django.test import Client

    from tests.support.console import sign_in_to_console

    staff = django_user_model.objects.create(username="helpdesk", is_staff=True)
    browser = Client()
    sign_in_to_console(browser, staff)
    refused = browser.get("/api/v1/sequences/")
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["message"] == "this request needs the console permission sequences.view_sequence"
    staff.user_permissions.add(Permission.objects.get(codename="view_sequence"))
    assert browser.get("/api/v1/sequences/").status_code == 200
    assert browser.get("/api/v1/users/").status_code == 403


def test_a_body_over_the_upload_limit_is_refused_before_it_is_read(reader):
    from django.conf import settings

    huge = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    answer = reader.post("/api/v1/simulate/", {"source": huge, "scenario": {}}, format="json")
    assert answer.status_code == 413 and answer.json()["errors"][0]["message"] == "the request body is too large"


def test_the_console_publish_action_moves_the_same_live_pointer(admin_client):
    from sequences.api import save_version

    v1, _ = save_version("portal", V1)
    v2, _ = save_version("portal", V2)
    assert Sequence.objects.get(name="portal").published_version() == v2
    answer = admin_client.post("/admin/sequences/sequenceversion/", {"action": "publish", "_selected_action": [v1.pk]})
    assert answer.status_code == 302
    assert Sequence.objects.get(name="portal").published_version() == v1  # a rollback
    entry = AuditEntry.objects.get(via="admin")
    assert entry.target_type == "sequences.sequenceversion" and entry.target_id == str(v1.pk)
    assert "Published portal v1" in entry.detail["change"]
    both = admin_client.post("/admin/sequences/sequenceversion/", {"action": "publish",
                                                                   "_selected_action": [v1.pk, v2.pk]})
    assert both.status_code == 302 and Sequence.objects.get(name="portal").published_version() == v1


def test_create_api_client_refuses_unknown_scopes_and_taken_ids():
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="unknown scope"):
        call_command("create_api_client", "x", "--scopes", "sequences:read", "admin:everything")
    create_client("taken", "audit:read")
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_api_client", "taken", "--scopes", "audit:read")
