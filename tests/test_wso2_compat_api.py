"""The WSO2 script API's less common parts, with the reference's semantics: on the real engine (through the
simulate harness) and, for what the server answers, through a login on a live server.

Fixture scripts written in the style of the reference's templates live in tests/scripts/wso2/api_*.js; each is
shown taking the reference's decision on its main and its alternative path.
"""
import io
import textwrap
import uuid
from pathlib import Path

import pytest
import requests
from django.core.management import call_command

from authflow import cookies
from authflow.directory.models import User
from sequences.harness.scenario import simulated_unique_id
from tests.support.config import public_app
from tests.support.scripts import events, logs, ok, run
from tests.support.http_server import ScriptedServer
from tests.support.worker import mail_worker, worker  # noqa: F401  (fixtures)
from tests.test_script_api import Login

FIXTURES = Path(__file__).parent / "scripts" / "wso2"


def fixture(name: str) -> str:
    return (FIXTURES / f"api_{name}.js").read_text()


USERS = textwrap.dedent("""
    users:
      - {username: alice, password: "alice-password-123", email: alice@example.com, claims: {"http://wso2.org/claims/mobile": "+15550100"},
         roles: [admin]}
      - {username: bob, password: "bob-password-12345", email: bob@example.com}
""")
ROLES = "roles: [admin, auditor]\n"


@pytest.fixture
def site(live_server, tmp_path):
    def configure(*apps):
        path = tmp_path / "config.yaml"
        path.write_text(ROLES + "applications:\n" + "".join(apps) + USERS)
        call_command("apply", "-f", str(path), stdout=io.StringIO())
        discovery = requests.get(live_server.url + "/o/.well-known/openid-configuration", timeout=30).json()
        return live_server.url, discovery
    return configure


def signed_in(site, steps, script, **authorize):
    """A login through the password step; returns (login, the page it ended on)."""
    base, discovery = site(public_app("portal", steps, script))
    login = Login(base, discovery, "portal")
    login.authorize(prompt="login", **authorize)
    return login, login.password()


# ------------------------------------------------------------------ 1. user.uniqueId, user.identifier


IDENTITY = """
var onLoginRequest = function (context) {
    executeStep(1, {onSuccess: function (context) {
        var user = context.steps[1].subject;
        user.claims['http://example.com/claims/ids'] = [user.uniqueId, user.identifier,
            context.steps[1].subject.authenticatedSubjectIdentifier, typeof user.uniqueId].join('|');
    }});
};
"""


def test_unique_id_and_identifier_in_a_real_login(site):
    login, done = signed_in(site, "{1: [BasicAuthenticator]}", IDENTITY)
    alice = User.objects.get(username="alice")
    assert isinstance(alice.unique_id, uuid.UUID)
    assert login.id_token(done)["http://example.com/claims/ids"] == f"{alice.unique_id}|alice|alice|string"
    assert User.objects.get(username="bob").unique_id != alice.unique_id


def test_unique_id_is_stable_across_logins_and_a_username_change(site):
    login, done = signed_in(site, "{1: [BasicAuthenticator]}", IDENTITY)
    first = login.id_token(done)["http://example.com/claims/ids"].split("|")[0]
    User.objects.filter(username="alice").update(username="alice2")
    again = Login(None, login.discovery, "portal", browser=login.browser)
    again.authorize(prompt="login")
    done = again.password(user="alice2")
    assert again.id_token(done)["http://example.com/claims/ids"].split("|")[:2] == [first, "alice2"]


def test_simulated_users_have_a_stable_unique_id_unless_the_scenario_gives_one():
    script = "var onLoginRequest = function (c) { executeStep(1, {onSuccess: function (c) {" \
             " Log.info(c.currentKnownSubject.uniqueId + ' ' + c.currentKnownSubject.identifier); }}); };"
    default = run(script, [ok(1)])
    assert logs(default) == [f"{simulated_unique_id('alice')} alice"]
    assert logs(run(script, [ok(1)])) == logs(default)  # the same on every run
    assert simulated_unique_id("bob") != simulated_unique_id("alice")
    given = "9b2f4d36-54f1-4a43-9ad6-0a1f38c8a0b7"
    users = {"alice": {"roles": [], "groups": [], "claims": {}, "uniqueId": given}}
    assert logs(run(script, [ok(1)], users=users)) == [f"{given} alice"]


