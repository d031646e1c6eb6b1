"""The replay debugger: a recorded flow read round trip by round trip (sequences.api.flow_trace), re-run against
another version of its script (flow_rerun), through the flows service, the management API and the console."""
import json
import re
from html import unescape

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from authflow.applications.models import Application
from authflow.directory.models import Role, User
from authflow.flows import service
from authflow.flows.models import EffectRecord, LoginFlow
from sequences.api import (
    FlowState,
    Program,
    advance,
    flow_rerun,
    flow_trace,
    normalize_steps,
    prompt_answer,
    request_inputs,
    save_version,
    step_answer,
)
from tests.support.api import api_client
from tests.support.console import sign_in_to_console

PASSWORD = "s3cret-typed-in-a-prompt"
COOKIE = "cookie-value-the-browser-sent"

SCRIPT = """var onLoginRequest = function (context) {
    Log.info('login for ' + context.serviceProviderName);
    executeStep(1, {onSuccess: function (context) {
        var user = context.currentKnownSubject;
        Log.info('passed step 1 as ' + user.username + ' at ' + Date.now());
        assignUserRoles(user, ['verified']);
        prompt('genericForm', {}, {onSuccess: function (context) {
            Log.warn('typed ' + context.request.params.pin);
            executeStep(2);
        }});
    }});
};
"""
# Asks for step 3 where SCRIPT asks for step 2: the fourth answer's command differs.
ANOTHER_STEP = SCRIPT.replace("executeStep(2);", "executeStep(3);")
# Only what it logs changed: it decides the same everywhere.
ONLY_LOGS = SCRIPT.replace("'login for '", "'a login for '")
# Reads the user's roles before the prompt: same commands, another path (the engine's path digest sees it).
READS_ROLES = SCRIPT.replace("assignUserRoles(user, ['verified']);",
                             "assignUserRoles(user, ['verified']);\n        Log.info(hasRole(user, 'admin'));")

STEPS = {str(n): [{"authenticator": "BasicAuthenticator", "idp": "LOCAL"}] for n in (1, 2, 3)}


class World:
    """A directory of one user; effects are counted, never anything else."""

    def __init__(self):
        self.effects = []

    def load_user(self, username):
        return {"username": username, "roles": ["admin"], "groups": [], "claims": {}} if username == "alice" else None

    def apply_effect(self, name, args):
        self.effects.append(name)
        return True

    def lookup(self, kind, key):
        return None


def recorded_flow(source=SCRIPT):
    """A flow of `source` run to completion, as a login would: start, step 1, the prompt (a secret PIN), step 2."""
    program, world = Program.from_source(source), World()
    state = FlowState.start("portal", STEPS, request_inputs("203.0.113.9", {"User-Agent": "pytest"}, {},
                                                            {"remember": COOKIE}))
    result = advance(program, state, world, now_ms=1_700_000_000_000)
    for answer in (step_answer(1, "success", user="alice", authenticator="BasicAuthenticator"),
                   prompt_answer("genericForm", params={"pin": PASSWORD}, secret=["pin"]),
                   step_answer(2, "success", user="alice", authenticator="BasicAuthenticator")):
        result = advance(program, result.state, world, answer=answer, now_ms=1_700_000_060_000)
    assert result.command["type"] == "complete" and world.effects == ["assignUserRoles"]
    return program, result.state, world


def test_each_round_trip_shows_its_command_the_journal_entries_its_logs_with_lines_and_its_effects():
    program, state, world = recorded_flow()
    trace = flow_trace(program, state, read_user=World().load_user)
    assert trace["boundaries"] == "recorded"
    trips = trace["round_trips"]
    assert [trip["command"]["type"] for trip in trips] == ["step", "prompt", "step", "complete"]
    assert [trip["answer"] and trip["answer"]["k"] for trip in trips] == [None, "step", "prompt", "step"]
    start, step_1, prompt, step_2 = trips
    assert start["command"]["step"] == 1 and step_2["command"]["subject"] == "alice"
    assert start["logs"] == [{"level": "info", "message": "login for portal", "line": 2, "library": None}]
    assert step_1["logs"] == [{"level": "info", "message": "passed step 1 as alice at 1700000060000", "line": 5,
                               "library": None}]
    # the effect the round trip asked for, with its arguments, and the journal entries it added
    assert step_1["effects"] == [{"position": 1, "name": "assignUserRoles", "args": ["alice", ["verified"]],
                                  "result": True}]
    assert [entry["k"] for entry in step_1["journal"]["added"]["answers"]] == ["step", "effect"]
    assert step_1["journal"]["added"]["clock"] == [1_700_000_060_000]
    assert step_1["journal"]["consumed"] == {"answers": 0, "clock": 0, "users": [], "lookups": []}
    assert prompt["journal"]["consumed"]["answers"] == 2 and prompt["journal"]["consumed"]["clock"] == 1
    assert step_2["command"]["type"] == "complete" and step_2["logs"] == []
    assert world.effects == ["assignUserRoles"]  # tracing applied nothing


