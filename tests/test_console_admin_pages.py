"""The console's applications, audit log, users, allowed endpoints and secrets pages: what an administrator sees,
writes going through the API (its rules, its audit entries), errors shown on the form, CSRF, and no 500."""
import re
from datetime import timedelta
from html import unescape

import pytest
from django.utils import timezone

from authflow.api.models import AuditEntry
from authflow.applications.models import Application
from authflow.directory.models import User
from authflow.federation.models import IdentityProvider
from authflow.flows.models import LoginFlow
from authflow.outbound.models import AllowedEndpoint
from authflow.vault.models import Secret
from sequences.api import publish_version
from sequences.models import Sequence, SequenceVersion
from tests.support.console import sign_in_to_console, staff  # noqa: F401  (staff: a fixture)

pytestmark = pytest.mark.django_db

SCRIPT = """var onLoginRequest = function (context) {
    executeStep(1);
};
"""


@pytest.fixture
def portal(admin_user):
    sequence = Sequence.objects.create(name="portal")
    publish_version(SequenceVersion.objects.create(sequence=sequence, number=1, source=SCRIPT, author=admin_user))
    return sequence


def text_of(answer) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", answer.content.decode())))


def log_of(answer) -> str:
    """The audit table's text (not the filters' options nor the messages)."""
    return text_of(answer).split("When Actor Via Action Target Detail From")[1]


def token(browser) -> str:
    return browser.cookies["csrftoken"].value


def etag_on(page) -> str:
    return unescape(re.search(r'name="etag" value="([^"]*)"', page.content.decode()).group(1))


def create(staff, **fields):
    staff.get("/console/applications/new/")
    data = {"csrfmiddlewaretoken": token(staff), "client_type": "public", **fields}
    return staff.post("/console/applications/new/", data)


# ---------------------------------------------------------------- applications

def test_the_list_shows_each_application_with_its_steps_and_live_script(staff, portal):
    Application.objects.create(name="shop", client_id="shop-client", sequence=portal,
                               steps={"1": [{"authenticator": "BasicAuthenticator", "idp": "LOCAL"}]})
    page = text_of(staff.get("/console/applications/"))
    assert "shop" in page and "shop-client" in page and "1: BasicAuthenticator" in page
    assert "portal (live v1)" in page


def test_the_step_selects_offer_the_authenticators_and_identity_providers_that_exist(staff):
    IdentityProvider.objects.create(name="partner", display_name="Partner SSO", issuer="https://idp.example")
    page = staff.get("/console/applications/new/").content.decode()
    step_1 = re.search(r'<select id="step-1".*?</select>', page, re.S).group(0)
    values = re.findall(r'<option value="([^"]+)"', step_1)
    assert "local:BasicAuthenticator" in values and "local:totp" in values and "idp:partner" in values
    # a name of the reference API no plugin implements is not offered: nobody could pass it
    assert "local:x509CertificateAuthenticator" not in values


def test_creating_an_application_goes_through_the_api_and_is_audited(staff, portal):
    IdentityProvider.objects.create(name="partner", issuer="https://idp.example")
    answer = create(staff, name="shop", client_id="shop-client", redirect_uris="https://shop.example/cb\n",
                    sequence="portal", client_type="confidential", client_secret="a-secret-of-enough-length",
                    **{"step-1": ["local:BasicAuthenticator", "idp:partner"], "step-2": ["local:totp"]})
    assert answer.status_code == 302 and answer["Location"] == "/console/applications/shop/"
    app = Application.objects.get(name="shop")
    assert app.steps == {"1": [{"authenticator": "BasicAuthenticator", "idp": "LOCAL"},
                               {"authenticator": None, "idp": "partner"}],
                         "2": [{"authenticator": "totp", "idp": "LOCAL"}]}
    assert app.redirect_uris == ["https://shop.example/cb"] and app.sequence == portal
    assert app.oidc_client is not None and app.oidc_client.client_id == "shop-client"
    entry = AuditEntry.objects.get(action="create", target_type="application")
    assert entry.actor == "user:admin" and entry.target_id == "shop"
    page = staff.get(answer["Location"]).content.decode()
    assert "a-secret-of-enough-length" not in page  # never shown back


def test_the_apis_errors_show_on_the_form_at_their_field_and_nothing_is_saved(staff):
    answer = create(staff, name="shop", client_id="shop", redirect_uris="ftp://shop.example/cb",
                    **{"step-1": ["local:BasicAuthenticator"]})
    assert answer.status_code == 400
    html = answer.content.decode()
    assert re.search(r'id="redirect_uris-error">[^<]*is not an https', html)
    assert 'value="shop"' in html and "ftp://shop.example/cb" in html  # what was typed is kept
    assert "local:BasicAuthenticator\" selected" in html
    assert not Application.objects.exclude(name="account").exists()


