"""`manage.py simulate`: the documented contract (trace, exit codes, bad input messages)."""
import json
import os
import subprocess
import sys

import pytest

from sequences.harness.scenario import ScenarioError, parse_scenario
from tests.support.scripts import scenario

ROOT = os.path.dirname(os.path.dirname(__file__))
SCRIPT = """var onLoginRequest = function(context) {
    executeStep(1, {onSuccess: function (context) {
        var user = context.currentKnownSubject;
        if (hasRole(user, 'admin')) { executeStep(2); }
        assignUserRoles(user, ['seen']);
    }});
};"""


def simulate(tmp_path, script, data):
    (tmp_path / "s.js").write_text(script)
    (tmp_path / "sc.json").write_text(data if isinstance(data, str) else json.dumps(data))
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="tests.settings")
    result = subprocess.run([sys.executable, "manage.py", "simulate", str(tmp_path / "s.js"), "--scenario",
                             str(tmp_path / "sc.json")], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    trace = json.loads(result.stdout) if result.stdout.strip() else None
    return result.returncode, trace, result.stderr


def test_success_trace_and_exit_code_0(tmp_path):
    code, trace, _ = simulate(tmp_path, SCRIPT, scenario([
        {"step": 1, "result": "success", "user": "alice", "authenticator": "BasicAuthenticator"},
        {"step": 2, "result": "fail"},
        {"step": 2, "result": "success", "user": "alice", "authenticator": "totp"},
    ]))
    assert code == 0
    assert trace["status"] == "success" and trace["subject"] == "alice"
    assert [e["type"] for e in trace["events"]] == ["step", "step", "step", "effect"]
    assert trace["events"][0] == {"type": "step", "step": 1, "options": [{"authenticator": "BasicAuthenticator", "idp": "LOCAL"}]}
    assert trace["events"][3] == {"type": "effect", "name": "assignUserRoles", "args": ["alice", ["seen"]], "result": True}


def test_waiting_and_failed_exit_0_and_error_exit_1(tmp_path):
    code, trace, _ = simulate(tmp_path, SCRIPT, scenario([]))
    assert code == 0 and trace["status"] == "waiting" and trace["events"][-1]["type"] == "step"
    code, trace, _ = simulate(tmp_path, "var onLoginRequest = function(c) { fail({errorCode: 'denied'}); };", scenario([]))
    assert code == 0 and trace["status"] == "failed" and trace["events"] == [{"type": "fail", "params": {"errorCode": "denied"}}]
    code, trace, _ = simulate(tmp_path, "var onLoginRequest = function(c) {\n  undefinedFunction();\n};", scenario([]))
    assert code == 1 and trace["status"] == "error"
    assert trace["events"][-1] == {"type": "error", "message": "ReferenceError: undefinedFunction is not defined",
                                   "line": 2, "column": 3}


def test_syntax_error_exit_1_with_line(tmp_path):
    code, trace, _ = simulate(tmp_path, "var onLoginRequest = function(c) {\n  executeStep(1\n};", scenario([]))
    assert code == 1 and trace["events"][0] == {"type": "error", "message": "SyntaxError: missing ) after argument list",
                                                "line": 2, "column": 15}


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.update(extra=1), "scenario: unknown key 'extra'"),
    (lambda d: d["application"].update(steps={"0": ["x"]}), "application.steps: bad step number '0'"),
    (lambda d: d.update(now="yesterday"), "now: 'yesterday' is not an ISO 8601 time"),
    (lambda d: d["users"]["alice"].update(roles="admin"), "users.alice.roles: expected a list of names"),
    (lambda d: d["outcomes"].append({"step": 1, "result": "maybe"}), "outcomes[0].result: expected one of success, fail, fallback, abort"),
    (lambda d: d["outcomes"].append({"step": 1, "result": "success", "user": "mallory"}), "outcomes[0].user: 'mallory' is not one of the scenario's users"),
    (lambda d: d["outcomes"].append({"step": 1, "result": "success"}), "outcomes[0].user: a successful step names the user"),
    (lambda d: d["outcomes"].append({"prompt": "x", "step": 1}), "outcomes[0]: an outcome answers one step, prompt or call"),
    (lambda d: d["outcomes"].append({"hello": 1}), "outcomes[0]: expected a step outcome"),
    (lambda d: d.update(session={"user": "mallory"}), "session.user: 'mallory' is not one of the scenario's users"),
    (lambda d: d.update(session={"user": "alice", "authenticated": [3]}), "session.authenticated[0]: expected an authenticator name"),
    (lambda d: d.update(session={"user": "alice", "since": 1}), "session: unknown key 'since'"),
    (lambda d: d["users"]["alice"].update(sessions=[{"id": "s", "loginTime": "noon"}]),
     "users.alice.sessions[0].loginTime: 'noon' is not an ISO 8601 time"),
    (lambda d: d["users"]["alice"].update(sessions=[{"ip": "10.0.0.1"}]), "users.alice.sessions[0].id: expected a string"),
])
def test_bad_scenarios_are_named(mutate, message):
    data = scenario([])
    mutate(data)
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(data)
    assert message in str(caught.value)


def test_bad_input_exits_2_with_a_message(tmp_path):
    code, trace, stderr = simulate(tmp_path, SCRIPT, "{not json")
    assert code == 2 and trace is None and "scenario: not valid JSON" in stderr
    data = scenario([{"step": 2, "result": "success", "user": "alice", "authenticator": "totp"}])
    code, _, stderr = simulate(tmp_path, SCRIPT, data)
    assert code == 2 and "outcomes[0]: the flow waits for step 1" in stderr
    data = scenario([{"prompt": "consent"}])
    code, _, stderr = simulate(tmp_path, SCRIPT, data)
    assert code == 2 and "outcomes[0]: the script asked for step 1, but this outcome answers the prompt 'consent'" in stderr


def test_calls_cookies_and_effects_through_the_command(tmp_path):
    script = """var onLoginRequest = function(context) {
        executeStep(1, {onSuccess: function (context) {
            var user = context.currentKnownSubject;
            if (getCookieValue(context.request, 'device', {validateSignature: true}) !== user.username) {
                sendEmail(user, 'new-sign-in', {ip: context.request.ip});
                setCookie(context.response, 'device', user.username, {sign: true});
            }
            httpPost('https://risk.example.com/check', {user: user.username}, {}, {
                onSuccess: function (context, data) { if (data.risk === 'high') { executeStep(2); } }
            });
            publishToAnalytics({Application: 'logins'}, {user: user.username});
        }});
    };"""
    data = scenario([{"step": 1, "result": "success", "user": "alice"},
                     {"call": "httpPost", "result": "success", "data": {"risk": "high"}},
                     {"step": 2, "result": "success", "user": "alice", "authenticator": "totp"}],
                    allowedEndpoints=["https://risk.example.com/check"])
    code, trace, stderr = simulate(tmp_path, script, data)
    assert code == 0 and trace["status"] == "success", stderr
    kinds = [(e["type"], e.get("name") or e.get("function") or e.get("step")) for e in trace["events"]]
    assert kinds == [("step", 1), ("effect", "sendEmail"), ("effect", "setCookie"),
                     ("call", "httpPost"), ("step", 2), ("effect", "publishToAnalytics")]
    # a device cookie signed by the harness with the server's keys is recognised: no email, no new cookie
    data["request"]["cookies"] = {"device": {"value": "alice", "sign": True}}
    code, trace, _ = simulate(tmp_path, script, data)
    assert [e.get("name") for e in trace["events"] if e["type"] == "effect"] == ["publishToAnalytics"]