def test_a_scenario_unique_id_must_be_a_uuid():
    from sequences.harness.scenario import ScenarioError

    users = {"alice": {"roles": [], "groups": [], "claims": {}, "uniqueId": "not-a-uuid"}}
    with pytest.raises(ScenarioError, match="users.alice.uniqueId: expected a UUID"):
        run("var onLoginRequest = function (c) { executeStep(1); };", [ok(1)], users=users)


def test_new_device_template_steps_up_only_without_this_accounts_device_cookie():
    script = fixture("new_device")
    alice_id = simulated_unique_id("alice")
    # main path: no device cookie -> the second factor, then the device is remembered
    new = run(script, [ok(1), ok(2, authenticator="totp")])
    assert [e["step"] for e in events(new, "step")] == [1, 2] and new["status"] == "success"
    [remembered] = [e for e in events(new, "effect") if e["name"] == "setCookie"]
    assert remembered["args"][0] == f"deviceAuth-{alice_id}" and remembered["result"] is True
    # alternative path: this account's cookie, encrypted by the server -> the password is enough
    cookie = {f"deviceAuth-{alice_id}": {"value": alice_id, "encrypt": True}}
    request = {"ip": "203.0.113.9", "headers": {}, "params": {}, "cookies": cookie}
    known = run(script, [ok(1)], request=request)
    assert [e["step"] for e in events(known, "step")] == [1] and known["status"] == "success"
    assert logs(known) == [f"Known device for user {alice_id}: no second factor."]
    # bob's login in alice's browser: not his device
    other = run(script, [ok(1, "bob")], request=request)
    assert [e["step"] for e in events(other, "step")] == [1, 2]
    # a cookie the browser wrote itself (not encrypted by the server) does not count
    forged = {"ip": "203.0.113.9", "headers": {}, "params": {},
              "cookies": {f"deviceAuth-{alice_id}": alice_id}}
    assert [e["step"] for e in events(run(script, [ok(1)], request=forged), "step")] == [1, 2]


def test_new_device_template_on_the_server(site):
    steps = "{1: [BasicAuthenticator], 2: [totp]}"
    login, page = signed_in(site, steps, fixture("new_device"))
    assert page.callback is None and "authenticator app" in page.text  # a new device: the second factor
    alice = User.objects.get(username="alice")
    name = f"deviceAuth-{alice.unique_id}"
    domain = next(c.domain for c in login.browser.session.cookies)
    login.browser.session.cookies.set(name, cookies.encode(name, str(alice.unique_id), encrypt=True),
                                      domain=domain, path="/")
    again = Login(None, login.discovery, "portal", browser=login.browser)
    again.authorize(prompt="login")
    done = again.password()
    assert done.callback and "code=" in done.callback  # this account's device: the password was enough
    bob = Login(None, login.discovery, "portal", browser=login.browser)
    bob.authorize(prompt="login")
    page = bob.password(user="bob", secret="bob-password-12345")
    assert page.callback is None and "authenticator app" in page.text  # alice's device is not bob's


# ------------------------------------------------------------------ 2. the context: steps[n].options, currentStep,
# retrying, lastLoginFailedUser, tenantDomain

PASSKEY_STEPS = {"1": ["FIDOAuthenticator", "BasicAuthenticator", "email-otp"]}


def options(*names):
    return [{"authenticator": name, "idp": "LOCAL"} for name in names]


