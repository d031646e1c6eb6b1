"""Scripts that branch on the user store (tests/scripts/wso2/userstore_*.js), in simulate and on the server.

The same script takes the same decision both ways: a scenario user placed in
a store (`userStoreDomain`) behaves as the server's user of that store does
(a real slapd behind the CORP store).
"""
import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.core.management import call_command

from authflow.directory.models import User, UserClaim
from sequences.harness.scenario import ScenarioError, parse_scenario
from tests.support.config import public_app
from tests.support.directory_server import slapd, store_yaml  # noqa: F401 (the fixture)
from tests.support.scripts import events, run
from tests.support.signin import SignInPage

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "scripts" / "wso2"
DEPARTMENT = "http://wso2.org/claims/department"
STORE_CLAIM = "http://wso2.org/claims/userstore"
STEPS = {"1": ["BasicAuthenticator"], "2": ["totp"]}


def script(name):
    return (FIXTURES / f"userstore_{name}.js").read_text()


# Scenario users as the test directory and the local store have them (tests/support/ldap/directory.ldif).
USERS = {
    "carol": {"userStoreDomain": "CORP", "groups": ["engineers", "finance"], "roles": ["engineer", "finance-staff"],
              "claims": {"http://wso2.org/claims/emailaddress": "carol@corp.example", DEPARTMENT: "finance"}},
    "dave": {"userStoreDomain": "CORP", "groups": ["engineers"], "roles": ["engineer"],
             "claims": {"http://wso2.org/claims/emailaddress": "dave@corp.example"}},
    "bob": {"claims": {}},
}
# Claims the CORP store maps (read-only for its users), in simulate as on the server.
CORP_CLAIMS = ["http://wso2.org/claims/emailaddress", DEPARTMENT]


def simulate(name, user, more=()):
    outcomes = [{"step": 1, "result": "success", "user": user, "authenticator": "BasicAuthenticator"}, *more]
    return run(script(name), outcomes, steps=STEPS, users=USERS, userStores={"CORP": {"claims": CORP_CLAIMS}})


# ---------------------------------------------------------------- simulate

def test_simulate_places_scenario_users_in_their_store():
    trace = run("""var onLoginRequest = function (context) { executeStep(1, {onSuccess: function (context) {
        var u = context.currentKnownSubject;
        Log.info([u.username, u.userStoreDomain, u.tenantDomain].join(' '));
    }}); };""", [{"step": 1, "result": "success", "user": "carol"}], users=USERS)
    assert trace["status"] == "success" and trace["subject"] == "CORP/carol"
    assert [e["message"] for e in events(trace, "log")] == ["carol CORP carol.super".replace("carol.super",
                                                                                           "carbon.super")]
    # Named either way; a bare name shared by two stores is PRIMARY's, as on a server.
    trace = run("var onLoginRequest = function (c) { executeStep(1); };",
                [{"step": 1, "result": "success", "user": "CORP/carol"}], users=USERS)
    assert trace["subject"] == "CORP/carol"
    both = {"alice": {}, "CORP/alice": {}}
    trace = run("var onLoginRequest = function (c) { executeStep(1); };",
                [{"step": 1, "result": "success", "user": "alice"}], users=both)
    assert trace["subject"] == "alice"


@pytest.mark.parametrize("users, error", [
    ({"carol": {"userStoreDomain": "CORP PARTNERS"}}, "userStoreDomain: expected a user store name"),
    ({"CORP/carol": {"userStoreDomain": "LAB"}}, "is not the store its name gives"),
    ({"carol": {"userStoreDomain": "CORP"}, "CORP/carol": {}}, "another scenario user is 'CORP/carol' too"),
    ({"PRIMARY/x": {}, "x": {}}, "another scenario user is 'x' too"),
])
def test_simulate_refuses_a_store_it_cannot_place(users, error):
    with pytest.raises(ScenarioError, match=error):
        parse_scenario({"application": {"name": "a", "steps": {"1": ["BasicAuthenticator"]}}, "users": users})