def test_secrets_never_show_a_prompt_password_a_cookie_or_a_log_line_holding_one_is_sealed():
    program, state, _ = recorded_flow()
    trace = flow_trace(program, state)
    text = json.dumps(trace)
    assert PASSWORD not in text and COOKIE not in text
    prompt = trace["round_trips"][2]
    assert prompt["answer"]["params"] == {"pin": "(sealed)"}
    assert prompt["logs"][0]["message"] == "typed (sealed)" and prompt["logs"][0]["line"] == 8
    assert trace["request"]["cookies"] == {"remember": "(sealed)"}


COOKIES = """var onLoginRequest = function (context) {
    var remembered = getCookieValue(context.request, 'remember', {validateSignature: true});
    Log.info('remembered ' + remembered);
    executeStep(1, {onSuccess: function (context) {
        setCookie(context.response, 'device', 'device-cookie-value-42', {'max-age': 60});
        updateUserPassword(context.currentKnownSubject, 'new-password-value-7');
    }});
};
"""


class CookieWorld(World):
    def lookup(self, kind, key):
        return "verified-remember-value" if kind == "cookie" and key["value"] == COOKIE else None


def test_cookies_a_script_reads_or_sets_and_a_new_password_never_show():
    program, world = Program.from_source(COOKIES), CookieWorld()
    state = FlowState.start("portal", STEPS, request_inputs("203.0.113.9", {}, {}, {"remember": COOKIE}))
    result = advance(program, state, world)
    result = advance(program, result.state, world,
                     answer=step_answer(1, "success", user="alice", authenticator="BasicAuthenticator"))
    assert result.command["type"] == "complete" and world.effects == ["setCookie", "updateUserPassword"]
    trace = flow_trace(program, result.state)
    text = json.dumps(trace)
    for secret in (COOKIE, "verified-remember-value", "device-cookie-value-42", "new-password-value-7"):
        assert secret not in text, secret
    start, step_1 = trace["round_trips"]
    assert start["logs"][0]["message"] == "remembered (sealed)"
    assert start["journal"]["added"]["lookups"] == [{"key": "cookie:(sealed)", "value": "(sealed)"}]
    assert [(e["name"], e["args"][:2]) for e in step_1["effects"]] == [
        ("setCookie", ["device", "(sealed)"]), ("updateUserPassword", ["alice", "[redacted]"])]
    marks = json.dumps(result.state.journal["trips"])
    assert COOKIE not in marks and "verified-remember-value" not in marks  # the marks hold no secret


def test_a_version_asking_for_another_step_diverges_at_the_round_trip_that_asks_it():
    program, state, _ = recorded_flow()
    rerun = flow_rerun(program, Program.from_source(ANOTHER_STEP), state)
    assert rerun["same"] is False
    divergence = rerun["divergence"]
    assert divergence["round_trip"] == 2 and divergence["position"] == 3 and divergence["kind"] == "command"
    assert divergence["recorded"]["step"] == 2 and divergence["other"]["step"] == 3
    assert divergence["message"] == "the recorded script asked for step 2 here; this version asked for step 3"


def test_a_version_that_only_logs_differently_decides_the_same():
    program, state, _ = recorded_flow()
    rerun = flow_rerun(program, Program.from_source(ONLY_LOGS), state)
    assert rerun == {"same": True, "compared": 5, "round_trips": 4, "divergence": None}