def test_an_authenticator_no_select_offers_is_refused_not_stored(staff):
    answer = create(staff, name="shop", client_id="shop", **{"step-1": ["local:NoSuchAuthenticator"]})
    assert answer.status_code == 400
    assert "NoSuchAuthenticator is not an authenticator or identity provider of this server" in text_of(answer)
    assert not Application.objects.exclude(name="account").exists()


def test_the_api_refuses_steps_naming_an_identity_provider_that_is_not_configured():
    from tests.support.api import api_client

    IdentityProvider.objects.create(name="partner", issuer="https://idp.example")
    writer = api_client("applications:read", "applications:write")
    fields = {"name": "shop", "client_id": "shop", "client_type": "public"}
    refused = writer.post("/api/v1/applications/", {**fields, "steps": {"1": [{"idp": "nowhere"}]}}, format="json")
    assert refused.status_code == 400
    assert refused.json()["errors"] == [{"field": "steps", "message": "no identity provider is named nowhere",
                                         "line": None, "column": None}]
    created = writer.post("/api/v1/applications/", {**fields, "steps": {"1": [{"idp": "partner"}]}}, format="json")
    assert created.status_code == 201


@pytest.mark.parametrize("fields", [
    {"name": "", "client_id": "x", "step-1": ["local:BasicAuthenticator"]},
    {"name": "bad name!", "client_id": "x", "step-1": ["local:BasicAuthenticator"]},
    {"name": "shop", "client_id": "x"},
    {"name": "shop", "client_id": "x", "client_type": "neither", "step-1": ["local:BasicAuthenticator"]},
    {"name": "shop", "client_id": "x", "sequence": "missing", "step-1": ["local:BasicAuthenticator"]},
    {"name": "shop", "client_id": "x", "step-999": ["local:BasicAuthenticator"]},
    {"name": "shop", "client_id": "x", "client_secret": "short", "step-1": ["local:BasicAuthenticator"]},
    {"name": "shop", "client_id": "x", "client_type": "confidential", "step-1": ["local:BasicAuthenticator"]},
])
def test_bad_input_is_a_clear_error_never_a_500(staff, fields):
    answer = create(staff, **fields)
    assert answer.status_code == 400
    assert 'role="alert"' in answer.content.decode()
    assert not Application.objects.exclude(name="account").exists()


def test_a_nul_character_is_refused_before_anything_is_written(staff):
    answer = create(staff, name="shop\x00", client_id="x", **{"step-1": ["local:BasicAuthenticator"]})
    assert answer.status_code == 400
    assert not Application.objects.exclude(name="account").exists()


def test_editing_the_steps_keeps_the_rest_and_shows_the_live_script_and_recent_logins(staff, portal, admin_user):
    create(staff, name="shop", client_id="shop", redirect_uris="https://shop.example/cb", sequence="portal",
           **{"step-1": ["local:BasicAuthenticator"]})
    app = Application.objects.get(name="shop")
    flow = LoginFlow.objects.create(application=app, sequence_version=portal.live_version, state={},
                                    status="succeeded", subject="alice",
                                    expires_at=timezone.now() + timedelta(minutes=5))
    page = staff.get("/console/applications/shop/")
    assert f'href="/console/flows/{flow.id}/"' in page.content.decode()  # its replay
    body = text_of(page)
    assert "portal : live version v1" in body and "Edit in the script editor" in body
    assert re.search(r"Succeeded alice v1", body)
    answer = staff.post("/console/applications/shop/", {
        "csrfmiddlewaretoken": token(staff), "etag": etag_on(page), "client_id": "shop", "client_type": "public",
        "redirect_uris": "https://shop.example/cb", "sequence": "portal",
        "step-1": ["local:BasicAuthenticator"], "step-2": ["local:totp", "local:email-otp"]})
    assert answer.status_code == 302
    app.refresh_from_db()
    assert list(app.steps) == ["1", "2"] and [o["authenticator"] for o in app.steps["2"]] == ["totp", "email-otp"]
    assert app.redirect_uris == ["https://shop.example/cb"]
    assert AuditEntry.objects.filter(action="update", target_id="shop").count() == 1


def test_a_configured_option_no_longer_available_is_shown_and_kept_by_an_edit(staff):
    Application.objects.create(name="shop", client_id="shop", client_type="public", steps={
        "1": [{"authenticator": "BasicAuthenticator", "idp": "LOCAL"}],
        "2": [{"authenticator": "x509CertificateAuthenticator", "idp": "LOCAL"}, {"authenticator": None, "idp": "gone"}]})
    page = staff.get("/console/applications/shop/")
    html = page.content.decode()
    assert re.search(r'value="local:x509CertificateAuthenticator" selected>[^<]*not available here', html)
    answer = staff.post("/console/applications/shop/", {
        "csrfmiddlewaretoken": token(staff), "etag": etag_on(page), "client_id": "shop2", "client_type": "public",
        "step-1": ["local:BasicAuthenticator"], "step-2": ["local:x509CertificateAuthenticator"]})
    assert answer.status_code == 302
    app = Application.objects.get(name="shop")
    assert app.client_id == "shop2"
    assert app.steps["2"] == [{"authenticator": "x509CertificateAuthenticator", "idp": "LOCAL"}]


