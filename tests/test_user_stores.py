"""Named user stores: PRIMARY (this database) and a read-only LDAP directory (a real slapd).

People of the directory sign in with their directory password, by their
name or as "CORP/name"; they get a local shadow row marked with the store,
their directory groups become roles and their attributes claims; nothing is
written to the directory; a directory that cannot answer says so.
"""
import io
import textwrap

import pytest
import yaml
from django.core.management import call_command

from authflow.directory import services
from authflow.directory.models import User, UserStore
from authflow.configuration.schema import ConfigError, parse
from tests.support.config import public_app
from tests.support.directory_server import slapd, store_yaml  # noqa: F401 (the fixture)
from tests.support.servers import free_port
from authflow.flows.models import LoginFlow
from tests.support.signin import IdentifierFirst, SignInPage

pytestmark = pytest.mark.django_db

WRONG = "The username or password is not correct."
EMAIL = "http://wso2.org/claims/emailaddress"


def apply_text(tmp_path, text):
    path = tmp_path / "config.yaml"
    path.write_text(text)
    out = io.StringIO()
    call_command("apply", "-f", str(path), stdout=out)
    return out.getvalue()


def portal_config(stores: str) -> str:
    return ("roles: [finance-staff, engineer, auditor]\n"
            "applications:\n" + public_app("portal", "{1: [BasicAuthenticator]}", """
                var onLoginRequest = function (context) { executeStep(1); };
            """) + textwrap.dedent("""
            users:
              - {username: alice, password: "alice-primary-password"}
              - {username: bob, password: "bob-primary-password"}
            """) + "user_stores:\n" + stores)


@pytest.fixture
def corp(tmp_path, slapd):  # noqa: F811
    apply_text(tmp_path, portal_config(store_yaml(slapd)))
    return slapd


@pytest.mark.usefixtures("corp")
def test_a_directory_user_signs_in_with_the_directory_password_and_gets_a_shadow_row_of_the_store():
    assert SignInPage().attempt("carol", "wrong-password") == WRONG
    assert SignInPage().attempt("carol", "carol-ldap-password") == "signed in"
    shadow = User.objects.get(username="CORP/carol")
    assert shadow.user_store == "CORP"
    assert not shadow.has_usable_password()  # the password stays the directory's
    assert shadow.email == "carol@corp.example" and shadow.first_name == "Carol"
    # The qualified name reaches the same account; an empty password is never an (anonymous) bind.
    assert SignInPage().attempt("CORP/carol", "carol-ldap-password") == "signed in"
    assert SignInPage().attempt("corp/carol", "carol-ldap-password") == "signed in"
    assert SignInPage().attempt("CORP/carol", "") == WRONG
    assert User.objects.filter(user_store="CORP").count() == 1


@pytest.mark.usefixtures("corp")
def test_an_unqualified_name_is_primary_first_and_a_qualified_one_is_its_store():
    # alice is in PRIMARY and in the directory, with different passwords.
    assert SignInPage().attempt("alice", "alice-corp-password") == WRONG  # PRIMARY's alice decides
    assert SignInPage().attempt("alice", "alice-primary-password") == "signed in"
    assert SignInPage().attempt("CORP/alice", "alice-primary-password") == WRONG
    assert SignInPage().attempt("CORP/alice", "alice-corp-password") == "signed in"
    assert SignInPage().attempt("PRIMARY/alice", "alice-primary-password") == "signed in"
    # A store nobody configured, and a name the directory does not have.
    assert SignInPage().attempt("NOPE/carol", "carol-ldap-password") == WRONG
    assert SignInPage().attempt("CORP/bob", "bob-primary-password") == WRONG
    assert set(User.objects.values_list("username", "user_store")) >= {
        ("alice", "PRIMARY"), ("CORP/alice", "CORP")}


def test_stores_are_tried_in_the_order_of_the_file(tmp_path, slapd):  # noqa: F811
    apply_text(tmp_path, portal_config(store_yaml(slapd, "LAB") + store_yaml(slapd, "CORP")))
    assert SignInPage().attempt("dave", "dave-ldap-password") == "signed in"
    assert User.objects.filter(username="LAB/dave", user_store="LAB").exists()
    apply_text(tmp_path, portal_config(store_yaml(slapd, "CORP") + store_yaml(slapd, "LAB")))
    assert list(UserStore.objects.values_list("name", flat=True)) == ["CORP", "LAB"]
    assert SignInPage().attempt("dave", "dave-ldap-password") == "signed in"
    assert User.objects.filter(username="CORP/dave", user_store="CORP").exists()