def test_passkey_enrollment_offers_the_other_options_then_the_passkey_alone():
    script = fixture("passkey_enrollment")
    enrol = run(script, [{"step": 1, "result": "fail", "params": {"scenario": "INIT_FIDO_ENROLL"}},
                         ok(1, authenticator="BasicAuthenticator"), ok(1, authenticator="FIDOAuthenticator")],
                steps=PASSKEY_STEPS)
    shown = events(enrol, "step")
    assert [s["options"] for s in shown] == [options("FIDOAuthenticator", "BasicAuthenticator", "email-otp"),
                                             options("BasicAuthenticator", "email-otp"),
                                             options("FIDOAuthenticator")]
    assert shown[1]["stepOptions"] == {"markAsSubjectIdentifierStep": True}
    assert shown[2]["stepOptions"] == {"forceAuth": True}
    assert shown[2]["authenticatorParams"] == {"local": {"FIDOAuthenticator": {"enrollPasskey": "true"}}}
    assert enrol["status"] == "success" and enrol["subject"] == "alice"
    # alternative paths: a plain failure ends the login; a plain sign-in needs nothing more
    failed = run(script, [{"step": 1, "result": "fail"}], steps=PASSKEY_STEPS)
    assert failed["status"] == "failed" and logs(failed) == ["The 3-option step failed without an enrollment request."]
    direct = run(script, [ok(1, authenticator="FIDOAuthenticator")], steps=PASSKEY_STEPS)
    assert len(events(direct, "step")) == 1 and direct["status"] == "success"


def test_step_options_are_the_configured_ones_until_the_step_runs_then_the_offered_ones():
    script = """
    var onLoginRequest = function (context) {
        Log.info(JSON.stringify(context.steps[2].options));
        context.steps[2].options.push({authenticator: 'x'});  // a copy: changes nothing the engine offers
        executeStep(1, {onSuccess: function (context) {
            executeStep(2, {authenticationOptions: [{authenticator: 'totp'}]}, {onSuccess: function (context) {
                Log.info(JSON.stringify(context.steps[2].options) + ' ' + context.steps[1].options.length);
            }});
        }});
    };"""
    trace = run(script, [ok(1), ok(2, authenticator="totp")])
    assert logs(trace) == ['[{"authenticator":"totp","idp":"LOCAL"},{"authenticator":"email-otp","idp":"LOCAL"}]',
                           '[{"authenticator":"totp","idp":"LOCAL"}] 1']
    assert events(trace, "step")[1]["options"] == options("totp")


def test_current_step_retrying_and_the_last_failed_user():
    script = """
    var onLoginRequest = function (context) {
        Log.info('before ' + context.currentStep + ' ' + context.retrying + ' ' + context.lastLoginFailedUser);
        Log.info(context.steps[1] === context.steps[1] && context.currentStep === null);
        password(context);
    };
    var password = function (context) {
        executeStep(1, {
            onSuccess: function (context) {
                var step = context.currentStep;
                Log.info('ok ' + (step === context.steps[1]) + ' ' + step.subject.username + ' ' + step.authenticator +
                         ' ' + context.retrying + ' ' + context.retry);
                executeStep(2, {onSuccess: function (context) {
                    Log.info('then ' + (context.currentStep === context.steps[2]) + ' ' + context.currentStep.authenticator);
                }});
            },
            onFail: function (context) {
                var who = context.lastLoginFailedUser;
                Log.info('fail ' + (context.currentStep === context.steps[1]) + ' ' + context.currentStep.subject + ' ' +
                         context.retrying + ' ' + context.retry + ' ' +
                         (who ? who.username + ' ' + hasRole(who, 'admin') : 'nobody'));
                password(context);
            }
        });
    };"""
    trace = run(script, [failed_for("alice"), ok(1, "bob"), ok(2, "bob", authenticator="totp")])
    assert logs(trace) == ["before null false null", "true", "fail true null true true alice true",
                           "ok true bob BasicAuthenticator false false", "then true totp"]
    unknown = run(script, [{"step": 1, "result": "fail"}, ok(1), ok(2, authenticator="totp")])
    assert logs(unknown)[2] == "fail true null true true nobody"


def failed_for(user):
    return {"step": 1, "result": "fail", "user": user, "params": {"username": user}}


def test_tenant_domain_is_the_servers_setting(settings):
    script = """
    var onLoginRequest = function (context) {
        executeStep(1, {onSuccess: function (context) {
            Log.info(context.tenantDomain + ' ' + context.currentKnownSubject.tenantDomain);
        }});
    };"""
    assert logs(run(script, [ok(1)])) == ["carbon.super carbon.super"]
    settings.AUTHFLOW_TENANT_DOMAIN = "example.org"
    assert logs(run(script, [ok(1)])) == ["example.org example.org"]


