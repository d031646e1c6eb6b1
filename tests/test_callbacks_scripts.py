"""Callbacks scripts (the Smile CDR dialect) on the real engine: checks, objects, limits, simulate, apply/export."""
import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.core.management import call_command

from authflow.applications.models import Application
from authflow.configuration.schema import ConfigError
from sequences.api import ScriptSyntaxError, check_syntax, run_callback
from sequences.models import Sequence

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "tests" / "scripts" / "smile"


def outcome_of(source, args, entry="onAuthenticateSuccess"):
    return run_callback(source, entry, args, application_name="test", ip=args.get("remoteAddress"))


# ---------------------------------------------------------------- checks at save time
def test_a_callbacks_script_must_define_a_callback_function():
    with pytest.raises(ScriptSyntaxError, match="defines none of the functions a callbacks script is for"):
        check_syntax("var onLoginRequest = function (context) {};", kind="callbacks")
    for name in ("onAuthenticateSuccess", "onSmartLoginPreContextSelection", "onTokenGenerating"):
        check_syntax(f"function {name}(a, b, c) {{ return a; }}", kind="callbacks")


def test_a_callbacks_script_is_checked_like_a_login_script():
    with pytest.raises(ScriptSyntaxError) as error:
        check_syntax("function onAuthenticateSuccess(o, f, c) {\n  return o\n  +;\n}", kind="callbacks")
    assert error.value.line == 3
    with pytest.raises(ScriptSyntaxError, match="async functions are not supported"):
        check_syntax("async function onAuthenticateSuccess(o, f, c) { return o; }", kind="callbacks")


# ---------------------------------------------------------------- onAuthenticateSuccess
def test_every_outcome_member_of_the_reference_examples():
    source = (SCRIPTS / "permissions_and_claims.js").read_text()
    result = outcome_of(source, {
        "username": "alice", "remoteAddress": "10.1.2.3", "approvedScopes": ["openid", "launch/patient"],
        "claims": {"patient": "123", "access": {"role": "admin", "since": 1}, "patientRepresentative": "yes",
                   "scp": "patient/*.read user/*.read", "scpList": ["patient/Observation.rs", "openid"]},
    })
    assert result.ok, result.error
    value = result.value
    assert value["outcome"] == "success" and value["username"] == "alice"
    assert value["authorities"] == [
        {"permission": "FHIR_CAPABILITIES"},
        {"permission": "FHIR_READ_ALL_IN_COMPARTMENT", "argument": "Patient/123"},
        {"permission": "ROLE_FHIR_CLIENT_SUPERUSER_RO"},
    ]
    assert value["userData"] == {"patientRepresentative": True}
    assert value["approvedScopes"] == ["patient/*.read", "user/*.read", "patient/Observation.rs", "openid"]
    assert value["launch"] == [{"type": "patient", "id": "123"}, {"type": "encounter", "id": "def"}]
    assert value["fhirContext"] == [{"reference": "PractitionerRole/123"},
                                    {"reference": "List/456", "role": "https://example.org/med-list-at-home"}]
    assert result.logs == [{"level": "info", "message": "User alice is logging in from 10.1.2.3"},
                           {"level": "info", "message": "scopes: openid,launch/patient"}]


def test_a_failure_outcome_carries_its_message_and_reasons():
    source = (SCRIPTS / "permissions_and_claims.js").read_text()
    result = outcome_of(source, {"username": "ADMIN", "remoteAddress": "10.9.9.9", "claims": {}})
    assert result.value == {"outcome": "failure", "message": "Administrators sign in from the console host only",
                            "unknownUsername": False, "incorrectPassword": False}
    assert outcome_of(source, {"username": "ADMIN", "remoteAddress": "127.0.0.1", "claims": {}}).value["outcome"] \
        == "success"