@pytest.mark.usefixtures("corp")
def test_directory_groups_become_roles_and_attributes_claims_read_only():
    assert SignInPage().attempt("carol", "carol-ldap-password") == "signed in"
    snapshot = services.user_snapshot("CORP/carol")
    assert snapshot["userStoreDomain"] == "CORP"
    assert snapshot["roles"] == ["engineer", "finance-staff"]
    assert snapshot["groups"] == ["engineers", "finance"]
    assert snapshot["claims"][EMAIL] == "carol@corp.example"
    assert snapshot["claims"]["http://wso2.org/claims/department"] == "finance"
    # Nothing goes to the directory: its password, its claims and the roles its groups give are read-only.
    assert services.set_password("CORP/carol", "a-new-Password-123") is False
    assert services.set_local_claim("CORP/carol", EMAIL, "carol@elsewhere.example") is False
    assert services.set_local_claim("CORP/carol", "http://wso2.org/claims/department", "sales") is False
    assert services.remove_roles("CORP/carol", ["finance-staff"]) is False
    # What the server itself keeps about the account is writable: a role the script grants, another claim.
    assert services.assign_roles("CORP/carol", ["auditor"]) is True
    assert services.set_local_claim("CORP/carol", "http://wso2.org/claims/country", "NZ") is True
    snapshot = services.user_snapshot("CORP/carol")
    assert snapshot["roles"] == ["auditor", "engineer", "finance-staff"]
    assert snapshot["claims"][EMAIL] == "carol@corp.example"
    assert snapshot["claims"]["http://wso2.org/claims/country"] == "NZ"
    assert services.remove_roles("CORP/carol", ["auditor"]) is True
    # dave is not in finance: no finance-staff role.
    assert SignInPage().attempt("dave", "dave-ldap-password") == "signed in"
    assert services.user_snapshot("CORP/dave")["roles"] == ["engineer"]


@pytest.mark.usefixtures("corp")
def test_a_directory_user_is_locked_out_whichever_way_the_name_is_typed(settings):
    settings.AUTHFLOW_LOCKOUT_THRESHOLD = 3
    page = SignInPage()
    said = [page.attempt(name, "wrong") for name in ("carol", "CORP/carol", "Carol")]  # the directory's case
    assert said == [WRONG] * 3
    assert "locked" in SignInPage().attempt("CORP/carol", "carol-ldap-password")
    assert "locked" in SignInPage().attempt("carol", "carol-ldap-password")
    assert "locked" in SignInPage().attempt("corp/CAROL", "carol-ldap-password")
    assert User.objects.filter(user_store="CORP").count() == 0  # never signed in: no shadow row yet
    assert SignInPage().attempt("dave", "dave-ldap-password") == "signed in"


def test_a_dead_directory_says_so_and_primary_users_still_sign_in(tmp_path, slapd):  # noqa: F811
    dead = f"ldap://127.0.0.1:{free_port()}"  # nothing listens there
    apply_text(tmp_path, portal_config(store_yaml(slapd, "CORP", url=dead, timeout_seconds=1)))
    message = "The user directory (CORP) is unavailable. Try again later."
    assert SignInPage().attempt("carol", "carol-ldap-password") == message
    assert SignInPage().attempt("CORP/carol", "carol-ldap-password") == message
    assert SignInPage().attempt("bob", "bob-primary-password") == "signed in"
    # A refused service account (a wrong bind password) is the same to the person signing in.
    apply_text(tmp_path, portal_config(store_yaml(slapd, "CORP", bind_password="not-the-password")))
    assert SignInPage().attempt("carol", "carol-ldap-password") == message
    # TLS to a directory that does not speak it (or whose certificate does not verify): the same.
    apply_text(tmp_path, portal_config(store_yaml(slapd, "CORP", url=slapd.url.replace("ldap://", "ldaps://"))))
    assert SignInPage().attempt("carol", "carol-ldap-password") == message
    assert not User.objects.filter(user_store="CORP").exists()


