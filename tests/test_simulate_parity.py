"""`manage.py simulate` checks what the server checks, with the same code: a script that passes there passes here.

Calls: a scenario lists its allowedEndpoints (as the admin console's allow-list); a call to another
URL, an authConfig the server cannot send, a token endpoint off the list are answered fail at once
with the data the server gives, and take no outcome from the scenario.  Steps: an authenticator
`apply` refuses is refused by simulate, with the same message.  The fixture scenarios
(tests/scripts/wso2/http_*.json) show each HTTP fixture script's main and alternative paths.
"""
import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import CommandError, call_command

from authflow.outbound.models import AllowedEndpoint, OutboundCall
from sequences.harness.scenario import ScenarioError, parse_scenario
from sequences.harness.simulator import simulate
from tests.support.config import public_app
from tests.support.scripts import ok, scenario
from tests.test_outbound import PASSWORD, begin, password

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "tests" / "scripts" / "wso2"


def run_fixture(script: str, scenario_file: str) -> dict:
    trace, code = simulate((SCRIPTS / script).read_text(),
                           parse_scenario(json.loads((SCRIPTS / scenario_file).read_text())))
    assert code == 0, trace
    return trace


def steps_of(trace):
    return [e["step"] for e in trace["events"] if e["type"] == "step"]


def fail_message(trace):
    (failed,) = [e for e in trace["events"] if e["type"] == "fail"]
    return failed["params"].get("errorMessage")


# ------------------------------------------------------------------ the fixture scripts, main and alternative paths

@pytest.mark.parametrize("script, scenario_file, status, steps, message", [
    ("http_basic_risk.js", "http_basic_risk.low_risk.json", "success", [1], None),
    ("http_basic_risk.js", "http_basic_risk.risky_address.json", "success", [1, 2], None),
    ("http_basic_risk.js", "http_basic_risk.not_allowed.json", "failed", [1], "risk service: not allowed"),
    ("http_clientcredential_risk.js", "http_clientcredential_risk.user.json", "success", [1], None),
    ("http_clientcredential_risk.js", "http_clientcredential_risk.admin.json", "success", [1, 2], None),
    ("http_clientcredential_risk.js", "http_clientcredential_risk.token_endpoint_not_allowed.json", "failed", [1],
     "risk service: not allowed"),
    ("http_bearer_apikey.js", "http_bearer_apikey.both_answer.json", "success", [1], None),
    ("http_bearer_apikey.js", "http_bearer_apikey.audit_down.json", "failed", [1], "audit: HTTP 401"),
    ("http_choreo_risk.js", "http_choreo_risk.home_country.json", "success", [1], None),
    ("http_choreo_risk.js", "http_choreo_risk.abroad.json", "success", [1, 2], None),
])
def test_fixture_scenarios_take_the_reference_decision(settings, script, scenario_file, status, steps, message):
    settings.AUTHFLOW_CHOREO_TOKEN_ENDPOINT = "https://sts.choreo.example/oauth2/token"
    trace = run_fixture(script, scenario_file)
    assert (trace["status"], steps_of(trace)) == (status, steps), trace
    assert "unusedOutcomes" not in trace
    if message:
        assert fail_message(trace) == message


def test_a_refused_call_shows_why_and_secrets_are_masked_in_the_trace():
    trace = run_fixture("http_clientcredential_risk.js", "http_clientcredential_risk.token_endpoint_not_allowed.json")
    (call,) = [e for e in trace["events"] if e["type"] == "call"]
    assert call["refused"] == {"error": "not allowed", "reason": "the token endpoint is not on the allow-list"}
    assert call["authConfig"] == {"type": "clientcredential", "properties": {
        "consumerKey": "risk-app", "consumerSecret": "***", "tokenEndpoint": "https://risk.example.com/oauth2/token",
        "scope": "risk:read"}}
    assert "risk-app-secret" not in json.dumps(trace)


def test_call_choreo_without_its_setting_is_refused_as_on_the_server(settings):
    settings.AUTHFLOW_CHOREO_TOKEN_ENDPOINT = ""
    trace = run_fixture("http_choreo_risk.js", "http_choreo_risk.home_country.json")
    assert fail_message(trace) == "choreo: Choreo is not configured" and trace["unusedOutcomes"] == 1


def test_an_outcome_for_a_refused_call_is_named_with_the_reason():
    script = """var onLoginRequest = function (context) {
        executeStep(1, {onSuccess: function (context) {
            httpGet('https://risk.example.com/api/score', {onFail: function (context, data) { executeStep(2); }});
        }});
    };"""
    outcomes = [ok(1), {"call": "httpGet", "result": "success", "data": {}}, ok(2, authenticator="totp")]
    with pytest.raises(ScenarioError, match=r"outcomes\[1\]: .*the server refuses the httpGet call to "
                                            r"https://risk.example.com/api/score at once.*allowedEndpoints"):
        simulate(script, parse_scenario(scenario(outcomes)))
    trace, _ = simulate(script, parse_scenario(scenario(outcomes, allowedEndpoints=["https://risk.example.com/api"])))
    assert trace["status"] == "success" and steps_of(trace) == [1]