def test_failed_attempt_template_steps_up_after_a_privileged_accounts_failure():
    script = fixture("failed_attempt_step_up")
    guessed = run(script, [failed_for("alice"), ok(1, "bob"), ok(2, "bob", authenticator="totp")])
    assert [e["step"] for e in events(guessed, "step")] == [1, 1, 2] and guessed["status"] == "success"
    assert events(guessed, "step")[1]["responseHeaders"] == {"X-Failed-For": "alice"}
    # alternative paths: a failure for an unprivileged account, or none at all, needs the password only
    typo = run(script, [failed_for("bob"), ok(1, "bob")])
    assert [e["step"] for e in events(typo, "step")] == [1, 1] and typo["status"] == "success"
    assert [e["step"] for e in events(run(script, [ok(1)]), "step")] == [1]


def test_failed_attempt_template_on_the_server(site, settings):
    settings.AUTHFLOW_TENANT_DOMAIN = "example.org"
    base, discovery = site(public_app("portal", "{1: [BasicAuthenticator], 2: [totp]}",
                                      fixture("failed_attempt_step_up")))
    login = Login(base, discovery, "portal")
    login.authorize(prompt="login")
    again = login.password(secret="not-the-password")
    assert again.callback is None and login.browser.header("X-Failed-For") == "alice"
    page = login.password()
    assert page.callback is None and "authenticator app" in page.text  # stepped up
    # bob mistypes: no step-up; a name no account has is not named to the script
    login = Login(base, discovery, "portal")
    login.authorize(prompt="login")
    login.password(user="nobody-here", secret="whatever-1234")
    assert login.browser.header("X-Failed-For") == "unknown"
    login.password(user="bob", secret="wrong-wrong-wrong")
    assert login.browser.header("X-Failed-For") == "bob"
    done = login.password(user="bob", secret="bob-password-12345")
    assert done.callback and "code=" in done.callback


def test_context_fields_on_the_server(site, settings):
    settings.AUTHFLOW_TENANT_DOMAIN = "example.org"
    script = """
    var onLoginRequest = function (context) {
        executeStep(1, {onSuccess: function (context) {
            context.currentKnownSubject.claims['http://example.com/claims/ctx'] = [context.tenantDomain,
                context.currentKnownSubject.tenantDomain, context.currentStep.authenticator, context.retrying,
                JSON.stringify(context.steps[2].options)].join('|');
        }});
    };"""
    login, done = signed_in(site, "{1: [BasicAuthenticator], 2: [totp, email-otp]}", script)
    assert login.id_token(done)["http://example.com/claims/ctx"] == (
        'example.org|example.org|BasicAuthenticator|false|[{"authenticator":"totp","idp":"LOCAL"},'
        '{"authenticator":"email-otp","idp":"LOCAL"}]')


# ------------------------------------------------------------------ 3. hasAnyOfTheRolesV2, resolveMultiAttributeLoginIdentifier,
# updateUserPassword's handlers

EMAIL = "http://wso2.org/claims/emailaddress"
MOBILE = "http://wso2.org/claims/mobile"
ANY_IDENTIFIER = ["http://wso2.org/claims/username", EMAIL, MOBILE]


def test_role_template_with_has_any_of_the_roles_v2():
    script = fixture("role_step_up")
    admin = run(script, [ok(1, "alice"), ok(2, "alice", authenticator="totp")])
    assert [e["step"] for e in events(admin, "step")] == [1, 2] and admin["status"] == "success"
    assert logs(admin) == ["alice holds a role that needs a second factor."]
    plain = run(script, [ok(1, "bob")])
    assert [e["step"] for e in events(plain, "step")] == [1] and plain["status"] == "success"


def test_has_any_of_the_roles_v2_reads_the_last_authenticated_user_and_needs_the_context():
    script = """
    var onLoginRequest = function (context) {
        Log.info('before: ' + hasAnyOfTheRolesV2(context, ['admin']));
        executeStep(1, {onSuccess: function (context) {
            context.currentKnownSubject = null;  // the script's own field: not what the check reads
            Log.info('after: ' + hasAnyOfTheRolesV2(context, ['auditor', 'admin']) + ' ' +
                     hasAnyOfTheRolesV2(context, 'admin') + ' ' + hasAnyOfTheRolesV2(context, ['auditor']));
            assignUserRoles(context.steps[1].subject, ['auditor']);
            Log.info('assigned: ' + hasAnyOfTheRolesV2(context, ['auditor']));
            hasAnyOfTheRolesV2(context.steps[1].subject, ['admin']);
        }});
    };"""
    trace = run(script, [ok(1)])
    assert logs(trace) == ["before: false", "after: true true false", "assigned: true"]
    federated = "var onLoginRequest = function (c) { executeStep(3, {onSuccess: function (c) {" \
                " Log.info(hasAnyOfTheRolesV2(c, ['admin']) + ' ' + hasRole(c.currentKnownSubject, 'admin')); }}); };"
    assert logs(run(federated, [ok(3, "alice", idp="google")])) == ["false true"]
    assert trace["status"] == "error"
    assert "hasAnyOfTheRolesV2: the first argument must be the context" in events(trace, "error")[0]["message"]