def test_a_version_taking_another_path_is_caught_by_the_engines_path_digest():
    program, state, _ = recorded_flow()
    rerun = flow_rerun(program, Program.from_source(READS_ROLES), state, read_user=World().load_user)
    divergence = rerun["divergence"]
    assert divergence["kind"] == "path" and divergence["round_trip"] == 2
    assert "took a different path on replay" in divergence["message"]


# ---------------------------------------------------------------- on the database: the flows service

def make_app(script=SCRIPT, name="portal"):
    app = Application.objects.create(name=name, client_id=name, redirect_uris=["http://127.0.0.1:9000/callback"],
                                     steps=normalize_steps({1: ["BasicAuthenticator"], 2: ["totp"],
                                                            3: ["BasicAuthenticator"]}))
    version, _ = save_version(name, script)
    app.sequence = version.sequence
    app.save()
    return app


def make_alice():
    user = User.objects.create_user(username="alice", password="correct horse battery staple")
    Role.objects.get_or_create(name="verified")
    return user


def run_login(app, *, strip_marks_after_start=False):
    request = request_inputs("203.0.113.9", {"User-Agent": "pytest"}, {}, {"remember": COOKIE})
    flow = service.start_flow(app, request)
    if strip_marks_after_start:  # as the previous release stored it: no round-trip marks in the journal
        state = json.loads(json.dumps(flow.state))
        state["journal"].pop("trips")
        LoginFlow.objects.filter(pk=flow.pk).update(state=state)
    for answer in (step_answer(1, "success", user="alice", authenticator="BasicAuthenticator"),
                   prompt_answer("genericForm", params={"pin": PASSWORD}, secret=["pin"]),
                   step_answer(2, "success", user="alice", authenticator="totp")):
        flow = service.resume_flow(flow.id, answer, position=flow.pending["position"])
    return flow


@pytest.mark.django_db
def test_a_stored_flow_is_traced_with_its_secrets_sealed_and_nothing_applied_again():
    app, _ = make_app(), make_alice()
    flow = run_login(app)
    assert flow.status == LoginFlow.Status.SUCCEEDED
    assert PASSWORD not in json.dumps(flow.state)  # sealed at rest, as before
    trace = service.trace(flow)
    assert [trip["command"]["type"] for trip in trace["round_trips"]] == ["step", "prompt", "step", "complete"]
    assert PASSWORD not in json.dumps(trace) and COOKIE not in json.dumps(trace)
    assert trace["round_trips"][2]["logs"][0]["message"] == "typed (sealed)"  # replayed with the secret opened
    assert EffectRecord.objects.filter(flow=flow).count() == 1


@pytest.mark.django_db
def test_a_flow_stored_by_the_previous_release_still_resumes_and_is_traced_with_inferred_round_trips():
    app, _ = make_app(), make_alice()
    flow = run_login(app, strip_marks_after_start=True)
    flow.refresh_from_db()
    assert flow.status == LoginFlow.Status.SUCCEEDED and flow.subject == "alice"
    trace = service.trace(flow)
    assert trace["boundaries"] == "inferred"
    trips = trace["round_trips"]
    assert [trip["command"]["type"] for trip in trips] == ["step", "prompt", "step", "complete"]
    assert trips[0]["at"] is None and trips[0]["journal"]["consumed"]["clock"] is None  # not recorded then
    assert trips[1]["at"] is not None and trips[1]["journal"]["added"]["clock"]  # marked since the update


# ---------------------------------------------------------------- the management API