def test_apply_and_export_round_trip_keeps_the_bind_password_encrypted(tmp_path, slapd):  # noqa: F811
    apply_text(tmp_path, portal_config(store_yaml(slapd)))
    assert SignInPage().attempt("carol", "carol-ldap-password") == "signed in"
    out = io.StringIO()
    call_command("export", stdout=out)
    exported = out.getvalue()
    assert slapd.bind_password not in exported
    data = yaml.safe_load(exported)
    (store,) = data["user_stores"]
    assert store["name"] == "CORP" and store["url"] == slapd.url
    assert store["bind_password_encrypted"].startswith("v1:") and "bind_password" not in store
    assert store["roles"] == {"engineers": ["engineer"], "finance": ["finance-staff"]}
    assert store["claims"][EMAIL] == "mail"
    assert "CORP/carol" not in [u["username"] for u in data["users"]]  # shadow rows are the store's
    stored = UserStore.objects.get(name="CORP").bind_password_encrypted
    assert slapd.bind_password not in stored
    # Applying the export changes nothing, and the directory still answers with the password it carries.
    assert "1 user stores unchanged" in apply_text(tmp_path, exported)
    UserStore.objects.all().delete()
    assert "1 user stores created" in apply_text(tmp_path, exported)
    assert SignInPage().attempt("CORP/carol", "carol-ldap-password") == "signed in"


@pytest.mark.parametrize("entry, error", [
    ({"name": "PRIMARY", "url": "ldap://x", "user_search_base": "dc=x"}, "PRIMARY is this server's own"),
    ({"name": "CORP", "url": "http://x", "user_search_base": "dc=x"}, "ldap:// or ldaps://"),
    ({"name": "CORP", "url": "ldap://x"}, "user_search_base is required"),
    ({"name": "CORP", "type": "ad", "url": "ldap://x", "user_search_base": "dc=x"}, "type must be ldap"),
    ({"name": "CORP", "url": "ldap://x", "user_search_base": "dc=x", "user_filter": "objectClass=person"},
     "LDAP filter"),
    ({"name": "CORP", "url": "ldap://x", "user_search_base": "dc=x", "bind_password_encrypted": "v1:zz:abc"},
     "does not decrypt"),
    ({"name": "CORP", "url": "ldap://x", "user_search_base": "dc=x", "claims": {"email": "mail"}},
     "not a claim URI"),
    ({"name": "CORP", "url": "ldap://x", "user_search_base": "dc=x",
      "claims": {"http://wso2.org/claims/identity/failedLoginAttempts": "description"}}, "this server's own claim"),
    ({"name": "CORP", "url": "ldap://x", "user_search_base": "dc=x", "claims": {"urn:authflow:claims:staff": "o"}},
     "this server's own claim"),
])
def test_bad_user_store_entries_are_refused_with_the_reason(entry, error):
    with pytest.raises(ConfigError, match=error):
        parse({"user_stores": [entry]})


def test_a_local_username_cannot_pretend_to_be_a_store_user():
    with pytest.raises(ConfigError, match="user of a user store"):
        parse({"users": [{"username": "CORP/mallory", "password": "x" * 20}]})


def test_identifier_first_resolves_the_store_and_the_password_step_verifies_that_account(tmp_path, slapd):  # noqa: F811
    config = ("applications:\n" + public_app("portal", "{1: [IdentifierExecutor], 2: [BasicAuthenticator]}", """
                var onLoginRequest = function (context) {
                    executeStep(1, {onSuccess: function (context) {
                        executeStep(2, {authenticatorParams: {common: {
                            username: context.request.params.username[0], inputType: 'identifierFirst'}}}, {});
                    }});
                };
            """) + "user_stores:\n" + store_yaml(slapd))
    apply_text(tmp_path, config)
    page = IdentifierFirst()
    assert page.sign_in("carol", "carol-ldap-password") == "signed in"
    assert LoginFlow.objects.get().subject == "CORP/carol"
    assert IdentifierFirst().sign_in("carol", "wrong-password") == WRONG


def test_the_console_lists_stores_and_never_shows_the_bind_password(admin_client, tmp_path, slapd):  # noqa: F811
    apply_text(tmp_path, portal_config(store_yaml(slapd)))
    assert SignInPage().attempt("carol", "carol-ldap-password") == "signed in"
    store = UserStore.objects.get(name="CORP")
    page = admin_client.get(f"/admin/directory/userstore/{store.pk}/change/")
    assert page.status_code == 200
    text = page.content.decode()
    assert slapd.bind_password not in text and store.bind_password_encrypted not in text
    users = admin_client.get("/admin/directory/user/", {"user_store": "CORP"}).content.decode()
    assert "CORP/carol" in users and ">bob<" not in users