@pytest.mark.parametrize("stores, error", [
    ({"PRIMARY": {"claims": []}}, "other than PRIMARY"),
    ({"CORP": {"claims": "http://wso2.org/claims/department"}}, "expected a list of claim URIs"),
    ({"CORP": {"attributes": []}}, "unknown key 'attributes'"),
])
def test_simulate_refuses_bad_user_stores(stores, error):
    with pytest.raises(ScenarioError, match=error):
        parse_scenario({"application": {"name": "a", "steps": {"1": ["BasicAuthenticator"]}}, "userStores": stores})


def test_step_up_by_store_in_simulate():
    corp = simulate("step_up", "carol", [{"step": 2, "result": "success", "user": "carol", "authenticator": "totp"}])
    assert corp["status"] == "success" and [e["step"] for e in events(corp, "step")] == [1, 2]
    local = simulate("step_up", "bob")
    assert local["status"] == "success" and [e["step"] for e in events(local, "step")] == [1]


def test_access_by_directory_group_in_simulate():
    carol = simulate("access_by_group", "carol")
    assert carol["status"] == "success" and carol["claims"][STORE_CLAIM] == "CORP"
    dave = simulate("access_by_group", "dave")
    assert dave["status"] == "failed"
    assert events(dave, "fail")[0]["params"]["errorCode"] == "access_denied"
    bob = simulate("access_by_group", "bob")
    assert bob["status"] == "success" and bob["claims"][STORE_CLAIM] == "PRIMARY"


def test_profile_defaults_in_simulate_the_directory_refuses_its_claims():
    dave = simulate("profile_defaults", "dave")
    (effect,) = [e for e in events(dave, "effect") if e["name"] == "setLocalClaim"]
    assert effect["result"] is False  # dave's store holds the department: read-only
    assert dave["claims"][DEPARTMENT] == "unassigned"
    bob = simulate("profile_defaults", "bob")
    (effect,) = [e for e in events(bob, "effect") if e["name"] == "setLocalClaim"]
    assert effect["result"] is True and DEPARTMENT not in bob.get("claims", {})
    carol = simulate("profile_defaults", "carol")
    assert not events(carol, "effect")


def test_writes_to_a_read_only_store_return_false_in_simulate():
    source = """var onLoginRequest = function (context) { executeStep(1, {onSuccess: function (context) {
        var user = context.currentKnownSubject;
        Log.info('password ' + updateUserPassword(user, 'Another-long-Passw0rd'));
        Log.info('remove ' + removeUserRoles(user, ['finance-staff']));
        Log.info('assign ' + assignUserRoles(user, ['auditor']));
        user.localClaims['http://wso2.org/claims/emailaddress'] = 'x@example.com';
        Log.info('email ' + user.localClaims['http://wso2.org/claims/emailaddress']);
    }}); };"""
    trace = run(source, [{"step": 1, "result": "success", "user": "carol"}], users=USERS)
    assert [e["message"] for e in events(trace, "log")] == [
        "password false", "remove false", "assign true", "email carol@corp.example"]


def test_manage_py_simulate_takes_user_store_domain(tmp_path):
    scenario_path = tmp_path / "corp.json"
    scenario_path.write_text(json.dumps({
        "application": {"name": "portal", "steps": STEPS},
        "users": {"carol": {"userStoreDomain": "corp"}},
        "outcomes": [{"step": 1, "result": "success", "user": "carol"}],
    }))
    result = subprocess.run([sys.executable, "manage.py", "simulate", str(FIXTURES / "userstore_step_up.js"),
                             "--scenario", str(scenario_path)], capture_output=True, text=True, cwd=ROOT,
                            env=dict(os.environ, DJANGO_SETTINGS_MODULE="tests.settings"), timeout=120)
    assert result.returncode == 0, result.stderr
    trace = json.loads(result.stdout)
    assert trace["status"] == "waiting" and trace["events"][-1]["step"] == 2


# ---------------------------------------------------------------- on the server

def deploy(tmp_path, directory, name):
    config = ("roles: [finance-staff, engineer, auditor]\napplications:\n"
              + public_app("portal", "{1: [BasicAuthenticator], 2: [totp]}", script(name))
              + textwrap.dedent("""
                users:
                  - {username: bob, password: "bob-primary-password"}
                """) + "user_stores:\n" + store_yaml(directory))
    path = tmp_path / "config.yaml"
    path.write_text(config)
    call_command("apply", "-f", str(path), stdout=io.StringIO())