def test_role_template_on_the_server(site):
    steps = "{1: [BasicAuthenticator], 2: [totp]}"
    login, page = signed_in(site, steps, fixture("role_step_up"))
    assert page.callback is None and "authenticator app" in page.text  # alice is an admin
    bob = Login(None, login.discovery, "portal")
    bob.authorize(prompt="login")
    done = bob.password(user="bob", secret="bob-password-12345")
    assert done.callback and "code=" in done.callback


def identifier_users():
    return {"alice": {"roles": [], "groups": [], "claims": {EMAIL: "alice@example.com", MOBILE: "+15550100"}},
            "bob": {"roles": [], "groups": [], "claims": {EMAIL: "bob@example.com", MOBILE: "+15550100"}},
            "carol@example.com": {"roles": [], "groups": [], "claims": {}},
            "dave": {"roles": [], "groups": [], "claims": {EMAIL: "carol@example.com"}}}


def typed(identifier):
    return {"prompt": "identifierForStep", "params": {"username": identifier}}


def fixed_username(trace):
    return events(trace, "step")[0]["authenticatorParams"]["common"]["username"]


def test_multi_attribute_login_resolves_an_allowed_attribute_naming_one_account(settings):
    settings.AUTHFLOW_LOGIN_IDENTIFIER_ATTRIBUTES = ANY_IDENTIFIER
    script = fixture("multi_attribute_login")
    by_email = run(script, [typed("alice@example.com"), ok(1, "alice")], users=identifier_users())
    assert fixed_username(by_email) == "alice" and by_email["status"] == "success"
    assert logs(by_email) == ["Signing in with an alternative identifier."]
    by_name = run(script, [typed("bob")], users=identifier_users())
    assert fixed_username(by_name) == "bob" and logs(by_name) == []
    # alternative paths: several accounts (a shared mobile number, an email that is another's username), or none
    for identifier in ("+15550100", "carol@example.com", "nobody@example.com", ""):
        trace = run(script, [typed(identifier)], users=identifier_users())
        assert fixed_username(trace) == identifier and logs(trace) == []
    # only the attributes the server allows identify
    settings.AUTHFLOW_LOGIN_IDENTIFIER_ATTRIBUTES = ["http://wso2.org/claims/username"]
    assert fixed_username(run(script, [typed("alice@example.com")], users=identifier_users())) == "alice@example.com"


def test_resolve_checks_the_tenant_domain(settings):
    script = """
    var onLoginRequest = function (context) {
        Log.info([resolveMultiAttributeLoginIdentifier('alice@example.com', 'carbon.super'),
                  resolveMultiAttributeLoginIdentifier(' alice@example.com '),
                  resolveMultiAttributeLoginIdentifier('alice@example.com', 'other.example'),
                  resolveMultiAttributeLoginIdentifier(42)].join('|'));
        executeStep(1);
    };"""
    settings.AUTHFLOW_LOGIN_IDENTIFIER_ATTRIBUTES = ANY_IDENTIFIER
    assert logs(run(script, [ok(1)])) == ["alice|alice|alice@example.com|"]