def test_user_data_reads_back_and_a_new_success_starts_empty():
    source = textwrap.dedent("""
        function onAuthenticateSuccess(theOutcome, theOutcomeFactory, theContext) {
            theOutcome.setUserData('n', 3);
            if (!theOutcome.hasUserData('n') || theOutcome.getUserData('n') !== 3) throw 'user data lost';
            if (theOutcome.getUserData('missing') !== null || theOutcome.hasUserData('missing')) throw 'phantom';
            var fresh = theOutcomeFactory.newSuccess();
            fresh.addAuthority('ONLY_THIS');
            if (fresh.getUsername() !== theOutcome.username) throw 'username differs';
            if (theContext.getStringArrayClaim('one') + '' !== 'x') throw 'string claim as array';
            if (theContext.getClaim('none') !== null || theContext.getStringArrayClaim('none') !== null) throw 'null';
            return fresh;
        }
    """)
    result = outcome_of(source, {"username": "bob", "claims": {"one": "x"}})
    assert result.ok, result.error
    assert result.value["authorities"] == [{"permission": "ONLY_THIS"}] and result.value["userData"] == {}


def test_a_thrown_error_or_no_outcome_is_an_error_with_its_line():
    thrown = outcome_of("function onAuthenticateSuccess(o, f, c) {\n  throw 'No claim \"patient\"';\n}",
                        {"username": "a"})
    assert not thrown.ok and thrown.error.startswith('Uncaught "No claim \\"patient\\""')
    missing = outcome_of("function onAuthenticateSuccess(o, f, c) {\n  o.addAuthority('X');\n}", {"username": "a"})
    assert not missing.ok and "must return theOutcome" in missing.error
    foreign = outcome_of("function onAuthenticateSuccess(o, f, c) { return {outcome: 'success'}; }",
                         {"username": "a"})
    assert not foreign.ok and "must return theOutcome" in foreign.error
    wrong = outcome_of("function onAuthenticateSuccess(o, f, c) {\n  o.addAuthority();\n  return o;\n}",
                       {"username": "a"})
    assert not wrong.ok and "addAuthority: the permission is required" in wrong.error and "line 2" in wrong.error


def test_a_function_the_script_does_not_define_is_absent_not_an_error():
    result = outcome_of("function onTokenGenerating(s, d) {}", {"username": "a"})
    assert result.absent and not result.ok


def test_callbacks_see_no_login_api_and_no_server():
    for call in ("executeStep(1)", "hasRole(o, 'x')", "httpGet('http://example.com', {})", "getSecretByName('x')"):
        result = outcome_of(f"function onAuthenticateSuccess(o, f, c) {{ {call}; return o; }}", {"username": "a"})
        assert not result.ok and "is not defined" in result.error, call


def test_cpu_and_memory_limits_hold():
    spin = outcome_of("function onAuthenticateSuccess(o, f, c) { for (;;) {} }", {"username": "a"})
    assert not spin.ok and ("time" in spin.error or "longer" in spin.error)
    hog = outcome_of("function onAuthenticateSuccess(o, f, c) { var a = []; for (;;) a.push(new Array(1e6).fill(1)); }",
                     {"username": "a"})
    assert not hog.ok
    after = outcome_of("function onAuthenticateSuccess(o, f, c) { return o; }", {"username": "a"})
    assert after.ok  # the sandbox pool recovered


def test_nothing_one_run_defines_reaches_the_next():
    source = textwrap.dedent("""
        var seen = [];
        function onAuthenticateSuccess(o, f, c) {
            seen.push(o.username);
            leaked = (typeof leaked === 'undefined' ? 0 : leaked) + 1;
            o.setUserData('seen', seen.join(',') + ':' + leaked);
            return o;
        }
    """)
    assert outcome_of(source, {"username": "a"}).value["userData"] == {"seen": "a:1"}
    assert outcome_of(source, {"username": "b"}).value["userData"] == {"seen": "b:1"}