@pytest.mark.django_db
def test_step_up_by_store_on_the_server(tmp_path, slapd):  # noqa: F811
    deploy(tmp_path, slapd, "step_up")
    assert SignInPage().attempt("bob", "bob-primary-password") == "signed in"
    page = SignInPage()
    assert page.attempt("carol", "carol-ldap-password") == "page 200"  # not signed in: the second step's page
    assert "authenticator app" in page.text.lower(), page.text[:2000]


@pytest.mark.django_db
def test_access_by_directory_group_on_the_server(tmp_path, slapd):  # noqa: F811
    deploy(tmp_path, slapd, "access_by_group")
    assert SignInPage().attempt("carol", "carol-ldap-password") == "signed in"
    assert SignInPage().attempt("bob", "bob-primary-password") == "signed in"
    refused = SignInPage().attempt("CORP/dave", "dave-ldap-password")
    assert refused.startswith("back to the application: ") and "error=access_denied" in refused
    assert "Directory+accounts+need+a+finance+or+auditors+group" in refused


@pytest.mark.django_db
def test_profile_defaults_on_the_server_the_directory_keeps_its_claims(tmp_path, slapd):  # noqa: F811
    deploy(tmp_path, slapd, "profile_defaults")
    assert SignInPage().attempt("dave", "dave-ldap-password") == "signed in"
    assert SignInPage().attempt("bob", "bob-primary-password") == "signed in"
    assert not UserClaim.objects.filter(user__username="CORP/dave", uri=DEPARTMENT).exists()
    assert UserClaim.objects.get(user__username="bob", uri=DEPARTMENT).value == "unassigned"
    assert User.objects.get(username="CORP/dave").user_store == "CORP"


READ_ONLY_PROBE = """
var onLoginRequest = function (context) {
    executeStep(1, {onSuccess: function (context) {
        var user = context.currentKnownSubject;
        var wrote = [];
        if (updateUserPassword(user, 'Another-long-Passw0rd!')) { wrote.push('password'); }
        user.localClaims['http://wso2.org/claims/emailaddress'] = 'someone@else.example';
        if (user.localClaims['http://wso2.org/claims/emailaddress'] === 'someone@else.example') { wrote.push('email'); }
        if (wrote.length > 0) { fail({'errorCode': 'wrote', 'errorMessage': wrote.join(' ')}); }
    }});
};
"""


@pytest.mark.django_db
def test_writes_to_a_read_only_store_return_false_on_the_server(tmp_path, slapd):  # noqa: F811
    config = ("applications:\n" + public_app("portal", "{1: [BasicAuthenticator]}", READ_ONLY_PROBE)
              + "users:\n  - {username: bob, password: \"bob-primary-password\", email: bob@example.com}\n"
              + "user_stores:\n" + store_yaml(slapd))
    (tmp_path / "c.yaml").write_text(config)
    call_command("apply", "-f", str(tmp_path / "c.yaml"), stdout=io.StringIO())
    assert SignInPage().attempt("carol", "carol-ldap-password") == "signed in"  # nothing was written
    assert User.objects.get(username="CORP/carol").email == "carol@corp.example"
    # The same script on a PRIMARY account: both writes succeed, and the script refuses the login.
    refused = SignInPage().attempt("bob", "bob-primary-password")
    assert refused.startswith("back to the application: error=wrote") and "password+email" in refused, refused
    assert User.objects.get(username="bob").email == "someone@else.example"


def test_a_federated_user_is_linked_to_an_account_of_a_named_store_in_simulate():
    source = """var onLoginRequest = function (context) { executeStep(1, {onSuccess: function (context) {
        var federated = context.currentKnownSubject;
        Log.info('linked ' + doAssociationWithLocalUser(federated, 'carol', 'carbon.super', 'corp'));
        var local = getAssociatedLocalUser(federated);
        Log.info(local.username + ' of ' + local.userStoreDomain);
    }}); };"""
    google = {"idp": "google", "authenticator": "OpenIDConnectAuthenticator"}
    trace = run(source, [{"step": 1, "result": "success", "user": "g-123", **google}], steps={"1": [google]},
                users=USERS)
    (effect,) = events(trace, "effect")
    assert effect["args"] == ["google", "g-123", "CORP/carol"] and effect["result"] is True
    assert [e["message"] for e in events(trace, "log")] == ["linked true", "carol of CORP"]