def test_the_console_changes_the_bind_password_only_when_one_is_typed(admin_client, tmp_path, slapd):  # noqa: F811
    apply_text(tmp_path, portal_config(store_yaml(slapd)))
    store = UserStore.objects.get(name="CORP")
    form = {field: getattr(store, field) for field in (
        "name", "position", "kind", "url", "bind_dn", "user_search_base", "user_filter", "username_attribute",
        "group_search_base", "group_filter", "group_member_attribute", "group_name_attribute", "timeout_seconds")}
    form.update(enabled="on", role_mapping='{"finance": ["finance-staff"]}', claim_mapping="{}", bind_password="")
    url = f"/admin/directory/userstore/{store.pk}/change/"
    assert admin_client.post(url, form).status_code == 302
    assert UserStore.objects.get(pk=store.pk).bind_password_encrypted == store.bind_password_encrypted
    assert SignInPage().attempt("carol", "carol-ldap-password") == "signed in"
    assert admin_client.post(url, dict(form, bind_password="a-wrong-one")).status_code == 302
    assert UserStore.objects.get(pk=store.pk).bind_password_encrypted != store.bind_password_encrypted
    assert SignInPage().attempt("dave", "dave-ldap-password") == "The user directory (CORP) is unavailable. Try again later."


@pytest.mark.usefixtures("corp")
def test_users_are_found_by_claims_in_the_directory_without_signing_in_first():
    assert services.usernames_with_claims({EMAIL: "dave@corp.example"}) == ["CORP/dave"]
    assert User.objects.get(username="CORP/dave").user_store == "CORP"  # its shadow row, ready for the script
    assert services.usernames_with_claims({"http://wso2.org/claims/lastname": "Directory"}) == [
        "CORP/carol", "CORP/dave"]
    assert services.usernames_with_claims({EMAIL: "DAVE@corp.example"}) == []  # exact, as for PRIMARY
    assert services.usernames_with_claims({EMAIL: "*)(uid=*"}) == []  # escaped, not a filter
    assert services.usernames_with_claims({"http://wso2.org/claims/username": "CORP/carol"}) == ["CORP/carol"]
    # A claim kept locally on the shadow row, with one the directory holds.
    assert services.set_local_claim("CORP/dave", "http://wso2.org/claims/country", "NZ")
    assert services.usernames_with_claims({"http://wso2.org/claims/lastname": "Directory",
                                           "http://wso2.org/claims/country": "NZ"}) == ["CORP/dave"]
    # PRIMARY's users are found as before; a dead directory leaves its users out and nothing else.
    User.objects.filter(username="bob").update(email="bob@example.com")
    assert services.usernames_with_claims({EMAIL: "bob@example.com"}) == ["bob"]
    UserStore.objects.filter(name="CORP").update(url=f"ldap://127.0.0.1:{free_port()}", timeout_seconds=1)
    assert services.usernames_with_claims({EMAIL: "bob@example.com"}) == ["bob"]
    assert services.usernames_with_claims({EMAIL: "dave@corp.example"}) == []


@pytest.mark.usefixtures("corp")
def test_directory_users_and_unknown_names_answer_in_the_same_time():
    """Timing classes, as for PRIMARY (tests/test_lockout.py): each answer costs one Argon2 computation."""
    import statistics
    import time

    def median(username):
        page, times = SignInPage(), []
        for _ in range(4):
            started = time.perf_counter()
            assert page.attempt(username, "wrong-password") == WRONG
            times.append(time.perf_counter() - started)
        return statistics.median(times)

    medians = {name: median(name) for name in ("carol", "nobody", "CORP/nobody", "bob")}
    reference = medians["nobody"]
    for name, value in medians.items():
        assert 0.5 * reference <= value <= 2 * reference, {k: round(v * 1000) for k, v in medians.items()}


def test_a_second_password_step_asks_a_directory_user_for_the_directory_password(tmp_path, slapd):  # noqa: F811
    """A directory account has no local password, and is not taken for one without a password set up."""
    apply_text(tmp_path, "applications:\n" + public_app("portal", "{1: [BasicAuthenticator], 2: [BasicAuthenticator]}",
                                                        """
        var onLoginRequest = function (context) { executeStep(1); executeStep(2, {stepOptions: {forceAuth: 'true'}}, {}); };
    """) + "user_stores:\n" + store_yaml(slapd))
    page = SignInPage()
    assert page.attempt("carol", "carol-ldap-password") is None  # the second step's password page, no error
    assert "CORP/carol" in page.text
    assert page.attempt("", "wrong-password") == WRONG
    assert page.attempt("", "carol-ldap-password") == "signed in"
