"""Custom authenticators: scripts checked at save time, run in the sandbox, their statuses and the registrations."""
import json
import logging

import pytest

from authflow.custom_authenticators import services
from authflow.custom_authenticators import status as codes
from authflow.custom_authenticators.models import CustomAuthenticator, Registration
from authflow.directory.models import User
from sequences.api import ScriptSyntaxError, publish_version, save_version
from sequences.models import Sequence

pytestmark = pytest.mark.django_db

# The reference's two example scripts, as an integrator would paste them.
REGISTRATION = """
function execute(requestPayload, userIdentifier) {
  LOG.debug("Registration of Example Custom Authenticator for user: {}", userIdentifier);
  return {
    status: 2000,
    registrationData: requestPayload,
    responsePayload: ""
  };
}
"""
AUTHENTICATION = """
function execute(requestPayload, userIdentifier, registrationData) {
  LOG.debug("Authentication of Example Custom Authenticator for user: {}", userIdentifier);
  var validUserKey = requestPayload.equals(registrationData);
  var statusCode = validUserKey? 2000 : 4000;
  return {
    status: statusCode,
    responsePayload: ""
  };
}
"""


def script_returning(expression, params="requestPayload, userIdentifier, registrationData"):
    return f"function execute({params}) {{ return {expression}; }}\n"


def make(name="device-key", registration=REGISTRATION, authentication=AUTHENTICATION, deregistration=None,
         max_failed_attempts=3):
    services.put_authenticator(name, "Device key", registration=registration, authentication=authentication,
                               deregistration=deregistration, max_failed_attempts=max_failed_attempts)
    return CustomAuthenticator.objects.get(name=name)


@pytest.fixture
def alice():
    return User.objects.create_user("alice", password="not-used-here-123")


# ---------------------------------------------------------------- configuration

def test_scripts_are_versioned_sequences_of_their_own_kinds():
    authenticator = make()
    assert authenticator.registration_script.kind == Sequence.Kind.CUSTOM_REGISTRATION
    assert authenticator.authentication_script.kind == Sequence.Kind.CUSTOM_AUTHENTICATION
    assert authenticator.deregistration_script is None
    assert services.put_authenticator("device-key", "Device key", registration=REGISTRATION,
                                      authentication=AUTHENTICATION, max_failed_attempts=3) == "unchanged"
    changed = AUTHENTICATION.replace("4000", "4000 /* wrong key */")
    assert services.put_authenticator("device-key", "Device key", registration=REGISTRATION,
                                      authentication=changed, max_failed_attempts=3) == "updated"
    assert authenticator.authentication_script.versions.count() == 2
    assert authenticator.authentication_script.published_version().source == changed


def test_a_script_without_execute_is_refused_at_save_time_and_nothing_is_written():
    with pytest.raises(ScriptSyntaxError) as excinfo:
        services.put_authenticator("broken", "Broken", registration=REGISTRATION,
                                   authentication="function authenticate(p) { return {status: 2000}; }")
    assert "execute" in str(excinfo.value)
    assert not CustomAuthenticator.objects.filter(name="broken").exists()
    assert not Sequence.objects.filter(name__startswith="broken-").exists()


def test_syntax_errors_name_the_line():
    with pytest.raises(ScriptSyntaxError) as excinfo:
        save_version("x-registration", "function execute(p) {\n  return {status: 2000,;\n}\n",
                     kind=Sequence.Kind.CUSTOM_REGISTRATION)
    assert excinfo.value.line == 2


def test_a_login_script_is_not_a_custom_authenticator_script():
    # A login script's kind still requires onLoginRequest: the kinds do not leak into each other.
    with pytest.raises(ScriptSyntaxError):
        save_version("some-app", REGISTRATION)


# ---------------------------------------------------------------- the reference's scripts