# ---------------------------------------------------------------- onSmartLoginPreContextSelection
def test_six_people_with_their_scopes_and_translation():
    result = outcome_of((SCRIPTS / "six_people.js").read_text(),
                        {"username": "homer", "approvedScopes": ["openid"], "authorities": [], "userData": {}},
                        entry="onSmartLoginPreContextSelection")
    assert result.ok, result.error
    people = result.value["people"]
    assert [p["givenName"] for p in people] == ["Homer", "Marge", "Bart", "Lisa", "Maggie", "Herb"]
    assert people[0] == {"familyName": "Simpson", "givenName": "Homer", "birthDate": "1950-01-12",
                         "patient": "context-patient-id-111",
                         "authorities": [{"permission": "FHIR_READ_ALL_IN_COMPARTMENT",
                                          "argument": "Patient/context-patient-id-111"}],
                         "autoGrantScopes": [], "removedAutoGrantScopes": [], "requestedScopes": [],
                         "removedRequestedScopes": []}
    assert people[4]["requestedScopes"] == ["launch", "profile", "patient/*.read", "system/Patient.read",
                                            "patient/Observation.read"]
    assert people[4]["removedRequestedScopes"] == ["system/Patient.read"]
    assert people[3]["removedAutoGrantScopes"] == ["patient/*.write"]
    assert result.value["translations"] == {"system/Patient.read": "Custom Display"}
    assert result.logs == [{"level": "info", "message": "offered 6 people to homer"}]


def test_a_person_without_a_patient_is_an_error():
    result = outcome_of("function onSmartLoginPreContextSelection(s, c) { c.addPerson().givenName = 'X'; }",
                        {"username": "a"}, entry="onSmartLoginPreContextSelection")
    assert not result.ok and "person 1: associatedPatientContextResourceId is required" in result.error


# ---------------------------------------------------------------- onTokenGenerating
def test_token_claims_of_each_type_launch_and_scope_changes():
    result = outcome_of((SCRIPTS / "token_claims.js").read_text(), {
        "session": {"username": "alice", "approvedScopes": ["openid", "patient/*.read"]}, "clientId": "growth-chart",
        "audience": "https://fhir.example/r4", "launch": "xyz"}, entry="onTokenGenerating")
    assert result.ok, result.error
    assert result.value == {
        "approvedScopes": ["openid", "patient/Observation.read"],
        "launch": [{"type": "patient", "id": "555"}],
        "launchParameters": {"smart_style_url": "http://acme.org/styles/smart_v1.json"},
        "userData": {},
        "claims": {"claimName": "claimValue", "numericClaimName": 123,
                   "objectClaim": {"someArray": [1, 2, 3.3, None, True],
                                   "someNestedObject": {"family": "Simpson", "given": "Homer"}}},
    }
    assert result.logs[-1]["message"] == "client growth-chart audience https://fhir.example/r4"
    client = outcome_of((SCRIPTS / "token_claims.js").read_text(), {"session": None}, entry="onTokenGenerating")
    assert client.ok and client.value["claims"]["claimName"] == "claimValue"


def test_reserved_claim_prefix_is_refused():
    result = outcome_of("function onTokenGenerating(s, d) {\n  d.addAccessTokenClaim('smile_x', 1);\n}",
                        {"session": None}, entry="onTokenGenerating")
    assert not result.ok and 'are reserved ("smile_x")' in result.error and "line 2" in result.error


# ---------------------------------------------------------------- onPostAuthorize
def test_post_authorize_gets_the_grants_details():
    source = ("function onPostAuthorize(theDetails) {\n  Log.info(theDetails.grantType + ' ' + theDetails.grantedScopes + "
              "' ' + theDetails.clientId + ' ' + theDetails.username + ' ' + theDetails.requestedRecord);\n}")
    result = outcome_of(source, {"grantType": "authorization_code", "grantedScopes": ["openid", "launch"],
                                 "clientId": "chart", "username": "alice"}, entry="onPostAuthorize")
    assert result.ok and result.value is None
    assert result.logs == [{"level": "info", "message": "authorization_code openid,launch chart alice null"}]