def test_multi_attribute_login_on_the_server(site, settings):
    settings.AUTHFLOW_LOGIN_IDENTIFIER_ATTRIBUTES = ANY_IDENTIFIER
    base, discovery = site(public_app("portal", "{1: [BasicAuthenticator]}", fixture("multi_attribute_login")))
    for identifier in ("alice@example.com", "+15550100", "alice"):
        login = Login(base, discovery, "portal")
        login.authorize(prompt="login")
        page = login.browser.submit({"username": identifier, "action": "success"})
        assert "Signing in as" in page.text and "alice" in page.text
        done = login.browser.submit({"password": "alice-password-123"})
        assert login.id_token(done)["sub"]
    # the server allows usernames only: the email address goes on as typed, and no account has that name
    settings.AUTHFLOW_LOGIN_IDENTIFIER_ATTRIBUTES = ["http://wso2.org/claims/username"]
    login = Login(base, discovery, "portal")
    login.authorize(prompt="login")
    login.browser.submit({"username": "alice@example.com", "action": "success"})
    page = login.browser.submit({"password": "alice-password-123"})
    assert page.callback is None and "not correct" in page.text


RESET = "http://example.com/claims/passwordResetRequired"


def test_forced_password_reset_template():
    script = fixture("forced_password_reset")
    users = {"alice": {"roles": [], "groups": [], "claims": {RESET: "true"}}, "bob": {"roles": [], "groups": [], "claims": {}}}
    new_password = {"prompt": "genericForm", "params": {"newPassword": "a-long-and-fresh-passphrase-7"}}
    weak = {"prompt": "genericForm", "params": {"newPassword": "short"}}
    trace = run(script, [ok(1), weak, new_password], users=users)
    assert logs(trace) == ["The new password was refused for alice", "Password renewed for alice"]
    assert [e["name"] for e in events(trace, "effect")] == ["updateUserPassword", "updateUserPassword", "setLocalClaim"]
    assert [e["result"] for e in events(trace, "effect")] == [False, True, True]
    assert all(e["args"][1] == "[redacted]" for e in events(trace, "effect") if e["name"] == "updateUserPassword")
    assert len(events(trace, "prompt")) == 2 and trace["status"] == "success"
    # alternative path: an account without the flag signs in directly
    plain = run(script, [ok(1, "bob")], users=users)
    assert events(plain, "prompt") == [] and plain["status"] == "success"


def test_forced_password_reset_on_the_server(site):
    from authflow.directory.services import set_local_claim, user_snapshot

    base, discovery = site(public_app("portal", "{1: [BasicAuthenticator]}", fixture("forced_password_reset")))
    assert set_local_claim("alice", RESET, "true")
    login = Login(base, discovery, "portal")
    login.authorize(prompt="login")
    page = login.password()
    assert 'name="newPassword"' in page.text and 'type="password"' in page.text
    page = login.browser.submit({"newPassword": "password", "action": "success"})  # too common: asked again
    assert page.callback is None and 'name="newPassword"' in page.text
    done = login.browser.submit({"newPassword": "a-long-and-fresh-passphrase-7", "action": "success"})
    assert done.callback and "code=" in done.callback
    alice = User.objects.get(username="alice")
    assert alice.check_password("a-long-and-fresh-passphrase-7")
    assert user_snapshot("alice")["claims"][RESET] == "false"


# ------------------------------------------------------------------ 4. secrets.<name>

RISK_KEY = "rk-live-8f2a91c4d7"


def test_risk_template_sends_the_secret_and_never_shows_it():
    script = fixture("risk_api_key")
    secrets = {"riskApiKey": RISK_KEY}
    allowed = ["https://risk.example.com/api"]
    risky = run(script, [ok(1), {"call": "httpPost", "result": "success", "data": {"score": 80}},
                         ok(2, authenticator="totp")], secrets=secrets, allowedEndpoints=allowed)
    [call] = events(risky, "call")
    assert call["headers"] == {"X-API-Key": "***", "Accept": "application/json"}  # the server's rules mask it
    assert call["body"] == {"user": simulated_unique_id("alice"), "ip": "203.0.113.9"}
    assert logs(risky) == ["Asking the risk service with key [secret]", "Risk score 80: second factor."]
    assert RISK_KEY not in repr(risky) and risky["status"] == "success"
    # alternative paths: a low score needs the password only; no answer means the second factor
    calm = run(script, [ok(1), {"call": "httpPost", "result": "success", "data": {"score": 10}}], secrets=secrets,
               allowedEndpoints=allowed)
    assert [e["step"] for e in events(calm, "step")] == [1] and calm["status"] == "success"
    down = run(script, [ok(1), {"call": "httpPost", "result": "fail", "data": {}}, ok(2, authenticator="totp")],
               secrets=secrets, allowedEndpoints=allowed)
    assert [e["step"] for e in events(down, "step")] == [1, 2]
    # a risk service the server does not allow: refused as on the server, and the login steps up
    refused = run(script, [ok(1), ok(2, authenticator="totp")], secrets=secrets)
    assert events(refused, "call")[0]["refused"] and [e["step"] for e in events(refused, "step")] == [1, 2]