def test_register_then_authenticate_with_the_right_and_the_wrong_payload(alice):
    authenticator = make()
    outcome = services.register(authenticator, alice, "device-secret-42")
    assert (outcome.status, outcome.http_status) == (2000, 200)
    assert services.authenticate(authenticator, alice, "device-secret-42").status == codes.SUCCESS
    wrong = services.authenticate(authenticator, alice, "something else")
    assert (wrong.status, wrong.http_status, wrong.remaining_attempts) == (4000, 400, 2)
    assert wrong.body() == {"status": 4000, "responsePayload": "", "remainingAttempts": 2}


def test_registration_data_is_encrypted_at_rest_and_bound_to_its_user(alice):
    authenticator = make()
    services.register(authenticator, alice, "device-secret-42")
    registration = Registration.objects.get(user=alice)
    assert "device-secret-42" not in registration.sealed_data
    # Moving the sealed value to another user's row makes it unreadable, not someone else's key.
    bob = User.objects.create_user("bob", password="not-used-here-123")
    Registration.objects.create(user=bob, authenticator=authenticator, sealed_data=registration.sealed_data)
    assert services.authenticate(authenticator, bob, "device-secret-42").status == codes.NOT_REGISTERED
    assert not Registration.objects.filter(user=bob).exists()
    assert services.authenticate(authenticator, alice, "device-secret-42").status == codes.SUCCESS


def test_log_placeholders_reach_the_server_log(alice, caplog):
    authenticator = make()
    with caplog.at_level(logging.DEBUG, logger="authflow.custom_authenticators"):
        services.register(authenticator, alice, "k")
    messages = [r.getMessage() for r in caplog.records]
    assert "script: Registration of Example Custom Authenticator for user: alice" in messages


def test_log_placeholders_format_values_and_keep_extra_arguments(alice, caplog):
    script = ("function execute(p, u) { LOG.info('{} has {} items', u, {n: 2}, 'extra');"
              " LOG.warn('no placeholders', 1); return {status: 2000, registrationData: 'd'}; }")
    authenticator = make(registration=script)
    with caplog.at_level(logging.DEBUG, logger="authflow.custom_authenticators"):
        services.register(authenticator, alice, "k")
    messages = [r.getMessage() for r in caplog.records]
    assert 'script: alice has {"n":2} items extra' in messages
    assert "script: no placeholders 1" in messages


def test_java_string_idioms(alice):
    script = """
    function execute(requestPayload, userIdentifier, registrationData) {
      var parsed = JSON.parse(requestPayload);
      var ok = parsed.key.equals(registrationData) && parsed.user.equalsIgnoreCase(userIdentifier)
               && !"1".equals(1) && typeof requestPayload === "string";
      // An object's own equals is its own.
      var own = { equals: function (x) { return x === "own"; } };
      return { status: ok && own.equals("own") ? 2000 : 4000, responsePayload: registrationData.equals("k") + "" };
    }
    """
    authenticator = make(authentication=script)
    services.register(authenticator, alice, "k")
    outcome = services.authenticate(authenticator, alice, json.dumps({"key": "k", "user": "ALICE"}))
    assert (outcome.status, outcome.response_payload) == (2000, "true")
    assert services.authenticate(authenticator, alice, json.dumps({"key": "K", "user": "alice"})).status == 4000


def test_the_shim_changes_nothing_shared(alice):
    # Strings get no equals of their own, and the shim's objects are frozen.
    script = """
    function execute(p, u, d) {
      var leaks = [typeof "x".constructor.prototype.equals, typeof String.prototype.equals];
      var frozen = Object.isFrozen(__authflowJavaString("x")) && Object.isFrozen(__authflowJavaString);
      try { String.prototype.equals = function () { return true; }; } catch (e) { leaks.push("refused"); }
      return { status: 2000, responsePayload: JSON.stringify([leaks, frozen]) };
    }
    """
    authenticator = make(authentication=script)
    services.register(authenticator, alice, "k")
    outcome = services.authenticate(authenticator, alice, "x")
    assert json.loads(outcome.response_payload) == [["undefined", "undefined", "refused"], True]