# ---------------------------------------------------------------- authenticate
def test_authenticate_decides_and_never_shows_the_password():
    source = textwrap.dedent("""
        function authenticate(theRequest, theOutcomeFactory) {
            Log.info('user ' + theRequest.getUsername() + ' typed ' + theRequest.password);
            if (theRequest.password !== 'hunter2-long') {
                var failure = theOutcomeFactory.newFailure();
                failure.message = 'Banned username';
                failure.incorrectPassword = true;
                return failure;
            }
            var outcome = theOutcomeFactory.newSuccess();
            outcome.username = 'EXT_' + theRequest.username;
            outcome.addAuthority('FHIR_CAPABILITIES');
            return outcome;
        }
    """)
    ok = outcome_of(source, {"username": "bob", "password": "hunter2-long"}, entry="authenticate")
    assert ok.value == {"outcome": "success", "username": "EXT_bob"}
    assert ok.logs == [{"level": "info", "message": "user bob typed [secret]"}]
    bad = outcome_of(source, {"username": "bob", "password": "guess-guess"}, entry="authenticate")
    assert bad.value == {"outcome": "failure", "message": "Banned username", "unknownUsername": False,
                         "incorrectPassword": True}
    thrown = outcome_of("function authenticate(r, f) { throw new Error('bad ' + r.password); }",
                        {"username": "bob", "password": "hunter2-long"}, entry="authenticate")
    assert not thrown.ok and "hunter2-long" not in thrown.error and "[secret]" in thrown.error


# ---------------------------------------------------------------- manage.py simulate
def simulate(tmp_path, script, scenario):
    (tmp_path / "s.js").write_text(script)
    (tmp_path / "sc.json").write_text(json.dumps(scenario))
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="tests.settings")
    done = subprocess.run([sys.executable, "manage.py", "simulate", str(tmp_path / "s.js"), "--scenario",
                           str(tmp_path / "sc.json")], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    return done.returncode, json.loads(done.stdout) if done.stdout.strip() else None, done.stderr


def test_simulate_runs_a_callback_with_its_inputs(tmp_path):
    code, trace, _ = simulate(tmp_path, (SCRIPTS / "permissions_and_claims.js").read_text(), {
        "callback": "onAuthenticateSuccess",
        "inputs": {"username": "alice", "remoteAddress": "10.0.0.1", "claims": {"patient": "7"},
                   "approvedScopes": "openid launch/patient"}})
    assert code == 0 and trace["status"] == "returned" and trace["callback"] == "onAuthenticateSuccess"
    assert {"permission": "FHIR_READ_ALL_IN_COMPARTMENT", "argument": "Patient/7"} in trace["result"]["authorities"]
    assert trace["logs"][-1] == {"level": "info", "message": "scopes: openid,launch/patient"}


def test_simulate_reports_errors_and_bad_scenarios(tmp_path):
    code, trace, _ = simulate(tmp_path, "function onAuthenticateSuccess(o, f, c) {\n  nope();\n}",
                              {"callback": "onAuthenticateSuccess", "inputs": {"username": "a"}})
    assert code == 1 and trace["status"] == "error" and "nope is not defined (line 2" in trace["error"]
    code, _, err = simulate(tmp_path, "function onAuthenticateSuccess(o, f, c) { return o; }",
                            {"callback": "onAuthenticateSuccess", "inputs": {"usrname": "a"}})
    assert code == 2 and "inputs.usrname: not an input of onAuthenticateSuccess" in err
    code, _, err = simulate(tmp_path, "function onAuthenticateSuccess(o, f, c) { return o; }",
                            {"callback": "onLogin", "inputs": {}})
    assert code == 2 and "callback: expected one of" in err
    code, trace, _ = simulate(tmp_path, "var x = 1;", {"callback": "onTokenGenerating", "inputs": {}})
    assert code == 1 and "defines none of the functions" in trace["error"]


# ---------------------------------------------------------------- apply / export
CONFIG = textwrap.dedent("""
    applications:
      - name: chart
        client_id: chart
        client_type: public
        redirect_uris: ["http://127.0.0.1:9/cb"]
        steps: {1: [BasicAuthenticator]}
        callbacks_script: |
          function onAuthenticateSuccess(theOutcome, theOutcomeFactory, theContext) {
            theOutcome.addAuthority('FHIR_CAPABILITIES');
            return theOutcome;
          }
""")


def apply_text(tmp_path, text):
    path = tmp_path / "config.yaml"
    path.write_text(text)
    out = io.StringIO()
    call_command("apply", "-f", str(path), stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_apply_sets_a_versioned_callbacks_script_and_export_gives_it_back(tmp_path):
    apply_text(tmp_path, CONFIG)
    app = Application.objects.get(name="chart")
    assert app.callbacks_sequence.kind == Sequence.Kind.CALLBACKS and app.callbacks_sequence.name == "chart-callbacks"
    assert app.callbacks_sequence.published_version().number == 1
    assert "updated" not in apply_text(tmp_path, CONFIG)
    apply_text(tmp_path, CONFIG.replace("FHIR_CAPABILITIES", "ROLE_FHIR_CLIENT_SUPERUSER"))
    sequence = Application.objects.get(name="chart").callbacks_sequence
    assert sequence.published_version().number == 2 and "ROLE_FHIR_CLIENT_SUPERUSER" in sequence.published_version().source
    out = io.StringIO()
    call_command("export", stdout=out)
    assert "callbacks_script" in out.getvalue() and "ROLE_FHIR_CLIENT_SUPERUSER" in out.getvalue()
    apply_text(tmp_path, CONFIG.split("    callbacks_script")[0])
    assert Application.objects.get(name="chart").callbacks_sequence is None


@pytest.mark.django_db
def test_apply_refuses_a_callbacks_script_that_defines_no_callback(tmp_path):
    bad = CONFIG.replace("function onAuthenticateSuccess(", "function somethingElse(")
    with pytest.raises((ConfigError, Exception), match=r"callbacks_script: the script defines none"):
        apply_text(tmp_path, bad)
    assert not Application.objects.filter(name="chart").exists()


@pytest.mark.django_db
def test_housekeeping_deletes_old_grants_only():
    import uuid
    from datetime import timedelta

    from django.utils import timezone

    from authflow.callbacks.models import LoginGrant
    from authflow.housekeeping.purge import purge_expired

    old = LoginGrant.objects.create(flow_id=uuid.uuid4(), username="a")
    LoginGrant.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=31))
    fresh = LoginGrant.objects.create(flow_id=uuid.uuid4(), username="b")
    assert purge_expired().get("callbacks.LoginGrant") == 1
    assert list(LoginGrant.objects.values_list("pk", flat=True)) == [fresh.pk]


