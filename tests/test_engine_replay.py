"""Replay: closures survive round trips, time and randomness repeat, directory reads are pinned."""
import json

from sequences.api import FlowState, Program, advance, step_answer
from sequences.harness.scenario import parse_scenario
from sequences.harness.simulator import ScenarioWorld
from tests.support.scripts import events, logs, ok, run, scenario

STEPS = {"1": [{"authenticator": "BasicAuthenticator", "idp": "LOCAL"}],
         "2": [{"authenticator": "totp", "idp": "LOCAL"}]}


class CountingWorld(ScenarioWorld):
    def __init__(self, users):
        super().__init__(parse_scenario(scenario(users=users)))
        self.loads = []
        self.effects = []

    def load_user(self, username):
        self.loads.append(username)
        return super().load_user(username)

    def apply_effect(self, name, args):
        self.effects.append((name, args))
        return super().apply_effect(name, args)


def through_json(state):
    return FlowState.from_dict(json.loads(json.dumps(state.to_dict())))


def test_closures_keep_their_values_across_round_trips():
    trace = run("""var onLoginRequest = function(context) {
        var attempts = 0;
        var firstIp = context.request.ip;
        var seen = [];
        executeStep(1, {onSuccess: function (context) {
            seen.push(context.currentKnownSubject.username);
            attempts++;
            executeStep(2, {onSuccess: function (context) {
                attempts++;
                Log.info(firstIp + ' ' + attempts + ' ' + seen.join(','));
            }});
        }});
    };""", [ok(1), ok(2, authenticator="totp")])
    assert logs(trace) == ["203.0.113.9 2 alice"]


def test_date_and_random_are_replayed_with_the_values_first_observed():
    script = """var onLoginRequest = function(context) {
        var t = Date.now(), d = new Date().toISOString(), r = Math.random();
        executeStep(1, {onSuccess: function () {
            Log.info(t + ' ' + d + ' ' + r + ' later:' + Date.now() + ' ' + Math.random());
        }});
        executeStep(2);
    };"""
    world = CountingWorld({"alice": {"roles": [], "groups": [], "claims": {}}})
    program = Program.from_source(script)
    state = FlowState.start("portal", STEPS, seed=1234)
    first = advance(program, state, world, now_ms=1_000_000)
    second = advance(program, through_json(first.state), world,
                     answer=step_answer(1, "success", user="alice", authenticator="BasicAuthenticator"),
                     now_ms=5_000_000)
    third = advance(program, through_json(second.state), world,
                    answer=step_answer(2, "success", user="alice", authenticator="totp"), now_ms=9_000_000)
    # the values seen in round trip 1 are the same when replayed in round trips 2 and 3
    line = [e["message"] for e in second.events if e["type"] == "log"][0]
    t, d, r, later, r2 = line.split(" ")
    assert t == "1000000" and d == "1970-01-01T00:16:40.000Z"
    assert later == "later:5000000"
    assert third.command["type"] == "complete"
    assert second.state.journal["clock"] == [1000000, 1000000, 5000000]
    # a replay of the whole flow gives the same line again (the log is not delivered twice, so compare a rerun)
    rerun_state = through_json(third.state)
    rerun_state.journal["logs"] = 0
    rerun = advance(program, rerun_state, world, now_ms=99_000_000)
    assert [e["message"] for e in rerun.events if e["type"] == "log"] == [line]
    assert 0 <= float(r) < 1 and float(r) != float(r2)


def test_time_never_runs_backwards_within_a_flow():
    trace = run("""var onLoginRequest = function(context) {
        var a = Date.now();
        executeStep(1, {onSuccess: function() { Log.info(String(Date.now() >= a)); }});
    };""", [ok(1, at="2020-01-01T00:00:00Z")])
    assert logs(trace) == ["true"]


def test_directory_reads_are_pinned_for_the_rest_of_the_flow():
    script = """var onLoginRequest = function(context) {
        executeStep(1, {onSuccess: function (context) {
            if (hasRole(context.currentKnownSubject, 'admin')) { executeStep(2); }
        }});
    };"""
    world = CountingWorld({"alice": {"roles": ["admin"], "groups": [], "claims": {}}})
    program = Program.from_source(script)
    state = advance(program, FlowState.start("portal", STEPS), world).state
    after_1 = advance(program, through_json(state), world,
                      answer=step_answer(1, "success", user="alice", authenticator="BasicAuthenticator"))
    assert after_1.command["step"] == 2
    # an administrator removes the role while alice is at step 2: the flow keeps its path
    world.users["alice"]["roles"] = []
    after_2 = advance(program, through_json(after_1.state), world,
                      answer=step_answer(2, "success", user="alice", authenticator="totp"))
    assert after_2.command["type"] == "complete"
    assert after_2.state.journal["reads"]["alice"]["roles"] == ["admin"]