def test_an_edit_made_stale_by_another_is_refused(staff, portal):
    create(staff, name="shop", client_id="shop", **{"step-1": ["local:BasicAuthenticator"]})
    page = staff.get("/console/applications/shop/")
    Application.objects.filter(name="shop").update(redirect_uris=["https://elsewhere.example/cb"])
    answer = staff.post("/console/applications/shop/", {
        "csrfmiddlewaretoken": token(staff), "etag": etag_on(page), "client_id": "shop2", "client_type": "public",
        "step-1": ["local:BasicAuthenticator"]})
    assert answer.status_code == 400 and "Someone changed this application" in text_of(answer)
    assert Application.objects.get(name="shop").client_id == "shop"


def test_application_writes_need_the_csrf_token(staff):
    staff.get("/console/applications/new/")
    answer = staff.post("/console/applications/new/", {"name": "shop", "client_id": "shop",
                                                       "step-1": ["local:BasicAuthenticator"]})
    assert answer.status_code == 403 and not Application.objects.exclude(name="account").exists()


def test_staff_who_may_only_read_see_the_form_disabled_and_cannot_post(client, django_user_model):
    from django.contrib.auth.models import Permission

    reader = django_user_model.objects.create_user("reader", password="x", is_staff=True)
    reader.user_permissions.add(Permission.objects.get(codename="view_application", content_type__app_label="applications"))
    Application.objects.create(name="shop", client_id="shop", steps={"1": [{"authenticator": "BasicAuthenticator",
                                                                             "idp": "LOCAL"}]})
    sign_in_to_console(client, reader)
    page = client.get("/console/applications/shop/")
    assert page.status_code == 200 and "<fieldset disabled>" in page.content.decode()
    assert client.get("/console/applications/new/").status_code == 403
    answer = client.post("/console/applications/shop/", {"client_id": "taken", "step-1": ["local:totp"]})
    assert answer.status_code == 302 and Application.objects.get(name="shop").client_id == "shop"


# ---------------------------------------------------------------- users

def test_users_search_shows_lock_state_and_unlock_asks_then_goes_through_the_api(staff):
    User.objects.create_user("carol", email="carol@example.com", password="x", failed_login_attempts=5,
                             locked_until=timezone.now() + timedelta(minutes=10))
    User.objects.create_user("dave", password="x")
    page = text_of(staff.get("/console/users/?q=carol"))
    assert "carol" in page and "Locked until" in page and "dave" not in page
    assert "Unlock carol" in page
    locked_only = text_of(staff.get("/console/users/?locked=1"))
    assert "carol" in locked_only and "dave" not in locked_only
    confirmation = staff.get("/console/users/carol/unlock/")
    assert "carol is locked" in text_of(confirmation) and "after 5 failed sign-ins" in text_of(confirmation)
    assert User.objects.get(username="carol").account_locked  # asking changes nothing
    answer = staff.post("/console/users/carol/unlock/", {"csrfmiddlewaretoken": token(staff)})
    assert answer.status_code == 302
    carol = User.objects.get(username="carol")
    assert not carol.account_locked and carol.failed_login_attempts == 0
    entry = AuditEntry.objects.get(action="unlock")
    assert entry.target_id == "carol" and entry.detail == {"was_locked": True} and entry.actor == "user:admin"
    assert "Not locked" in text_of(staff.get("/console/users/?q=carol"))
    assert "No users match" in text_of(staff.get("/console/users/?q=carol&locked=1"))


def test_unlocking_needs_the_csrf_token_and_an_existing_user(staff):
    User.objects.create_user("carol", password="x", locked_until=timezone.now() + timedelta(minutes=10))
    staff.get("/console/users/")
    assert staff.post("/console/users/carol/unlock/").status_code == 403
    assert User.objects.get(username="carol").account_locked
    assert staff.get("/console/users/nobody/unlock/").status_code == 404


# ---------------------------------------------------------------- audit log