# ---------------------------------------------------------------- each status code

def test_4001_already_registered_is_a_409(alice):
    authenticator = make()
    services.register(authenticator, alice, "a")
    outcome = services.register(authenticator, alice, "b")
    assert (outcome.status, outcome.http_status) == (4001, 409)
    assert services.authenticate(authenticator, alice, "a").succeeded  # the first registration is kept


def test_4001_from_the_script_is_a_409(alice):
    authenticator = make(registration=script_returning("{status: 4001, responsePayload: 'card in use'}"))
    outcome = services.register(authenticator, alice, "a")
    assert (outcome.status, outcome.http_status, outcome.response_payload) == (4001, 409, "card in use")
    assert not Registration.objects.exists()


def test_4002_not_registered_is_a_404(alice):
    authenticator = make()
    outcome = services.authenticate(authenticator, alice, "a")
    assert (outcome.status, outcome.http_status) == (4002, 404)
    assert services.deregister(authenticator, alice).http_status == 404


def test_4000_on_registration_stores_nothing(alice):
    authenticator = make(registration=script_returning("{status: 4000, responsePayload: 'try again'}"))
    outcome = services.register(authenticator, alice, "a")
    assert (outcome.status, outcome.http_status, outcome.response_payload) == (4000, 400, "try again")
    assert not Registration.objects.exists()


def test_5000_removes_the_registration(alice):
    authenticator = make(authentication=script_returning("{status: 5000, responsePayload: 'revoked'}"))
    services.register(authenticator, alice, "a")
    outcome = services.authenticate(authenticator, alice, "a")
    assert (outcome.status, outcome.http_status) == (5000, 400)
    assert outcome.body() == {"status": 5000, "responsePayload": "revoked", "registrationRemoved": True}
    assert not Registration.objects.exists()


def test_the_attempt_limit_removes_the_registration_and_success_resets_it(alice):
    authenticator = make(max_failed_attempts=3)
    services.register(authenticator, alice, "right")
    assert services.authenticate(authenticator, alice, "wrong").remaining_attempts == 2
    assert services.authenticate(authenticator, alice, "right").succeeded
    assert Registration.objects.get(user=alice).failed_attempts == 0
    remaining = [services.authenticate(authenticator, alice, "wrong").remaining_attempts for _ in range(3)]
    assert remaining == [2, 1, 0]
    assert not Registration.objects.exists()
    assert services.authenticate(authenticator, alice, "right").status == codes.NOT_REGISTERED


def test_the_rate_limit_answers_429(alice, settings):
    settings.AUTHFLOW_CUSTOM_AUTHENTICATOR_RATE_LIMIT = {"attempts": 2, "window_seconds": 60}
    authenticator = make(max_failed_attempts=100)
    services.register(authenticator, alice, "right")
    services.authenticate(authenticator, alice, "wrong")
    services.authenticate(authenticator, alice, "wrong")
    limited = services.authenticate(authenticator, alice, "right")
    assert limited.http_status == 429 and limited.body()["error"] == "too_many_attempts"


def test_authentication_can_rotate_the_registration_data(alice):
    script = ("function execute(p, u, d) { return p.equals(d) ? {status: 2000, registrationData: 'next'}"
              " : {status: 4000}; }")
    authenticator = make(authentication=script)
    services.register(authenticator, alice, "first")
    assert services.authenticate(authenticator, alice, "first").succeeded
    assert services.authenticate(authenticator, alice, "first").status == 4000
    assert services.authenticate(authenticator, alice, "next").succeeded