def test_reads_not_prefetched_are_looked_up_and_journaled_in_the_same_round_trip():
    script = """var onLoginRequest = function(context) {
        executeStep(1, {onSuccess: function (context) {
            Log.info(String(hasRole(context.currentKnownSubject, 'admin')));
        }});
        executeStep(2, {onSuccess: function (context) {
            Log.info(context.steps[1].subject.localClaims['http://wso2.org/claims/dob']);
        }});
    };"""
    world = CountingWorld({"alice": {"roles": ["admin"], "groups": [], "claims": {"http://wso2.org/claims/dob": "1990-01-31"}}})
    program = Program.from_source(script)
    state = advance(program, FlowState.start("portal", STEPS), world).state
    after_1 = advance(program, state, world, answer=step_answer(1, "success", user="alice", authenticator="BasicAuthenticator"))
    assert world.loads == ["alice"]  # prefetched with the answer that named her
    world.loads.clear()
    after_2 = advance(program, after_1.state, world, answer=step_answer(2, "success", user="alice", authenticator="totp"))
    # the dob claim was never read before: the run halted for a lookup, and resumed in the same call
    assert world.loads == ["alice"]
    assert [e["message"] for e in after_2.events if e["type"] == "log"] == ["1990-01-31"]
    assert after_2.state.journal["reads"]["alice"]["claims"] == {"http://wso2.org/claims/dob": "1990-01-31"}
    assert after_2.command["type"] == "complete"


def test_effects_are_applied_once_even_though_the_script_replays_them():
    script = """var onLoginRequest = function(context) {
        executeStep(1, {onSuccess: function (context) { assignUserRoles(context.currentKnownSubject, ['seen']); }});
        executeStep(2);
        prompt('done', {});
    };"""
    world = CountingWorld({"alice": {"roles": [], "groups": [], "claims": {}}})
    program = Program.from_source(script)
    state = advance(program, FlowState.start("portal", STEPS), world).state
    state = advance(program, state, world, answer=step_answer(1, "success", user="alice", authenticator="BasicAuthenticator")).state
    state = advance(program, state, world, answer=step_answer(2, "success", user="alice", authenticator="totp")).state
    assert world.effects == [("assignUserRoles", ["alice", ["seen"]])]


def test_a_journal_that_does_not_fit_the_script_is_reported_not_followed():
    program = Program.from_source("var onLoginRequest = function(c) { executeStep(2); };")
    state = FlowState.start("portal", STEPS)
    state.journal["answers"].append(step_answer(1, "success", user="alice", authenticator="BasicAuthenticator"))
    result = advance(program, state, CountingWorld({"alice": {}}))
    assert result.command["type"] == "error" and result.command["kind"] == "replay"
    assert "journal answers step 1 where the script asked for step 2" in result.command["message"]


def test_suspended_state_is_small_plain_json():
    trace_state = None
    script = """var onLoginRequest = function(context) {
        executeStep(1, {onSuccess: function (c) { if (hasRole(c.currentKnownSubject, 'admin')) { executeStep(2); } }});
    };"""
    world = CountingWorld({"alice": {"roles": ["admin"], "groups": ["staff"], "claims": {}}})
    program = Program.from_source(script)
    state = advance(program, FlowState.start("portal", STEPS), world).state
    trace_state = advance(program, state, world,
                          answer=step_answer(1, "success", user="alice", authenticator="BasicAuthenticator")).state
    text = json.dumps(trace_state.to_dict())
    assert json.loads(text) == trace_state.to_dict()
    assert len(text) < 2048


def test_simulate_trace_is_identical_when_run_twice():
    script = "var onLoginRequest = function(c) { Log.info(Math.random() + ' ' + new Date()); executeStep(1); };"
    assert run(script, [ok(1)]) == run(script, [ok(1)])
    assert logs(run(script, [ok(1)], seed=1)) != logs(run(script, [ok(1)], seed=2))
    assert events(run(script, [ok(1)]), "log")[0]["message"].endswith("GMT+0000 (Coordinated Universal Time)")