@pytest.mark.django_db
def test_the_api_serves_a_flows_trace_and_its_rerun_to_the_scopes_that_may_read_them():
    app, _ = make_app(), make_alice()
    flow = run_login(app)
    save_version("portal", ANOTHER_STEP, publish=False)
    reader = api_client("flows:read", "sequences:read")
    trace = reader.get(f"/api/v1/flows/{flow.id}/trace/")
    assert trace.status_code == 200
    body = trace.json()
    assert body["flow"]["id"] == str(flow.id) and body["flow"]["sequence_version"] == 1
    assert len(body["round_trips"]) == 4 and PASSWORD not in trace.content.decode()
    rerun = reader.get(f"/api/v1/flows/{flow.id}/rerun/?version=2")
    assert rerun.status_code == 200
    assert rerun.json()["divergence"]["round_trip"] == 2 and rerun.json()["recorded_version"] == 1
    same = reader.get(f"/api/v1/flows/{flow.id}/rerun/?version=1")
    assert same.json()["same"] is True
    for bad in ("", "x", "99", "-1"):
        answer = reader.get(f"/api/v1/flows/{flow.id}/rerun/?version={bad}")
        assert answer.status_code == 400 and answer.json()["errors"][0]["field"] == "version", bad
    assert reader.get(f"/api/v1/flows/{flow.id}/rerun/?version=1%00").status_code == 400
    assert reader.get("/api/v1/flows/00000000-0000-0000-0000-000000000000/trace/").status_code == 404
    flows_only = api_client("flows:read", name="flows-only")
    assert flows_only.get(f"/api/v1/flows/{flow.id}/trace/").status_code == 200
    refused = flows_only.get(f"/api/v1/flows/{flow.id}/rerun/?version=2")
    assert refused.status_code == 403 and "sequences:read" in refused.json()["errors"][0]["message"]
    assert api_client("sequences:read", name="scripts-only").get(f"/api/v1/flows/{flow.id}/trace/").status_code == 403
    assert Client().get(f"/api/v1/flows/{flow.id}/trace/").status_code in (401, 403)


@pytest.mark.django_db
def test_a_flow_the_engine_cannot_replay_is_a_clear_conflict_not_a_server_error():
    app, _ = make_app(), make_alice()
    flow = run_login(app)
    state = dict(flow.state, runtime=1)  # written by an engine whose replays this one does not reproduce
    LoginFlow.objects.filter(pk=flow.pk).update(state=state)
    reader = api_client("flows:read", "sequences:read")
    for url in (f"/api/v1/flows/{flow.id}/trace/", f"/api/v1/flows/{flow.id}/rerun/?version=1"):
        answer = reader.get(url)
        assert answer.status_code == 409, url
        assert "another version of the script engine" in answer.json()["errors"][0]["message"]


# ---------------------------------------------------------------- the console pages

def text_of(answer) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", answer.content.decode())))


@pytest.mark.django_db
def test_the_console_lists_recent_flows_per_application_searched_by_username_or_flow_id(admin_user):
    app, _ = make_app(), make_alice()
    flow = run_login(app)
    other = service.start_flow(make_app("var onLoginRequest = function (c) { executeStep(1); };", name="shop"),
                               request_inputs("203.0.113.9", {}, {}, {}))
    staff = Client()
    sign_in_to_console(staff, admin_user)
    everything = staff.get("/console/flows/")
    assert everything.status_code == 200
    assert str(flow.id) in everything.content.decode() and str(other.id) in everything.content.decode()
    portal_only = staff.get("/console/flows/?application=portal").content.decode()
    assert str(flow.id) in portal_only and str(other.id) not in portal_only
    by_name = staff.get("/console/flows/?q=ali").content.decode()
    assert str(flow.id) in by_name and str(other.id) not in by_name
    by_id = staff.get(f"/console/flows/?q={other.id}").content.decode()
    assert str(other.id) in by_id and str(flow.id) not in by_id
    by_start = staff.get(f"/console/flows/?q={str(flow.id)[:8].upper()}").content.decode()  # as the list shows it
    assert str(flow.id) in by_start and str(other.id) not in by_start
    assert "No login flows match" in text_of(staff.get("/console/flows/?q=nobody"))
    assert "No login flows match" in text_of(staff.get("/console/flows/?application=portal&q=" + "x" * 500))
    assert staff.get("/console/flows/?application=no-such-app").status_code == 200  # all applications, then
    page = staff.get(f"/console/flows/{flow.id}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-trace-url="/api/v1/flows/{flow.id}/trace/"' in html and "<script>" not in html
    assert staff.get("/console/flows/00000000-0000-0000-0000-000000000000/").status_code == 404


@pytest.mark.django_db
def test_the_console_flows_pages_are_for_staff_who_may_read_flows(admin_user):
    app, _ = make_app(), make_alice()
    flow = run_login(app)
    anonymous = Client().get(f"/console/flows/{flow.id}/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/admin/login/")
    clerk = User.objects.create_user(username="clerk", password="clerk-password-123", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_sequence"))
    browser = Client()
    sign_in_to_console(browser, clerk)
    assert browser.get("/console/flows/").status_code == 403
    assert browser.get(f"/api/v1/flows/{flow.id}/trace/").status_code == 403
