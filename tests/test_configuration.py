"""Configuration as code: `manage.py apply` and `manage.py export`."""
import io
import os
import subprocess
import sys
import textwrap

import pytest
from django.contrib.auth.hashers import check_password
import yaml
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from authflow.applications.models import Application
from authflow.directory.models import Role, User, UserClaim
from authflow.outbound.allowlist import normalise
from authflow.outbound.models import AllowedEndpoint, allowed
from sequences.models import Sequence, SequenceVersion

pytestmark = pytest.mark.django_db

CONFIG = textwrap.dedent("""
    roles: [auditor]
    allowed_endpoints:
      - https://Risk.Example.com:443/api/./v1
      - {url: "http://127.0.0.1:8081/score", description: local risk engine, enabled: false}
    applications:
      - name: portal
        client_id: portal
        client_secret: portal-secret-0123456789
        redirect_uris: ["http://127.0.0.1:9000/callback"]
        steps: {1: [BasicAuthenticator], 2: [totp, email-otp], 3: [{idp: google, authenticator: OpenIDConnectAuthenticator}]}
        script: |
          var onLoginRequest = function(context) {
              executeStep(1);
          };
      - name: wiki
        client_id: wiki-client
        client_type: public
        steps: {1: [IdentifierExecutor]}
    users:
      - {username: alice, password: "correct horse battery", email: alice@example.com, first_name: Alice,
         roles: [admin], groups: [staff], claims: {"http://wso2.org/claims/dob": "1990-01-31",
                                                  "http://example.com/claims/tier": gold}}
      - {username: bob, password: "another long secret", roles: [user]}
""")


def apply_text(tmp_path, text, name="config.yaml"):
    path = tmp_path / name
    path.write_text(text)
    out = io.StringIO()
    call_command("apply", "-f", str(path), stdout=out)
    return out.getvalue()


def snapshot():
    return {
        "apps": list(Application.objects.order_by("name").values_list("name", "client_id", "steps", "sequence_id")),
        "versions": list(SequenceVersion.objects.order_by("id").values_list("id", "number", "published")),
        "users": list(User.objects.order_by("username").values_list("username", "password", "email", "date_of_birth")),
        "roles": sorted(Role.objects.values_list("name", flat=True)),
        "groups": sorted(Group.objects.values_list("name", flat=True)),
        "claims": sorted(UserClaim.objects.values_list("user__username", "uri", "value")),
        "endpoints": list(AllowedEndpoint.objects.values_list("url", "description", "enabled", "updated_at")),
    }


def test_apply_creates_everything(tmp_path):
    output = apply_text(tmp_path, CONFIG)
    assert "2 applications created" in output and "2 users created" in output
    portal = Application.objects.get(name="portal")
    assert portal.steps["3"] == [{"authenticator": "OpenIDConnectAuthenticator", "idp": "google"}]
    version = portal.sequence.published_version()
    assert version.number == 1 and "executeStep(1)" in version.source
    assert Application.objects.get(name="wiki").sequence is None
    secret = portal.oidc_client.client_secret  # hashed, with the lighter Argon2 of client secrets
    assert secret.startswith("argon2_client$argon2id$") and "portal-secret" not in secret
    assert check_password("portal-secret-0123456789", secret) and not check_password("portal-secret-x", secret)
    alice = User.objects.get(username="alice")
    assert alice.check_password("correct horse battery") and alice.password.startswith("argon2")
    assert set(alice.roles.values_list("name", flat=True)) == {"admin"}
    assert list(alice.groups.values_list("name", flat=True)) == ["staff"]
    assert alice.date_of_birth.isoformat() == "1990-01-31"
    assert alice.claim_values.get(uri="http://example.com/claims/tier").value == "gold"
    assert set(Role.objects.values_list("name", flat=True)) == {"admin", "auditor", "user"}
    assert list(AllowedEndpoint.objects.values_list("url", "description", "enabled")) == [
        ("http://127.0.0.1:8081/score", "local risk engine", False), ("https://risk.example.com/api/v1", "", True)]
    assert allowed(normalise("https://risk.example.com/api/v1/score?user=alice"))
    assert not allowed(normalise("https://risk.example.com/api/v2"))
    assert not allowed(normalise("http://127.0.0.1:8081/score"))  # listed, but disabled


def test_apply_is_idempotent(tmp_path):
    apply_text(tmp_path, CONFIG)
    before = snapshot()
    output = apply_text(tmp_path, CONFIG)
    assert snapshot() == before
    assert "2 applications unchanged" in output and "2 users unchanged" in output
    assert "2 allowed endpoints unchanged" in output


def test_an_endpoint_enabled_again_by_the_file_allows_calls_again(tmp_path):
    apply_text(tmp_path, CONFIG)
    output = apply_text(tmp_path, CONFIG.replace("enabled: false", "enabled: true"))
    assert "1 allowed endpoints updated" in output
    assert allowed(normalise("http://127.0.0.1:8081/score"))


def test_a_changed_script_becomes_a_new_published_version(tmp_path):
    apply_text(tmp_path, CONFIG)
    apply_text(tmp_path, CONFIG.replace("executeStep(1);", "executeStep(1); executeStep(2);"))
    sequence = Sequence.objects.get(name="portal")
    assert list(sequence.versions.values_list("number", "published")) == [(1, True), (2, True)]
    assert "executeStep(2)" in sequence.published_version().source