def test_deregistration_script_runs_and_may_refuse(alice):
    deregistration = "function execute(p, u, d) { return {status: p.equals('sure') ? 2000 : 4000, responsePayload: d}; }"
    authenticator = make(deregistration=deregistration)
    services.register(authenticator, alice, "secret")
    refused = services.deregister(authenticator, alice, "no")
    assert (refused.status, refused.http_status) == (4000, 400)
    assert Registration.objects.exists()
    done = services.deregister(authenticator, alice, "sure")
    assert (done.status, done.response_payload) == (2000, "secret")
    assert not Registration.objects.exists()


# ---------------------------------------------------------------- the engine's 3000 range

def _engine_error(outcome, status):
    assert (outcome.status, outcome.http_status) == (status, 500)
    body = outcome.body()
    assert body == {"status": status, "error": "server_error",
                    "message": "The authenticator could not process the request."}


def test_3000_script_not_available(alice):
    authenticator = make()
    Sequence.objects.filter(pk=authenticator.registration_script.pk).update(live_version=None)  # none is live
    _engine_error(services.register(authenticator, alice, "a"), 3000)


def test_3001_script_execution_failure_hides_the_error(alice, caplog):
    script = "function execute(p, u) { throw new Error('database password is hunter2'); }"
    authenticator = make(registration=script)
    with caplog.at_level(logging.WARNING, logger="authflow.custom_authenticators"):
        outcome = services.register(authenticator, alice, "a")
    _engine_error(outcome, 3001)
    assert "hunter2" not in json.dumps(outcome.body())
    assert any("hunter2" in r.getMessage() for r in caplog.records)  # the administrator sees it in the log


def test_3002_execute_not_a_function(alice):
    # The save-time check sees `execute` defined; at run time it is not a function.
    authenticator = make(registration="var execute = 42;")
    _engine_error(services.register(authenticator, alice, "a"), 3002)


def test_3003_script_that_does_not_compile(alice):
    authenticator = make()
    # A version stored before the check existed (or written around it) that does not compile.
    version = authenticator.registration_script.published_version()
    broken = version.__class__.objects.create(sequence=authenticator.registration_script, number=version.number + 1,
                                              source="function execute( {")
    publish_version(broken)
    _engine_error(services.register(authenticator, alice, "a"), 3003)


@pytest.mark.parametrize("result", [
    "'just a string'",
    "null",
    "{status: 1234}",
    "{status: '2000', registrationData: 'x'}",
    "{status: 2000}",  # a successful registration without registrationData
    "{status: 2000, registrationData: {a: 1}}",
    "{status: 2000, registrationData: 'x', responsePayload: 7}",
    "{status: 2000, registrationData: 'x'.repeat(64 * 1024 + 1)}",  # too large to store
])
def test_3004_invalid_result(alice, result):
    authenticator = make(registration=script_returning(result, "p, u"))
    _engine_error(services.register(authenticator, alice, "a"), 3004)
    assert not Registration.objects.exists()


# ---------------------------------------------------------------- hostile scripts

def test_an_endless_loop_is_stopped_by_the_time_limit(alice):
    authenticator = make(registration="function execute(p, u) { for (;;) {} }")
    _engine_error(services.register(authenticator, alice, "a"), 3001)
    assert services.register(make("other"), alice, "a").succeeded  # the sandbox pool still works


def test_memory_exhaustion_is_stopped(alice):
    script = "function execute(p, u) { var a = []; for (;;) { a.push(new Array(100000).fill(p)); } }"
    authenticator = make(registration=script)
    _engine_error(services.register(authenticator, alice, "a"), 3001)


def test_scripts_see_no_login_api_and_no_code_from_strings(alice):
    script = """
    function execute(p, u) {
      var seen = [typeof executeStep, typeof httpGet, typeof getUniqueUserWithClaimValues, typeof secrets];
      try { eval("1"); seen.push("eval ran"); } catch (e) { seen.push("no eval"); }
      try { (function () {}).constructor("return 1")(); seen.push("Function ran"); } catch (e) { seen.push("no Function"); }
      return {status: 2000, registrationData: "d", responsePayload: JSON.stringify(seen)};
    }
    """
    authenticator = make(registration=script)
    outcome = services.register(authenticator, alice, "a")
    assert json.loads(outcome.response_payload) == ["undefined"] * 4 + ["no eval", "no Function"]