def test_the_simulate_command_refuses_a_call_off_its_allowed_endpoints(tmp_path):
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="tests.settings")
    result = subprocess.run([sys.executable, "manage.py", "simulate", str(SCRIPTS / "http_basic_risk.js"),
                             "--scenario", str(SCRIPTS / "http_basic_risk.not_allowed.json")],
                            capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    trace = json.loads(result.stdout)
    assert trace["status"] == "failed" and fail_message(trace) == "risk service: not allowed"
    bad = json.loads((SCRIPTS / "http_basic_risk.not_allowed.json").read_text())
    bad["allowedEndpoints"] = ["https://user:pw@risk.example.com/api"]
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    result = subprocess.run([sys.executable, "manage.py", "simulate", str(SCRIPTS / "http_basic_risk.js"),
                             "--scenario", str(tmp_path / "bad.json")],
                            capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert result.returncode == 2
    assert "allowedEndpoints[0]: credentials in the URL are not allowed" in result.stderr


# ------------------------------------------------------------------ the same script, on the server and in simulate

REPORT_SCRIPT = """
var report = function (outcome) {
    return function (context, data) {
        fail({errorCode: 'access_denied', errorMessage: outcome + ' ' + JSON.stringify(data)});
    };
};
var onLoginRequest = function (context) {
    executeStep(1, {onSuccess: function (context) {
        %s
    }});
};
"""
BASE = "http://127.0.0.1:9"  # nothing is called: each of these calls is refused before any request
ALLOWED = [BASE + "/api", BASE + "/oauth2/token"]
REFUSED_CALLS = {
    "off-the-list": "httpGet('%s/private/score', {}, null, handlers);" % BASE,
    "dot-segments": "httpGet('%s/api/../private', handlers);" % BASE,
    "unknown-type": "httpGet('%s/api/score', {}, {type: 'digest', properties: {}}, handlers);" % BASE,
    "basic-without-password": "httpGet('%s/api/score', {}, {type: 'basic', properties: {username: 'u'}}, handlers);"
                              % BASE,
    "apikey-bad-header": "httpGet('%s/api/score', {}, {type: 'apikey', properties: {apiKey: 'k', headerName: 'Host'}}, "
                         "handlers);" % BASE,
    "token-endpoint-off-the-list": "httpPost('%s/api/score', {}, {}, {type: 'clientcredential', properties: "
                                   "{consumerKey: 'c', consumerSecret: 's', tokenEndpoint: '%s/other/token'}}, handlers);"
                                   % (BASE, BASE),
    "forbidden-header": "httpPost('%s/api/score', {}, {'Transfer-Encoding': 'chunked'}, handlers);" % BASE,
}


def with_handlers(call):
    return ("var handlers = {onSuccess: report('success'), onFail: report('fail'), onTimeout: report('timeout')};\n"
            + call)


@pytest.mark.django_db(transaction=True)
def test_refused_calls_fail_the_same_way_on_the_server_and_in_simulate(live_server, tmp_path):
    for url in ALLOWED:
        AllowedEndpoint.objects.create(url=url)
    for name, call in REFUSED_CALLS.items():
        script = REPORT_SCRIPT % with_handlers(call)
        path = tmp_path / "app.yaml"
        path.write_text("applications:\n" + public_app("parity", "{1: [BasicAuthenticator]}", script)
                        + f'users:\n  - {{username: alice, password: "{PASSWORD}"}}\n')
        call_command("apply", "-f", str(path), stdout=io.StringIO())
        done = password(begin(live_server.url, "parity"))
        assert done.callback, f"{name}: {done.text[:500]}"
        on_server = parse_qs(urlsplit(done.callback).query)["error_description"][0]

        trace, _ = simulate(script, parse_scenario(scenario([ok(1)], allowedEndpoints=ALLOWED)))
        assert trace["status"] == "failed", (name, trace)
        assert fail_message(trace) == on_server, name
        assert on_server.startswith("fail {"), name
    assert OutboundCall.objects.exclude(answered_by="at once").count() == 0


@pytest.mark.django_db(transaction=True)
def test_an_allowed_call_waits_for_its_outcome_on_the_server_and_in_simulate(live_server, tmp_path, settings):
    settings.AUTHFLOW_CALL_QUEUE = "authflow-test-parity-nobody"  # no worker: the call stays queued
    for url in ALLOWED:
        AllowedEndpoint.objects.create(url=url)
    call = ("httpPost('%s/api/score', {}, {}, {type: 'clientcredential', properties: {consumerKey: 'c', "
            "consumerSecret: 's', tokenEndpoint: '%s/oauth2/token', scope: 'a b'}}, handlers);" % (BASE, BASE))
    script = REPORT_SCRIPT % with_handlers(call)
    path = tmp_path / "app.yaml"
    path.write_text("applications:\n" + public_app("parity", "{1: [BasicAuthenticator]}", script)
                    + f'users:\n  - {{username: alice, password: "{PASSWORD}"}}\n')
    call_command("apply", "-f", str(path), stdout=io.StringIO())
    try:
        waiting = password(begin(live_server.url, "parity"))
        assert "Checking your sign-in" in waiting.text
    finally:
        from authflow.celery import app

        with app.connection_for_write() as conn:
            conn.default_channel.queue_purge(settings.AUTHFLOW_CALL_QUEUE)
    trace, _ = simulate(script, parse_scenario(scenario([ok(1)], allowedEndpoints=ALLOWED)))
    assert trace["status"] == "waiting" and "refused" not in trace["events"][-1]


# ------------------------------------------------------------------ authenticator names

@pytest.mark.django_db
@pytest.mark.parametrize("steps", [
    {"1": ["BasicAuthenticator"], "2": ["totp", "sms-otp-authenticatr"]},
    {"1": ["NoSuchAuthenticator"]},
])
def test_an_authenticator_apply_refuses_is_refused_by_simulate_with_the_same_message(tmp_path, steps):
    yaml_steps = "{" + ", ".join(f"{n}: [{', '.join(names)}]" for n, names in steps.items()) + "}"
    path = tmp_path / "app.yaml"
    path.write_text("applications:\n" + public_app("names", yaml_steps, "var onLoginRequest = function (c) {};"))
    with pytest.raises(CommandError) as refused_by_apply:
        call_command("apply", "-f", str(path), stdout=io.StringIO())
    with pytest.raises(ScenarioError) as refused_by_simulate:
        simulate("var onLoginRequest = function (c) { executeStep(1); };", parse_scenario(scenario([], steps=steps)))
    server_message = str(refused_by_apply.value).split("steps: ", 1)[1].removesuffix(" (nothing was changed)")
    assert str(refused_by_simulate.value) == "application.steps: " + server_message
    assert "unknown authenticator" in server_message


def test_known_and_federated_authenticators_pass_in_simulate():
    trace, code = simulate(textwrap.dedent("""
        var onLoginRequest = function (c) {
            executeStep(3, {authenticationOptions: [{idp: 'google'}]}, {});
        };"""), parse_scenario(scenario([])))
    assert code == 0 and trace["status"] == "waiting"
    assert trace["events"][-1]["options"] == [{"authenticator": "OpenIDConnectAuthenticator", "idp": "google"}]


def test_a_secret_the_script_puts_in_a_header_or_auth_config_is_masked_in_the_trace():
    script = """var onLoginRequest = function (context) {
        var token = getSecretByName('riskToken');
        httpGet('https://risk.example.com/api/score', {Authorization: 'Bearer ' + token, Accept: 'application/json'},
                {type: 'apikey', properties: {apiKey: 'key-1', headerName: 'X-Key'}}, {});
    };"""
    trace, _ = simulate(script, parse_scenario(scenario([], secrets={"riskToken": "t0ken-value"},
                                                        allowedEndpoints=["https://risk.example.com/api"])))
    (call,) = [e for e in trace["events"] if e["type"] == "call"]
    assert call["headers"] == {"Authorization": "***", "Accept": "application/json"}
    assert call["authConfig"] == {"type": "apikey", "properties": {"apiKey": "***", "headerName": "X-Key"}}
    assert "t0ken-value" not in json.dumps(trace) and "key-1" not in json.dumps(trace)


@pytest.mark.django_db  # the registry also knows the custom authenticators configured in the database
def test_a_step_passed_with_an_authenticator_the_server_cannot_offer_is_refused():
    steps = {"1": ["BasicAuthenticator", "x509CertificateAuthenticator"]}
    source = "var onLoginRequest = function (c) { executeStep(1); };"
    with pytest.raises(ScenarioError, match=r"outcomes\[0\]: 'x509CertificateAuthenticator' is not available on this "
                                            r"server \(no plugin implements it\), so no user can pass it"):
        simulate(source, parse_scenario(scenario([ok(1, authenticator="x509CertificateAuthenticator")], steps=steps)))
    trace, code = simulate(source, parse_scenario(scenario([ok(1, authenticator="BasicAuthenticator")], steps=steps)))
    assert (code, trace["status"]) == (0, "success")