def test_secrets_object_reads_by_name_and_lists_nothing():
    script = """
    var onLoginRequest = function (context) {
        Log.info([secrets.apiKey === getSecretByName('apiKey'), secrets.missing, 'apiKey' in secrets,
                  'missing' in secrets, Object.keys(secrets).length, secrets['../etc'], JSON.stringify(secrets)].join(' '));
        try { secrets.apiKey = 'x'; } catch (e) { Log.info(e.name); }
        Log.info(secrets.apiKey.length);
        throw new Error('failed with ' + secrets.apiKey);
    };"""
    trace = run(script, secrets={"apiKey": "k-0123456789"})
    assert logs(trace) == ["true  true false 0  {}", "TypeError", "12"]
    assert events(trace, "error")[0]["message"] == "Error: failed with [secret]"
    assert "k-0123456789" not in repr(trace)


def test_secrets_on_the_server_come_from_the_vault_and_stay_out_of_logs_and_state(site, caplog):
    import logging

    from authflow.flows.models import LoginFlow
    from authflow.vault.models import Secret

    secret = Secret(name="riskApiKey")
    secret.set_value(RISK_KEY)
    secret.save()
    script = """
    var onLoginRequest = function (context) {
        executeStep(1, {onSuccess: function (context) {
            Log.info('key ' + secrets.riskApiKey);
            context.currentKnownSubject.claims['http://example.com/claims/key'] =
                getMaskedValue(secrets.riskApiKey) + '|' + secrets.nothing;
        }});
    };"""
    with caplog.at_level(logging.DEBUG):
        login, done = signed_in(site, "{1: [BasicAuthenticator]}", script)
    assert login.id_token(done)["http://example.com/claims/key"] == "r****************7|null"
    assert "key [secret]" in caplog.text and RISK_KEY not in caplog.text
    assert RISK_KEY not in str(LoginFlow.objects.get().state)


def test_risk_template_on_the_server_calls_with_the_vaults_key(site, worker):  # noqa: F811
    import time

    from authflow.flows.models import LoginFlow
    from authflow.outbound.models import AllowedEndpoint, OutboundCall
    from authflow.vault.models import Secret

    remote = ScriptedServer().start()
    try:
        AllowedEndpoint.objects.create(url=remote.url("/api"), description="the risk service")
        secret = Secret(name="riskApiKey")
        secret.set_value(RISK_KEY)
        secret.save()

        def login_with_score(score):
            script = fixture("risk_api_key").replace("https://risk.example.com/api/score",
                                                     remote.url(f"/api/score?score={score}"))
            base, discovery = site(public_app("portal", "{1: [BasicAuthenticator], 2: [totp]}", script))
            login = Login(base, discovery, "portal")
            login.authorize(prompt="login")
            page = login.password()
            deadline = time.monotonic() + 20
            while "Checking your sign-in" in page.text:  # the waiting page, until the worker answered
                assert time.monotonic() < deadline
                time.sleep(0.2)
                page = login.browser.get(page.url)
            return page

        risky = login_with_score(80)
        assert risky.callback is None and "authenticator app" in risky.text  # stepped up
        [seen] = remote.requests(lambda r: r.path == "/api/score")
        assert seen.headers["X-API-Key"] == RISK_KEY and seen.json()["user"] == str(User.objects.get(
            username="alice").unique_id)
        calm = login_with_score(10)
        assert calm.callback and "code=" in calm.callback
        stored = str(list(LoginFlow.objects.values_list("state", "pending"))) + str(
            list(OutboundCall.objects.values()))
        assert RISK_KEY not in stored
    finally:
        remote.stop()


# ------------------------------------------------------------------ 5. sendError('', {status, statusMsg})

DOB = "http://wso2.org/claims/dob"