def test_the_audit_log_filters_by_application_actor_and_action_and_pages(staff, portal):
    create(staff, name="shop", client_id="shop", sequence="portal", **{"step-1": ["local:BasicAuthenticator"]})
    create(staff, name="blog", client_id="blog", **{"step-1": ["local:BasicAuthenticator"]})
    AuditEntry.objects.create(actor="client:ci", via="api", action="publish", target_type="sequence",
                              target_id="portal", detail={"version": 1})
    AuditEntry.objects.bulk_create([AuditEntry(actor="client:ci", via="api", action="update", target_type="role",
                                               target_id=f"r{i}") for i in range(60)])
    shop = log_of(staff.get("/console/audit/?application=shop"))
    assert "application shop" in shop and "sequence portal" in shop and "application blog" not in shop
    mine = log_of(staff.get("/console/audit/?actor=user:admin&action=create"))
    assert "application shop" in mine and "application blog" in mine and "client:ci" not in mine
    first = staff.get("/console/audit/?actor=client:ci")
    assert "Page 1 of 2" in text_of(first) and "page=2" in first.content.decode()
    assert "Page 2 of 2" in text_of(staff.get("/console/audit/?actor=client:ci&page=2"))
    assert "Page 1 of 2" in text_of(staff.get("/console/audit/?actor=client:ci&page=nonsense"))
    assert staff.get("/console/audit/?actor=%00").status_code == 400  # the site's refusal of NUL characters


# ---------------------------------------------------------------- allowed endpoints and secrets

def test_endpoints_are_added_and_removed_through_the_api(staff):
    staff.get("/console/endpoints/")
    answer = staff.post("/console/endpoints/", {"csrfmiddlewaretoken": token(staff),
                                                "url": "https://api.example.com/v1/", "description": "risk"})
    assert answer.status_code == 302
    endpoint = AllowedEndpoint.objects.get()
    assert endpoint.url == "https://api.example.com/v1/" and endpoint.description == "risk"
    bad = staff.post("/console/endpoints/", {"csrfmiddlewaretoken": token(staff), "url": "not a url"})
    assert bad.status_code == 400 and 'role="alert"' in bad.content.decode() and AllowedEndpoint.objects.count() == 1
    assert "https://api.example.com/v1/" in text_of(staff.get("/console/endpoints/"))
    gone = staff.post(f"/console/endpoints/{endpoint.pk}/delete/", {"csrfmiddlewaretoken": token(staff)})
    assert gone.status_code == 302 and not AllowedEndpoint.objects.exists()
    assert [e.action for e in AuditEntry.objects.filter(target_type="allowed_endpoint").order_by("id")] == [
        "create", "delete"]


def test_secrets_are_set_and_deleted_and_their_values_never_shown(staff):
    staff.get("/console/secrets/")
    answer = staff.post("/console/secrets/", {"csrfmiddlewaretoken": token(staff), "name": "risk-api-key",
                                              "value": "s3cr3t-value-never-shown", "description": "the risk API"})
    assert answer.status_code == 302
    secret = Secret.objects.get(name="risk-api-key")
    assert "s3cr3t-value-never-shown" not in secret.encrypted_value
    page = staff.get("/console/secrets/").content.decode()
    assert "risk-api-key" in page and "the risk API" in page and "s3cr3t" not in page
    bad = staff.post("/console/secrets/", {"csrfmiddlewaretoken": token(staff), "name": "bad name",
                                           "value": "another-value-never-shown"})
    assert bad.status_code == 400 and "another-value-never-shown" not in bad.content.decode()
    gone = staff.post("/console/secrets/risk-api-key/delete/", {"csrfmiddlewaretoken": token(staff)})
    assert gone.status_code == 302 and not Secret.objects.exists()
    entries = AuditEntry.objects.filter(target_type="secret").order_by("id")
    assert [e.action for e in entries] == ["create", "delete"]
    assert all("s3cr3t" not in str(e.detail) for e in entries)


@pytest.mark.parametrize("path,fields", [
    ("/console/secrets/", {"name": "n" * 101, "value": "v"}),
    ("/console/secrets/", {"name": "ok", "value": ""}),
    ("/console/secrets/", {"name": "ok", "value": "v", "description": "d" * 201}),
    ("/console/secrets/", {"name": "", "value": "v"}),
    ("/console/endpoints/", {"url": "https://api.example.com/" + "a" * 5000}),
    ("/console/endpoints/", {"url": ""}),
])
def test_bad_secrets_and_endpoints_are_clear_errors_and_nothing_is_written(staff, path, fields):
    staff.get(path)
    answer = staff.post(path, {"csrfmiddlewaretoken": token(staff), **fields})
    assert answer.status_code == 400 and 'role="alert"' in answer.content.decode()
    assert not Secret.objects.exists() and not AllowedEndpoint.objects.exists()
    assert not AuditEntry.objects.exists()


def test_removing_what_does_not_exist_is_a_404(staff):
    staff.get("/console/secrets/")
    assert staff.post("/console/secrets/nothing/delete/", {"csrfmiddlewaretoken": token(staff)}).status_code == 404
    assert staff.post("/console/endpoints/999/delete/", {"csrfmiddlewaretoken": token(staff)}).status_code == 404
    assert staff.get("/console/applications/nothing/").status_code == 404