def test_nothing_one_run_defines_reaches_the_next(alice):
    bob = User.objects.create_user("bob", password="not-used-here-123")
    script = """
    var seen = typeof stash === "undefined" ? "clean" : stash;
    function execute(p, u) { stash = u; return {status: 2000, registrationData: "d", responsePayload: seen}; }
    """
    authenticator = make(registration=script)
    assert services.register(authenticator, alice, "a").response_payload == "clean"
    assert services.register(authenticator, bob, "a").response_payload == "clean"


# ---------------------------------------------------------------- apply / export, the admin console

def test_apply_and_export_round_trip():
    from authflow.configuration.apply import apply_config
    from authflow.configuration.export import export_config
    from authflow.configuration.schema import parse

    config = {"custom_authenticators": [{"name": "card-reader", "display_name": "Card reader",
                                         "registration_script": REGISTRATION, "authentication_script": AUTHENTICATION,
                                         "max_failed_attempts": 4}]}
    counts = apply_config(parse(config))
    assert counts["custom authenticators created"] == 1
    assert apply_config(parse(config))["custom authenticators unchanged"] == 1
    exported = export_config()["custom_authenticators"]
    assert exported == [{"name": "card-reader", "display_name": "Card reader", "registration_script": REGISTRATION,
                         "authentication_script": AUTHENTICATION, "max_failed_attempts": 4}]
    assert apply_config(parse({"custom_authenticators": exported}))["custom authenticators unchanged"] == 1


@pytest.mark.parametrize("entry, message", [
    ({"name": "x", "registration_script": REGISTRATION}, "authentication_script is required"),
    ({"name": "x", "registration_script": REGISTRATION, "authentication_script": "var onLoginRequest = 1;"},
     "authentication_script: the script does not define execute"),
    ({"name": "x y", "registration_script": REGISTRATION, "authentication_script": AUTHENTICATION}, "name may hold"),
    ({"name": "x", "registration_script": REGISTRATION, "authentication_script": AUTHENTICATION,
      "max_failed_attempts": 0}, "max_failed_attempts"),
    ({"name": "x", "registration_script": REGISTRATION, "authentication_script": AUTHENTICATION, "colour": 1},
     "unknown key 'colour'"),
])
def test_apply_refuses_bad_entries_with_their_place(entry, message):
    from authflow.configuration.schema import ConfigError, parse

    with pytest.raises(ConfigError) as excinfo:
        parse({"custom_authenticators": [entry]})
    assert "custom_authenticators[0]" in str(excinfo.value) and message in str(excinfo.value)


def test_admin_console_creates_and_edits_an_authenticator(admin_client):
    form = {"name": "token", "display_name": "Hardware token", "registration": REGISTRATION,
            "authentication": AUTHENTICATION, "deregistration": "", "max_failed_attempts": 5, "enabled": "on"}
    bad = admin_client.post("/admin/custom_authenticators/customauthenticator/add/",
                            {**form, "authentication": "function nope() {}"})
    assert bad.status_code == 200 and b"does not define execute" in bad.content
    assert not CustomAuthenticator.objects.exists()
    response = admin_client.post("/admin/custom_authenticators/customauthenticator/add/", form)
    assert response.status_code == 302, response.content[:2000]
    authenticator = CustomAuthenticator.objects.get(name="token")
    assert authenticator.authentication_script.published_version().source == AUTHENTICATION
    page = admin_client.get(f"/admin/custom_authenticators/customauthenticator/{authenticator.pk}/change/")
    assert b"requestPayload.equals(registrationData)" in page.content
    changed = AUTHENTICATION.replace("4000", "4000 ")
    response = admin_client.post(f"/admin/custom_authenticators/customauthenticator/{authenticator.pk}/change/",
                                 {**form, "authentication": changed})
    assert response.status_code == 302
    assert authenticator.authentication_script.versions.count() == 2


