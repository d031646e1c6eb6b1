"""The management API's resources: applications, users and roles, allowed endpoints, secrets, email templates,
flows and the audit log; each one's happy path, its refusals (scope, validation, concurrency) and audit entries."""
from datetime import timedelta

import pytest
from django.utils import timezone

from authflow.api.models import AuditEntry
from authflow.applications.models import Application
from authflow.directory.models import Role, User
from authflow.flows import service as flows
from authflow.mail.models import EmailTemplate
from authflow.outbound.models import AllowedEndpoint
from authflow.vault.models import Secret
from sequences.api import request_inputs, save_version, step_answer
from tests.support.api import api_client

pytestmark = pytest.mark.django_db

PASSWORD = "a long and unusual pass phrase 42"


def etag(client, url):
    return client.get(url)["ETag"]


# ---------------------------------------------------------------- applications

@pytest.fixture
def apps():
    return api_client("applications:read", "applications:write", name="apps")


def test_create_read_and_change_an_application(apps):
    save_version("portal", "var onLoginRequest = function (c) { executeStep(1); };")
    created = apps.post("/api/v1/applications/", {
        "name": "portal", "client_id": "portal-client", "redirect_uris": ["https://portal.example/cb"],
        "steps": {"1": ["BasicAuthenticator"], "2": ["totp"]}, "sequence": "portal",
        "client_secret": "s3cret-s3cret-s3cret"}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert "client_secret" not in body and body["sequence"] == "portal" and body["steps"]["2"] == ["totp"]
    app = Application.objects.get(name="portal")
    assert app.oidc_client.client_id == "portal-client" and app.oidc_client.client_secret.startswith("argon2")
    changed = apps.patch("/api/v1/applications/portal/", {"redirect_uris": ["https://portal.example/new"]},
                         format="json", HTTP_IF_MATCH=created["ETag"])
    assert changed.status_code == 200 and changed.json()["redirect_uris"] == ["https://portal.example/new"]
    app.oidc_client.refresh_from_db()
    assert app.oidc_client.redirect_uris == "https://portal.example/new"
    stale = apps.patch("/api/v1/applications/portal/", {"sequence": None}, format="json",
                       HTTP_IF_MATCH=created["ETag"])
    assert stale.status_code == 412
    gone = apps.delete("/api/v1/applications/portal/", HTTP_IF_MATCH=changed["ETag"])
    assert gone.status_code == 204 and not Application.objects.exists()
    from oauth2_provider.models import get_application_model

    assert not get_application_model().objects.filter(client_id="portal-client").exists()
    assert [e.action for e in AuditEntry.objects.filter(target_type="application").order_by("id")] == \
        ["create", "update", "delete"]


@pytest.mark.parametrize("change, field, message", [
    ({"steps": {"1": ["NoSuchAuthenticator"]}}, "steps", "unknown authenticator 'NoSuchAuthenticator'"),
    ({"redirect_uris": ["ftp://x"]}, "redirect_uris", "is not an"),
    ({"client_type": "other"}, "client_type", "must be confidential or public"),
    ({"client_secret": "short"}, "client_secret", "at least 16"),
    ({"sequence": "missing"}, "sequence", "no login script"),
    ({"name": "no spaces"}, "name", "may hold only"),
])
def test_an_application_is_checked_by_the_rules_apply_uses(apps, change, field, message):
    data = {"name": "portal", "client_id": "p", "client_type": "public", "steps": {"1": ["BasicAuthenticator"]},
            "redirect_uris": ["https://p.example/cb"], **change}
    answer = apps.post("/api/v1/applications/", data, format="json")
    assert answer.status_code == 400, answer.content
    error = answer.json()["errors"][0]
    assert error["field"] == field and message in error["message"]
    assert not Application.objects.exists() and not AuditEntry.objects.exists()


def test_an_application_cannot_take_an_api_clients_id(apps):
    answer = apps.post("/api/v1/applications/", {"name": "x", "client_id": "apps", "client_type": "public",
                                                 "steps": {"1": ["BasicAuthenticator"]}}, format="json")
    assert answer.status_code == 409


def test_applications_need_their_scope():
    reader = api_client("applications:read", name="apps-reader")
    assert reader.get("/api/v1/applications/").status_code == 200
    assert reader.post("/api/v1/applications/", {}, format="json").status_code == 403


# ---------------------------------------------------------------- users and roles

@pytest.fixture
def admin():
    return api_client("users:read", "users:write", name="user-admin")


def test_create_a_user_with_roles_groups_claims_and_a_write_only_password(admin):
    Role.objects.create(name="admin")
    created = admin.post("/api/v1/users/", {
        "username": "carol", "email": "carol@example.com", "roles": ["admin"], "groups": ["staff"],
        "claims": {"http://wso2.org/claims/country": "NZ"}, "password": PASSWORD}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert "password" not in body and body["has_password"] is True
    assert body["roles"] == ["admin"] and body["groups"] == ["staff"]
    assert body["claims"]["http://wso2.org/claims/country"] == "NZ"
    carol = User.objects.get(username="carol")
    assert carol.check_password(PASSWORD) and carol.password.startswith("argon2")
    entry = AuditEntry.objects.get(target_type="user", action="create")
    assert PASSWORD not in str(entry.detail) and "password" in entry.detail["fields"]


def test_user_refusals_are_named(admin):
    weak = admin.post("/api/v1/users/", {"username": "dave", "password": "password"}, format="json")
    assert weak.status_code == 400 and weak.json()["errors"][0]["field"] == "password"
    no_role = admin.post("/api/v1/users/", {"username": "dave", "roles": ["ghost"]}, format="json")
    assert no_role.status_code == 400 and no_role.json()["errors"][0] == {
        "field": "roles", "message": "no such role: ghost", "line": None, "column": None}
    bad_email = admin.post("/api/v1/users/", {"username": "dave", "email": "not-an-email"}, format="json")
    assert bad_email.status_code == 400
    bad_claim = admin.post("/api/v1/users/", {"username": "dave", "claims": {"nope": "x"}}, format="json")
    assert bad_claim.status_code == 400
    assert not User.objects.filter(username="dave").exists()
    User.objects.create(username="erin")
    assert admin.post("/api/v1/users/", {"username": "erin"}, format="json").status_code == 409


def test_update_a_user_with_if_match_and_unlock(admin):
    Role.objects.create(name="admin")
    User.objects.create(username="frank", failed_login_attempts=5, locked_until=timezone.now() + timedelta(hours=1))
    read = admin.get("/api/v1/users/frank/")
    assert read.json()["locked"] is True and read.json()["failed_login_attempts"] == 5
    assert admin.patch("/api/v1/users/frank/", {"roles": ["admin"]}, format="json").status_code == 428
    changed = admin.patch("/api/v1/users/frank/", {"roles": ["admin"], "first_name": "Frank"}, format="json",
                          HTTP_IF_MATCH=read["ETag"])
    assert changed.status_code == 200 and changed.json()["roles"] == ["admin"]
    assert admin.patch("/api/v1/users/frank/", {"is_staff": True}, format="json",
                       HTTP_IF_MATCH=read["ETag"]).status_code == 412
    assert not User.objects.get(username="frank").is_staff
    unlocked = admin.post("/api/v1/users/frank/unlock/")
    assert unlocked.status_code == 200 and unlocked.json()["locked"] is False
    assert User.objects.get(username="frank").failed_login_attempts == 0
    assert AuditEntry.objects.get(action="unlock").detail == {"was_locked": True}
    listed = admin.get("/api/v1/users/?role=admin").json()
    assert [u["username"] for u in listed["results"]] == ["frank"]
    assert admin.delete("/api/v1/users/frank/", HTTP_IF_MATCH=etag(admin, "/api/v1/users/frank/")).status_code == 204
    assert not User.objects.filter(username="frank").exists()


def test_roles(admin):
    assert admin.post("/api/v1/roles/", {"name": "auditor"}, format="json").status_code == 201
    assert admin.post("/api/v1/roles/", {"name": "auditor"}, format="json").status_code == 409
    assert [r["name"] for r in admin.get("/api/v1/roles/").json()["results"]] == ["auditor"]
    assert admin.delete("/api/v1/roles/auditor/").status_code == 428
    assert admin.delete("/api/v1/roles/auditor/", HTTP_IF_MATCH=etag(admin, "/api/v1/roles/auditor/")).status_code \
        == 204
    reader = api_client("users:read", name="users-reader")
    assert reader.post("/api/v1/roles/", {"name": "x"}, format="json").status_code == 403


# ---------------------------------------------------------------- endpoints, secrets, templates

def test_allowed_endpoints():
    client = api_client("endpoints:read", "endpoints:write", name="endpoints")
    created = client.post("/api/v1/endpoints/", {"url": "https://Risk.Example.com/api", "description": "risk"},
                          format="json")
    assert created.status_code == 201 and created.json()["url"] == "https://risk.example.com/api"
    assert client.post("/api/v1/endpoints/", {"url": "file:///etc/passwd"}, format="json").status_code == 400
    pk = created.json()["id"]
    disabled = client.patch(f"/api/v1/endpoints/{pk}/", {"enabled": False}, format="json",
                            HTTP_IF_MATCH=created["ETag"])
    assert disabled.status_code == 200 and not AllowedEndpoint.objects.get(pk=pk).enabled
    assert client.delete(f"/api/v1/endpoints/{pk}/", HTTP_IF_MATCH=disabled["ETag"]).status_code == 204
    assert [e.action for e in AuditEntry.objects.order_by("id")] == ["create", "update", "delete"]


def test_secrets_are_written_and_deleted_never_returned():
    writer = api_client("secrets:read", "secrets:write", name="secrets")
    put = writer.put("/api/v1/secrets/risk-key/", {"value": "very-secret-value"}, format="json")
    assert put.status_code == 201 and "very-secret-value" not in put.content.decode()
    assert Secret.objects.get(name="risk-key").value() == "very-secret-value"
    listed = writer.get("/api/v1/secrets/")
    assert listed.json()["results"][0]["name"] == "risk-key" and "very-secret-value" not in listed.content.decode()
    assert writer.put("/api/v1/secrets/risk-key/", {"value": "rotated"}, format="json").status_code == 200
    assert Secret.objects.get(name="risk-key").value() == "rotated"
    assert writer.delete("/api/v1/secrets/risk-key/").status_code == 204
    assert not Secret.objects.exists()
    assert all("secret-value" not in str(e.detail) and "rotated" not in str(e.detail)
               for e in AuditEntry.objects.all())
    assert [e.action for e in AuditEntry.objects.order_by("id")] == ["create", "update", "delete"]
    lister = api_client("secrets:read", name="secrets-lister")
    assert lister.put("/api/v1/secrets/x/", {"value": "v"}, format="json").status_code == 403


def test_email_templates():
    client = api_client("templates:read", "templates:write", name="templates")
    template = client.get("/api/v1/email-templates/email-otp/")
    assert template.status_code == 200 and "code" in template.json()["placeholder_names"]
    refused = client.patch("/api/v1/email-templates/email-otp/", {"text_body": "no code here"}, format="json",
                           HTTP_IF_MATCH=template["ETag"])
    assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "text_body"
    changed = client.patch("/api/v1/email-templates/email-otp/", {"text_body": "Your code: {{ code }}"},
                           format="json", HTTP_IF_MATCH=template["ETag"])
    assert changed.status_code == 200
    assert EmailTemplate.objects.get(template_id="email-otp").text_body == "Your code: {{ code }}"
    created = client.post("/api/v1/email-templates/", {"template_id": "welcome", "subject": "Hi {{ username }}",
                                                       "text_body": "Welcome"}, format="json")
    assert created.status_code == 201
    assert AuditEntry.objects.filter(target_type="email_template").count() == 2


# ---------------------------------------------------------------- flows

def test_flows_are_read_only_and_hide_secrets():
    script = """var onLoginRequest = function (context) {
        executeStep(1, {onSuccess: function (context) {
            updateUserPassword(context.currentKnownSubject, 'A brand new pass phrase 77');
        }});
    };"""
    version, _ = save_version("portal", script)
    app = Application.objects.create(name="portal", client_id="portal", sequence=version.sequence,
                                     steps={"1": [{"authenticator": "BasicAuthenticator", "idp": "LOCAL"}]})
    User.objects.create_user(username="alice", password=PASSWORD)
    flow = flows.start_flow(app, request_inputs("203.0.113.9", {}, {}, {}))
    flow = flows.resume_flow(flow.id, step_answer(1, "success", user="alice", authenticator="BasicAuthenticator"),
                             position=0)
    client = api_client("flows:read", name="support")
    listed = client.get("/api/v1/flows/?application=portal").json()
    assert listed["count"] == 1 and listed["results"][0]["status"] == flow.status
    detail = client.get(f"/api/v1/flows/{flow.id}/")
    assert detail.status_code == 200
    body = detail.json()
    assert body["sequence_version"] == 1 and body["passed_steps"][0]["user"] == "alice"
    assert "A brand new pass phrase 77" not in detail.content.decode()
    assert body["effects"] and body["effects"][0]["args"][1] == "[redacted]"
    assert client.delete(f"/api/v1/flows/{flow.id}/").status_code == 405
    assert api_client("users:read", name="nosy").get("/api/v1/flows/").status_code == 403


# ---------------------------------------------------------------- the console's changes

def test_a_change_in_the_admin_console_is_audited_with_its_address(admin_client):
    answer = admin_client.post("/admin/directory/role/add/", {"name": "auditors", "description": ""},
                               REMOTE_ADDR="198.51.100.7")
    assert answer.status_code == 302, answer.content[:500]
    entry = AuditEntry.objects.get(via="admin")
    assert entry.action == "create" and entry.target_type == "directory.role"
    assert entry.actor.startswith("user:") and entry.ip == "198.51.100.7" and entry.detail["object"] == "auditors"
    assert api_client("audit:read", name="auditor").get("/api/v1/audit/?via=admin").json()["count"] == 1


def test_a_nul_character_is_refused_in_the_apis_shape():
    client = api_client("users:read", name="nul")
    answer = client.get("/api/v1/users/?username=a%00b")
    assert answer.status_code == 400
    assert answer.json() == {"errors": [{"field": None, "message": "the request contains a NUL character",
                                         "line": None, "column": None}]}