@pytest.mark.django_db
def test_the_context_claims_include_a_federated_providers():
    from types import SimpleNamespace

    from authflow.callbacks.service import login_claims
    from authflow.directory.models import User
    from sequences.api import step_answer

    user = User.objects.create(username="alice", email="alice@example.com")
    flow = SimpleNamespace(
        state={"journal": {"answers": [
            step_answer(1, "success", user="alice", authenticator="OpenIDConnectAuthenticator", idp="hospital",
                        remote_claims={"patient": "123", "email": "alice@hospital.example", "scp": ["a", "b"]}),
            step_answer(2, "fail", user="alice", authenticator="totp", remote_claims={"patient": "ignored"}),
        ]}},
        result={"claims": {"http://wso2.org/claims/givenname": "Al"}})
    claims = login_claims(flow, user)
    assert claims["patient"] == "123" and claims["scp"] == ["a", "b"]
    assert claims["email"] == "alice@example.com"  # the directory's, over the provider's
    assert claims["given_name"] == "Al" and claims["sub"] == "alice"
    source = ("function onAuthenticateSuccess(o, f, c) { o.addLaunchResourceId('patient', c.getClaim('patient'));"
              " c.getStringArrayClaim('scp').forEach(function (s) { o.addApprovedScope(s); }); return o; }")
    value = outcome_of(source, {"username": "alice", "claims": claims}).value
    assert value["launch"] == [{"type": "patient", "id": "123"}] and value["approvedScopes"] == ["a", "b"]


def test_the_runtime_files_define_each_top_level_name_once():
    """The runtime's files share one scope: a second `function x` would silently replace the first."""
    import re

    from sequences.engine.sandbox.assets import JS_DIR, RUNTIME_FILES

    seen = {}
    for name in RUNTIME_FILES:
        for match in re.finditer(r"^(?:function|const|let|class)\s+([A-Za-z_$][\w$]*)", (JS_DIR / name).read_text(), re.M):
            assert match.group(1) not in seen, f"{match.group(1)} is defined in {seen[match.group(1)]} and {name}"
            seen[match.group(1)] = name
    assert "callbackInvocation" in seen and "stringList" in seen