def test_export_then_apply_into_an_empty_database_round_trips(tmp_path, django_db_blocker):
    apply_text(tmp_path, CONFIG)
    exported = io.StringIO()
    call_command("export", "--include-password-hashes", stdout=exported)
    first = exported.getvalue()
    data = yaml.safe_load(first)
    assert data["applications"][0]["script"].startswith("var onLoginRequest")
    assert "password" not in data["users"][0] and data["users"][0]["password_hash"].startswith("argon2")
    assert data["allowed_endpoints"] == [
        {"url": "http://127.0.0.1:8081/score", "description": "local risk engine", "enabled": False},
        "https://risk.example.com/api/v1"]

    for model in (Application, UserClaim, User, Role, Group, SequenceVersion, Sequence, AllowedEndpoint):
        model.objects.all().delete()
    apply_text(tmp_path, first, "exported.yaml")
    again = io.StringIO()
    call_command("export", "--include-password-hashes", stdout=again)
    assert again.getvalue() == first
    assert User.objects.get(username="alice").check_password("correct horse battery")


def test_export_never_prints_passwords_unless_asked(tmp_path):
    apply_text(tmp_path, CONFIG)
    out = io.StringIO()
    call_command("export", "--format", "json", stdout=out)
    assert "password" not in out.getvalue() and "argon2" not in out.getvalue()


BAD = [
    ("top-level unknown key", CONFIG + "extras: 1\n", "the file: unknown key 'extras'"),
    ("application unknown key", CONFIG.replace("client_id: portal", "client_id: portal\n    colour: red"),
     "applications[0] (portal): unknown key 'colour'"),
    ("user unknown key", CONFIG.replace("{username: bob, password:", "{username: bob, passwrd:"),
     "users[1] (bob): unknown key 'passwrd'"),
    ("step number zero", CONFIG.replace("{1: [IdentifierExecutor]}", "{0: [IdentifierExecutor]}"),
     "applications[1] (wiki): steps: bad step number 0"),
    ("step number text", CONFIG.replace("{1: [IdentifierExecutor]}", "{x: [IdentifierExecutor]}"),
     "applications[1] (wiki): steps: bad step number 'x'"),
    ("unknown authenticator", CONFIG.replace("[totp, email-otp]", "[totp, smoke-signal]"),
     "applications[0] (portal): steps: step 2: unknown authenticator 'smoke-signal'"),
    ("script syntax error", CONFIG.replace("executeStep(1);", "executeStep(1;"),
     "applications[0] (portal): script: line 2, column"),
    ("script without its entry point", CONFIG.replace("var onLoginRequest", "var onLogin", 1),
     "applications[0] (portal): script: the script does not define onLoginRequest"),
    ("script with async code", CONFIG.replace("executeStep(1);", "(async function () {})(); executeStep(1);", 1),
     "applications[0] (portal): script: line 2, column"),
    ("duplicate client id", CONFIG.replace("client_id: wiki-client", "client_id: portal"),
     "applications[1] (wiki): client_id 'portal' appears twice"),
    ("bad claim value", CONFIG.replace('"1990-01-31"', '"1990-13-45"'), "users (alice): claims:"),
    ("not yaml", "applications: [\n", "not valid YAML"),
    ("endpoint not http", CONFIG.replace("https://Risk.Example.com:443/api/./v1", "ftp://risk.example.com/"),
     "allowed_endpoints[0]: url: only http and https URLs can be called"),
    ("endpoint with a query", CONFIG.replace("/api/./v1", "/api?x=1"),
     "allowed_endpoints[0]: url: an allowed endpoint has no query"),
    ("endpoint twice once normalised", CONFIG.replace("http://127.0.0.1:8081/score", "https://risk.example.com/api/v1"),
     "allowed_endpoints[1] (https://risk.example.com/api/v1): url 'https://risk.example.com/api/v1' appears twice"),
    ("endpoint unknown key", CONFIG.replace("enabled: false", "enabeld: false"),
     "allowed_endpoints[1]: unknown key 'enabeld'"),
    ("endpoint enabled not a boolean", CONFIG.replace("enabled: false", "enabled: 'no'"),
     "allowed_endpoints[1] (http://127.0.0.1:8081/score): enabled must be true or false"),
]


@pytest.mark.parametrize("label, text, message", BAD, ids=[b[0] for b in BAD])
def test_bad_input_names_the_entry_and_changes_nothing(tmp_path, label, text, message):
    apply_text(tmp_path, "users: [{username: carol, password: 'a long password here'}]\n", "seed.yaml")
    before = snapshot()
    with pytest.raises(CommandError) as caught:
        apply_text(tmp_path, text)
    assert message in str(caught.value)
    assert caught.value.returncode == 2
    assert snapshot() == before


def test_apply_command_exits_with_status_2_on_bad_input(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("applications: [{name: x, client_id: x, steps: {1: [nope]}}]\n")
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="tests.settings")
    result = subprocess.run([sys.executable, "manage.py", "apply", "-f", str(path)], capture_output=True, text=True,
                            env=env, cwd=os.path.dirname(os.path.dirname(__file__)), timeout=120)
    assert result.returncode == 2
    assert "unknown authenticator 'nope'" in result.stderr


def test_seed_demo_creates_the_demo_and_the_home_page_lists_it(client, settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())  # idempotent
    assert Sequence.objects.get(name="demo").versions.count() == 1
    assert User.objects.get(username="admin").is_superuser
    page = client.get("/")
    assert page.status_code == 200 and b"demo-client" not in page.content  # applications: staff only
    client.force_login(User.objects.get(username="admin"))
    page = client.get("/")
    assert b"demo-client" in page.content and b"demo v1" in page.content


def test_seed_demo_refuses_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="AUTHFLOW_DEBUG"):
        call_command("seed_demo")