def test_age_template_refuses_minors_with_its_own_message():
    script = fixture("age_restriction")
    users = {"alice": {"roles": [], "groups": [], "claims": {DOB: "2008-05-02"}},
             "bob": {"roles": [], "groups": [], "claims": {DOB: "2008-05-01"}},
             "carol": {"roles": [], "groups": [], "claims": {}}}
    minor = run(script, [ok(1, "alice")], users=users, now="2026-05-01T10:00:00Z")  # one day short of 18
    assert minor["status"] == "failed"
    assert events(minor, "sendError") == [{"type": "sendError", "url": "", "params": {
        "status": "Access restricted", "statusMsg": "You must be at least 18 years old to use portal."}}]
    adult = run(script, [ok(1, "bob")], users=users, now="2026-05-01T10:00:00Z")  # 18 today
    assert adult["status"] == "success"
    unknown = run(script, [ok(1, "carol")], users=users)
    assert unknown["status"] == "failed" and events(unknown, "sendError")


def test_age_template_on_the_server_shows_the_scripts_message(site):
    from authflow.directory.services import set_local_claim

    base, discovery = site(public_app("portal", "{1: [BasicAuthenticator]}", fixture("age_restriction")))
    assert set_local_claim("alice", DOB, "1990-01-31")
    login = Login(base, discovery, "portal")
    login.authorize(prompt="login")
    assert login.password().callback
    bob = Login(base, discovery, "portal")
    bob.authorize(prompt="login")
    page = bob.password(user="bob", secret="bob-password-12345")
    assert page.status_code == 403 and page.callback is None
    assert "<h1 id=\"page-title\">Access restricted</h1>" in page.text
    assert "You must be at least 18 years old to use portal." in page.text
    assert "The sign-in was refused." not in page.text


def test_an_error_message_from_a_script_is_escaped_and_capped(site):
    script = """
    var onLoginRequest = function (context) {
        executeStep(1, {onSuccess: function (context) {
            sendError(null, {status: '<b>Blocked</b>' + 'T'.repeat(300),
                             statusMsg: '<script>alert(1)</script>\\r\\nline two ' + 'x'.repeat(2000)});
        }});
    };"""
    login, page = signed_in(site, "{1: [BasicAuthenticator]}", script)
    assert page.status_code == 403
    assert "<script>alert(1)" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt; line two x" in page.text
    assert "x" * 464 + "…" in page.text and "x" * 465 not in page.text  # 500 characters in all
    assert "&lt;b&gt;Blocked&lt;/b&gt;" in page.text and "T" * 100 not in page.text
    # the same for a direct visit to the error page (what sendError redirects to)
    direct = login.browser.get("/login/error/?status=Gone&statusMsg=%3Ci%3Ehi%3C/i%3E")
    assert direct.status_code == 403 and "&lt;i&gt;hi&lt;/i&gt;" in direct.text and ">Gone</h1>" in direct.text


# ------------------------------------------------------------------ the directory's uniqueId column


@pytest.mark.django_db(transaction=True)
def test_the_migration_gives_each_existing_user_its_own_unique_id():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before, after = [("directory", "0005_failed_login_attempts_before_success")], [("directory", "0006_user_unique_id")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        old_user = executor.loader.project_state(before).apps.get_model("directory", "User")
        for name in ("old-1", "old-2", "old-3"):
            old_user.objects.create(username=name, password="!")
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(after)
    finally:
        MigrationExecutor(connection).migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    ids = list(User.objects.filter(username__startswith="old-").values_list("unique_id", flat=True))
    assert len(ids) == 3 and None not in ids and len(set(ids)) == 3


@pytest.mark.django_db(transaction=True)
def test_the_admin_shows_the_unique_id_and_never_edits_it(client):
    from tests.support.console import sign_in_to_console

    admin = User.objects.create_user("root", password="root-password-12345", is_staff=True, is_superuser=True)
    sign_in_to_console(client, admin)
    alice = User.objects.create_user("alice", password="alice-password-123")
    page = client.get(f"/admin/directory/user/{alice.pk}/change/", HTTP_HOST="127.0.0.1")
    assert page.status_code == 200 and str(alice.unique_id) in page.content.decode()
    assert b'name="unique_id"' not in page.content