def test_the_registry_offers_custom_authenticators_by_name():
    from authflow.authenticators import registry

    make("card")
    plugin = registry.get("card")
    assert plugin.name == "card" and registry.display_name("card") == "Device key" and registry.is_known("card")
    assert "card" in registry.names()
    CustomAuthenticator.objects.filter(name="card").update(enabled=False)
    assert registry.get("card") is None and not registry.is_known("card")
    assert registry.get("bad\x00name") is None  # never reaches the database


def test_a_custom_authenticator_cannot_take_a_built_in_name():
    from authflow.configuration.schema import ConfigError, parse

    with pytest.raises(ConfigError, match="built-in authenticator"):
        parse({"custom_authenticators": [{"name": "totp", "registration_script": REGISTRATION,
                                          "authentication_script": AUTHENTICATION}]})


def test_an_application_may_offer_a_custom_authenticator_defined_in_the_same_file():
    from authflow.configuration.apply import apply_config
    from authflow.configuration.schema import ConfigError, parse

    app = {"name": "branch", "client_id": "branch", "client_type": "public", "redirect_uris": ["https://rp.example/cb"],
           "steps": {1: ["BasicAuthenticator"], 2: ["card"]}}
    with pytest.raises(ConfigError, match="unknown authenticator 'card'"):
        parse({"applications": [app]})
    apply_config(parse({"applications": [app], "custom_authenticators": [
        {"name": "card", "registration_script": REGISTRATION, "authentication_script": AUTHENTICATION}]}))
    assert CustomAuthenticator.objects.filter(name="card").exists()


# ---------------------------------------------------------------- manage.py simulate

def simulate_execute(tmp_path, script, scenario):
    import io

    from django.core.management import call_command

    (tmp_path / "s.js").write_text(script)
    (tmp_path / "s.json").write_text(json.dumps(scenario))
    out = io.StringIO()
    code = 0
    try:
        call_command("simulate", str(tmp_path / "s.js"), "--scenario", str(tmp_path / "s.json"), stdout=out)
    except SystemExit as exc:
        code = exc.code
    return json.loads(out.getvalue()), code


def test_simulate_runs_an_authentication_script(tmp_path):
    scenario = {"execute": {"requestPayload": "k", "userIdentifier": "alice", "registrationData": "k"}}
    trace, code = simulate_execute(tmp_path, AUTHENTICATION, scenario)
    assert code == 0
    assert trace["result"] == {"status": 2000, "responsePayload": ""}
    assert trace["answer"] == {"status": 2000, "httpStatus": 200, "responsePayload": ""}
    assert trace["events"][0]["message"] == "Authentication of Example Custom Authenticator for user: alice"
    scenario["execute"]["requestPayload"] = "other"
    assert simulate_execute(tmp_path, AUTHENTICATION, scenario)[0]["answer"]["httpStatus"] == 400


def test_simulate_shows_the_engine_s_status_and_the_problem(tmp_path):
    registration = {"execute": {"requestPayload": "k", "userIdentifier": "alice"}}
    trace, code = simulate_execute(tmp_path, script_returning("{status: 2000}", "p, u"), registration)
    assert code == 1
    assert trace["answer"]["status"] == 3004 and "registrationData" in trace["answer"]["problem"]
    trace, code = simulate_execute(tmp_path, "function execute(p, u) { null.x; }", registration)
    assert (code, trace["status"], trace["answer"]["status"]) == (1, "error", 3001)
    assert trace["events"][-1]["line"] == 1


def test_simulate_refuses_a_bad_execute_scenario(tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="execute.userIdentifier is required"):
        simulate_execute(tmp_path, AUTHENTICATION, {"execute": {"requestPayload": "k"}})
