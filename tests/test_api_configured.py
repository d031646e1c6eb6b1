"""Custom authenticators and identity providers through the management API: the entries `apply` reads,
checked by its rules, secrets write-only, concurrency by If-Match, every write in the audit log."""
import pytest

from authflow.api.models import AuditEntry
from authflow.custom_authenticators.models import CustomAuthenticator
from authflow.federation.models import IdentityProvider
from tests.support.api import api_client

pytestmark = pytest.mark.django_db

REGISTRATION = "function execute(requestPayload, userIdentifier) {\n  return {status: 2000, registrationData: requestPayload};\n}\n"
AUTHENTICATION = ("function execute(requestPayload, userIdentifier, registrationData) {\n"
                  "  return {status: requestPayload.equals(registrationData) ? 2000 : 4000};\n}\n")
DEVICE_KEY = {"name": "device-key", "display_name": "Device key", "registration_script": REGISTRATION,
              "authentication_script": AUTHENTICATION, "max_failed_attempts": 3}
CORP = {"name": "corp", "display_name": "Corp account", "issuer": "https://login.corp.example", "client_id": "authflow",
        "client_secret": "a-client-secret-of-the-corp-provider", "scopes": "openid email",
        "claim_mapping": {"email": "http://wso2.org/claims/emailaddress"}, "user_policy": "provision",
        "username_claim": "email"}


def test_create_read_replace_and_delete_a_custom_authenticator():
    client = api_client("authenticators:read", "authenticators:write")
    created = client.post("/api/v1/custom-authenticators/", DEVICE_KEY, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["authentication_script"] == AUTHENTICATION and created.json()["max_failed_attempts"] == 3
    authenticator = CustomAuthenticator.objects.get(name="device-key")
    assert authenticator.registration_script.published_version().source == REGISTRATION
    read = client.get("/api/v1/custom-authenticators/device-key/")
    assert read.json() == created.json() and [e["name"] for e in client.get("/api/v1/custom-authenticators/").json()] == ["device-key"]

    changed = {**DEVICE_KEY, "display_name": "Device key (v2)", "max_failed_attempts": 5}
    assert client.put("/api/v1/custom-authenticators/device-key/", changed, format="json").status_code == 428
    stale = client.put("/api/v1/custom-authenticators/device-key/", changed, format="json", HTTP_IF_MATCH='"0"')
    assert stale.status_code == 412
    replaced = client.put("/api/v1/custom-authenticators/device-key/", changed, format="json",
                          HTTP_IF_MATCH=read["ETag"])
    assert replaced.status_code == 200 and replaced.json()["display_name"] == "Device key (v2)"
    # The first administrator's copy is out of date now: their delete is refused.
    assert client.delete("/api/v1/custom-authenticators/device-key/", HTTP_IF_MATCH=read["ETag"]).status_code == 412
    assert client.delete("/api/v1/custom-authenticators/device-key/", HTTP_IF_MATCH=replaced["ETag"]).status_code == 204
    assert not CustomAuthenticator.objects.exists()
    assert [(e.action, e.target_type, e.target_id) for e in AuditEntry.objects.order_by("id")] == [
        ("create", "custom_authenticator", "device-key"), ("update", "custom_authenticator", "device-key"),
        ("delete", "custom_authenticator", "device-key")]


@pytest.mark.parametrize("change, message", [
    ({"authentication_script": "function execute( {"}, "authentication_script"),
    ({"registration_script": "var x = 1;"}, "execute"),
    ({"name": "BasicAuthenticator"}, "built-in authenticator"),
    ({"max_failed_attempts": 0}, "max_failed_attempts"),
    ({"surprise": True}, "surprise"),
])
def test_a_custom_authenticator_is_checked_by_the_rules_apply_uses(change, message):
    client = api_client("authenticators:write")
    answer = client.post("/api/v1/custom-authenticators/", {**DEVICE_KEY, **change}, format="json")
    assert answer.status_code == 400 and message in answer.json()["errors"][0]["message"], answer.content
    assert not CustomAuthenticator.objects.exists() and not AuditEntry.objects.exists()


def test_an_identity_provider_s_client_secret_is_written_never_read():
    client = api_client("identity_providers:read", "identity_providers:write")
    created = client.post("/api/v1/identity-providers/", CORP, format="json")
    assert created.status_code == 201, created.content
    provider = IdentityProvider.objects.get(name="corp")
    assert provider.client_secret() == CORP["client_secret"]
    for answer in (created, client.get("/api/v1/identity-providers/corp/"), client.get("/api/v1/identity-providers/")):
        text = answer.content.decode()
        assert "a-client-secret" not in text and '"client_secret"' not in text and "client_secret_encrypted" not in text
    # Replacing without a secret keeps the stored one (as apply does).
    read = client.get("/api/v1/identity-providers/corp/")
    without_secret = {k: v for k, v in CORP.items() if k != "client_secret"} | {"scopes": "openid"}
    replaced = client.put("/api/v1/identity-providers/corp/", without_secret, format="json", HTTP_IF_MATCH=read["ETag"])
    assert replaced.status_code == 200 and replaced.json()["scopes"] == "openid"
    assert IdentityProvider.objects.get(name="corp").client_secret() == CORP["client_secret"]
    wrong = client.put("/api/v1/identity-providers/corp/", {**without_secret, "name": "other"}, format="json",
                       HTTP_IF_MATCH=replaced["ETag"])
    assert wrong.status_code == 400 and wrong.json()["errors"][0]["field"] == "name"
    bad = client.post("/api/v1/identity-providers/", {**CORP, "name": "broken", "issuer": "not a url"}, format="json")
    assert bad.status_code == 400 and not IdentityProvider.objects.filter(name="broken").exists()


def test_each_collection_needs_its_scope():
    reader = api_client("authenticators:read", name="reader")
    assert reader.post("/api/v1/custom-authenticators/", DEVICE_KEY, format="json").status_code == 403
    assert reader.get("/api/v1/identity-providers/").status_code == 403
    assert reader.get("/api/v1/custom-authenticators/").status_code == 200
    providers = api_client("identity_providers:write", name="providers")
    assert providers.post("/api/v1/custom-authenticators/", DEVICE_KEY, format="json").status_code == 403
    assert not CustomAuthenticator.objects.exists()
