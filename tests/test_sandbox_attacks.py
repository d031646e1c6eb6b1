"""Attacks by the author of one application's script, on the real engine.

The attacker may edit the script of one application ("mallory").  Each test
makes one class of attack, asserts it fails, and then runs the next login of
another application ("bank") for another user (bob) and asserts it behaves
exactly as it must: its second factor is still asked for, nothing of the
attacker's run is visible, and no error of the attacker's is blamed on it.

The attacks that stop or crash a sandbox process are also made through a real
server in tests/test_sandbox_server.py.
"""
import json
import os
import time
from pathlib import Path

import pytest

from sequences.api import FlowState, Program, ScriptSyntaxError, advance, check_syntax, step_answer
from sequences.engine.sandbox import Limits, pool
from tests.support.scripts import events, logs, ok, run
from tests.support import looping_web_process

BANK = """
var onLoginRequest = function (context) {
    executeStep(1, {onSuccess: function (context) {
        var user = context.currentKnownSubject;
        var seen = [typeof leaked, typeof leftBehind, typeof RegExp.$1, typeof RegExp.input, String(Math.random()).slice(0, 6)];
        Log.info('bank ' + user.username + ': ' + seen.join(' '));
        executeStep(2);
    }});
};
"""
STEPS = {"1": [{"authenticator": "BasicAuthenticator", "idp": "LOCAL"}],
         "2": [{"authenticator": "totp", "idp": "LOCAL"}]}
SECRET_EMAIL = "alice.secret-4711@example.com"
USERS = {
    "alice": {"roles": ["admin"], "groups": [], "claims": {"http://wso2.org/claims/emailaddress": SECRET_EMAIL}},
    "bob": {"roles": [], "groups": [], "claims": {}},
}


# Visits every object reachable from `roots` (properties, prototypes, accessors); returns how many.
WALK = """
function walk(roots, visitObject, visitProperty) {
    var seen = new Set(), queue = roots.slice();
    while (queue.length) {
        var o = queue.pop();
        if (o === null || (typeof o !== 'object' && typeof o !== 'function') || seen.has(o)) continue;
        seen.add(o);
        visitObject(o);
        queue.push(Object.getPrototypeOf(o));
        Reflect.ownKeys(o).forEach(function (key) {
            var d = Object.getOwnPropertyDescriptor(o, key);
            if (!d) return;
            visitProperty(o, key, d);
            if ('value' in d) queue.push(d.value);
            if (d.get) queue.push(d.get);
            if (d.set) queue.push(d.set);
        });
    }
    return seen.size;
}
"""


def mallory(source, outcomes=(ok(1, "alice"),), **kwargs):
    return run(source, list(outcomes), app="mallory", steps=STEPS, users=USERS, **kwargs)


def expected_random():
    # Math.random of a flow is journaled from its seed: the bank's first draw with seed 0.
    trace = run("var onLoginRequest = function (c) { Log.info(String(Math.random()).slice(0, 6)); };",
                app="calibration", steps=STEPS, users=USERS)
    return logs(trace)[0]


def assert_next_login_is_normal():
    """The bank's next login, for bob: its second factor is asked for, and it sees nothing of the attacker."""
    pids_before = pool.idle_pids()
    waiting = run(BANK, [ok(1, "bob")], app="bank", steps=STEPS, users=USERS)
    assert waiting["status"] == "waiting", waiting
    assert [e["step"] for e in events(waiting, "step")] == [1, 2]
    assert logs(waiting) == [f"bank bob: undefined undefined undefined undefined {expected_random()}"]
    done = run(BANK, [ok(1, "bob"), ok(2, "bob")], app="bank", steps=STEPS, users=USERS)
    assert done["status"] == "success" and done["subject"] == "bob"
    return pids_before


def error_of(trace):
    assert trace["status"] == "error", trace
    return events(trace, "error")[0]


# ---------------------------------------------------------------- code after the run, engine capabilities
def test_getters_the_runtime_reads_run_inside_the_run_and_cannot_reach_the_engine():
    # The runtime reads the response headers, the user's claims and the entry point's result;
    # each is a getter that tries to reach the engine and to call the API once the run returned.
    trace = mallory("""
        var probe = function (where) {
            var found = [where, typeof __authflow, typeof globalThis.__authflow, String(globalThis.compile)];
            try { executeStep(2); found.push('executeStep ran'); } catch (e) { found.push(e.message); }
            throw new Error(found.join(' | '));
        };
        var onLoginRequest = function (context) {
            executeStep(1, {onSuccess: function (context) {
                var user = context.currentKnownSubject;
                Object.defineProperty(user, 'claims', {get: function () { return probe('claims'); }});
            }});
            return {get then() { return undefined; }};
        };
    """)
    error = error_of(trace)
    assert error["message"] == ("Error: claims | undefined | undefined | undefined | "
                                "the login API cannot be used once the entry point has returned")
    assert error["line"] == 5
    assert_next_login_is_normal()


def test_response_headers_read_after_a_halt_cannot_call_the_api():
    trace = mallory("""
        var onLoginRequest = function (context) {
            context.response.headers = {get 'X-Probe'() { executeStep(1); return 'x'; }};
            executeStep(1);
        };
    """, outcomes=())
    assert error_of(trace)["message"] == "Error: the login API cannot be used once the entry point has returned"
    assert_next_login_is_normal()


def test_nothing_reachable_from_a_script_leads_to_the_engine():
    # Walk every object reachable from the script's global, the context and the API (properties,
    # prototypes, accessors): no engine entry point, no way to the start compartment's global.
    trace = mallory(WALK + """
        var onLoginRequest = function (context) {
            var found = [];
            var engineNames = ['__authflow', 'compile', 'compileEntry', 'checkEntry', 'runEntry', 'lockdown', 'FeralFunction'];
            var count = walk([globalThis, context, executeStep, Log, new Error('e'), /x/, new Date(0)], function (o) {
                if (typeof o === 'function' && engineNames.indexOf(o.name) >= 0) found.push('function ' + o.name);
            }, function (o, key) {
                if (engineNames.indexOf(String(key)) >= 0) found.push('property ' + String(key));
            });
            var self = (function () { return this; })();
            Log.info(count + ' ' + JSON.stringify(found) + ' ' + String(self));
            executeStep(1);
        };
    """, limits=Limits(timeout_ms=2000))
    count, found, self = logs(trace)[0].split(" ")
    assert int(count) > 300 and found == "[]" and self == "undefined"
    assert_next_login_is_normal()


# ---------------------------------------------------------------- globals and intrinsics
def test_globals_and_builtins_a_script_changes_are_gone_for_the_next_login():
    trace = mallory("""
        var onLoginRequest = function (context) {
            var attempts = {
                nonConfigurableGlobal: function () { Object.defineProperty(globalThis, 'leftBehind', {value: 1, configurable: false}); },
                globalProperty: function () { globalThis.leftBehind = 'secret'; },
                globalPrototype: function () { Object.setPrototypeOf(globalThis, {leftBehind: 'secret'}); },
                freezeGlobal: function () { Object.preventExtensions(globalThis); },
                implicitGlobal: function () { leaked = 'secret'; },
                apiFunction: function () { executeStep = function () {}; },
                objectPrototype: function () { Object.defineProperty(Object.prototype, 'leftBehind', {value: 'secret'}); },
                arrayPush: function () { Array.prototype.push = function () {}; },
                json: function () { JSON.stringify = function () { return '{}'; }; },
                random: function () { Math.random = function () { return 0; }; },
                clock: function () { Date.now = function () { return 0; }; },
                stackFormat: function () { Error.prepareStackTrace = function () { return 'pwned'; }; },
                stackLimit: function () { Error.stackTraceLimit = 0; },
                regexpStatics: function () { RegExp.$1 = 'secret'; },
            };
            var results = Object.keys(attempts).map(function (name) {
                try { attempts[name](); return name + ':done'; } catch (e) { return name + ':' + e.name; }
            });
            Log.info(results.join(' '));
            executeStep(1);
        };
    """)
    outcome = dict(item.split(":") for item in logs(trace)[0].split(" "))
    # Only the implicit global was made (for this run); everything shared refused the change.
    assert outcome.pop("implicitGlobal") == "done"
    assert outcome.pop("freezeGlobal") == "done"  # it is frozen already: nothing to do
    accepted = {name for name, result in outcome.items() if result != "TypeError"}
    # SES lets a compartment assign these two, for its own errors' sake; what it changes is checked below.
    assert accepted <= {"stackFormat", "stackLimit"}, outcome
    assert_next_login_is_normal()
    # The same script for another user starts from nothing too.
    again = mallory("var onLoginRequest = function (c) { Log.info(typeof leaked + ' ' + typeof leftBehind); };")
    assert logs(again) == ["undefined undefined"]
    # Stack traces still name the script's lines.
    trace = run("var onLoginRequest = function (c) {\n  Log.info(new Error('e').stack);\n};", app="bank", steps=STEPS)
    assert logs(trace) == ["Error: e\n    at onLoginRequest (script:2:12)"]


def test_another_users_data_does_not_leak_through_regexp_statics_or_intrinsics():
    # Alice's login at the attacker's application matches her e-mail address and tries to plant it on
    # every object it can reach (the Error stack accessor included); bob's login at another
    # application then looks for it everywhere.
    plant = mallory(WALK + """
        var onLoginRequest = function (context) {
            executeStep(1, {onSuccess: function (context) {
                var email = context.currentKnownSubject.localClaims['http://wso2.org/claims/emailaddress'];
                /^(.*)@/.exec(email);
                var roots = [globalThis, new Error('x'), Object.getOwnPropertyDescriptor(new Error('x'), 'stack')];
                var reached = walk(roots, function (o) { try { o.leak = email; } catch (e) {} }, function () {});
                Log.info('planted, reached ' + reached);
            }});
        };
    """, limits=Limits(timeout_ms=2000))
    assert int(logs(plant)[0].split(" ")[-1]) > 300, plant
    spy = run(WALK + """
        var onLoginRequest = function (context) {
            var statics = ['$1', 'input', '$_', 'lastMatch', '$&', 'leftContext', 'rightContext', 'lastParen'].map(function (k) {
                return typeof RegExp[k];
            });
            var hits = [];
            walk([globalThis, new Error('y'), Object.getOwnPropertyDescriptor(new Error('y'), 'stack')], function () {},
                 function (o, key, d) {
                     if (typeof d.value === 'string' && d.value.indexOf('secret-4711') >= 0) hits.push(String(key));
                 });
            Log.info(statics.join(' ') + ' | ' + hits.length + ' | ' + new Error('z').stack.split('\\n')[0]);
            executeStep(1);
        };
    """, [ok(1, "bob")], app="spy", steps=STEPS, users=USERS, limits=Limits(timeout_ms=2000))
    assert logs(spy) == ["undefined undefined undefined undefined undefined undefined undefined undefined | 0 | Error: z"]
    assert json.dumps(spy).count("secret-4711") == 0
    assert_next_login_is_normal()


# ---------------------------------------------------------------- deferred work
def test_async_code_is_refused_even_when_the_save_time_check_is_bypassed():
    # The hand-written tokenizer this engine had read `{} / 1; ... // /` as a regular expression and
    # missed the async function between; the parser does not.
    source = "var onLoginRequest = function (c) { executeStep(1); };\nvar o = {} / 1; var f = async () => { for (;;) {} }; f(); // /"
    with pytest.raises(ScriptSyntaxError) as refused:
        check_syntax(source)
    assert "async functions are not supported" in refused.value.message and refused.value.line == 2
    # Handed straight to the engine (no save-time check), the program does not compile.
    result = advance(Program.from_source(source), FlowState.start("mallory", STEPS), None)
    assert result.command["type"] == "error" and "async functions are not supported" in result.command["message"]
    assert_next_login_is_normal()


def test_no_builtin_schedules_work_for_after_the_run():
    trace = mallory("""
        var onLoginRequest = function (context) {
            var sources = {
                Promise: typeof Promise, fromAsync: typeof Array.fromAsync, queueMicrotask: typeof queueMicrotask,
                setTimeout: typeof setTimeout, setInterval: typeof setInterval, FinalizationRegistry: typeof FinalizationRegistry,
                WeakRef: typeof WeakRef, Atomics: typeof Atomics, SharedArrayBuffer: typeof SharedArrayBuffer,
                WebAssembly: typeof WebAssembly, AsyncDisposableStack: typeof AsyncDisposableStack,
            };
            Log.info(JSON.stringify(sources));
            executeStep(1);
        };
    """)
    assert set(json.loads(logs(trace)[0]).values()) == {"undefined"}
    assert_next_login_is_normal()


# ---------------------------------------------------------------- limits
@pytest.mark.parametrize("body, kinds", [
    ("for (;;) {}", {"timeout"}),
    ("/(a+)+$/.test('a'.repeat(40) + '!')", {"timeout"}),
    # Builtins that ignore V8's termination: the sandbox is killed at the deadline.
    ("var a = new Array(5e6).fill('x'); for (;;) a.sort()", {"timeout"}),
    ("new Array(1e8).fill(1)", {"timeout", "memory", "crash"}),
    ("new Array(3e8).fill(1)", {"timeout", "memory", "crash"}),
])
def test_a_run_is_stopped_within_twice_its_time_limit_whatever_it_does(body, kinds):
    limits = Limits(timeout_ms=400)
    with pool.borrow(limits):
        pass  # a sandbox is ready: the time below is the run's
    started = time.monotonic()
    result = advance(Program.from_source("var onLoginRequest = function (c) { " + body + "; executeStep(1); };"),
                     FlowState.start("mallory", STEPS), None, limits=limits)
    elapsed = time.monotonic() - started
    assert result.command["type"] == "error" and result.command["kind"] in kinds, result.command
    assert elapsed < 2 * 0.4, elapsed
    assert_next_login_is_normal()


def test_a_script_that_kills_v8_costs_its_sandbox_only():
    # V8 aborts the process it runs in on this allocation (fatal out of memory): here, the sandbox.
    # A long time limit lets V8 get there before the deadline would.
    limits = Limits(timeout_ms=8000)
    with pool.borrow(limits):
        pass
    (sandbox_pid,) = pool.idle_pids(limits)
    trace = mallory("var onLoginRequest = function (c) { new Array(3e8).fill(1); };", limits=limits)
    assert error_of(trace)["message"] == "the script used more than 64 MB of memory"
    with pytest.raises(ProcessLookupError):
        os.kill(sandbox_pid, 0)  # the sandbox that ran it is gone ...
    assert_next_login_is_normal()  # ... and another one serves the next login


@pytest.mark.parametrize("body", [
    "var a = []; for (var i = 0; i < 20; i++) a.push(new Uint8Array(64 * 1024 * 1024));",
    "var a = []; for (var i = 0; i < 40; i++) a.push(new ArrayBuffer(32 * 1024 * 1024));",
    "var s = []; for (;;) s.push('x'.repeat(1 << 20) + s.length);",
    "var s = 'x'; for (;;) s = s + s;",
])
def test_memory_outside_the_heap_is_bounded_too(body):
    # A long time limit: the memory bound must be what stops these (filling 64 MB one 1 MB string at a
    # time took longer than the default 250 ms on CI's machine, and the time limit stopped it first).
    trace = mallory("var onLoginRequest = function (c) { " + body + " executeStep(1); };",
                    limits=Limits(timeout_ms=5000))
    error = error_of(trace)
    assert (error["message"].startswith("RangeError:") or "more than 64 MB" in error["message"]
            or "engine stopped" in error["message"]), error
    assert_next_login_is_normal()


def test_a_limit_is_blamed_on_the_script_that_hit_it_not_the_next_one():
    limits = Limits(timeout_ms=300)
    state = FlowState.start("mallory", STEPS)
    for _ in range(3):
        attack = advance(Program.from_source("var onLoginRequest = function (c) { for (;;) {} };"), state, None,
                         limits=limits)
        assert attack.command["kind"] == "timeout"
        innocent = advance(Program.from_source(BANK), FlowState.start("bank", STEPS), None, limits=limits)
        assert innocent.command["type"] == "step" and innocent.command["step"] == 1


# ---------------------------------------------------------------- the journal
def test_a_replay_that_takes_another_path_stops_instead_of_misapplying_answers():
    # A library the flow loaded changed under it; its journal answers step 1 of the old path.
    source = "var onLoginRequest = function (c) { var n = getSecretByName('route') === 'a' ? 1 : 2; executeStep(n, {onSuccess: function () { executeStep(2); }}); };"

    class Host:
        route = "a"

        def load_user(self, username):
            return {"roles": [], "groups": [], "claims": {}}

        def lookup(self, kind, key):
            return self.route

        def apply_effect(self, name, args):
            return True

    host = Host()
    program = Program.from_source(source)
    first = advance(program, FlowState.start("bank", STEPS), host)
    assert first.command["step"] == 1
    second = advance(program, first.state, host, answer=step_answer(1, "success", user="bob", authenticator="BasicAuthenticator"))
    assert second.command["step"] == 2
    host.route = "b"  # a replay now asks for step 2 first
    third = advance(program, second.state, host, answer=step_answer(2, "success", user="bob", authenticator="totp"))
    assert third.command["type"] == "error" and third.command["kind"] == "replay", third.command
    assert "replay diverged" in third.command["message"]


def test_a_state_written_by_another_engine_version_ends_with_a_clear_error():
    state = FlowState.start("bank", STEPS)
    stored = state.to_dict()
    stored["runtime"] = 1  # the engine before this one
    result = advance(Program.from_source(BANK), FlowState.from_dict(stored), None)
    assert result.command["type"] == "error" and result.command["kind"] == "version"
    assert "cannot be continued" in result.command["message"]


def test_a_script_cannot_grow_its_flows_journal_without_bound():
    trace = mallory("var onLoginRequest = function (c) { for (var i = 0; i < 100000; i++) Date.now(); executeStep(1); };",
                    outcomes=())
    assert error_of(trace)["message"] == "the flow's journal is full: too many clock readings"
    assert_next_login_is_normal()


# ---------------------------------------------------------------- the sandbox processes themselves
def test_a_sandbox_killed_from_outside_while_idle_is_replaced_without_blaming_a_script():
    with pool.borrow():
        pass
    killed = pool.idle_pids(Limits.from_settings())
    for pid in killed:
        os.kill(pid, 9)
    time.sleep(0.2)
    assert_next_login_is_normal()
    assert killed and not set(killed) & set(pool.idle_pids())


def test_a_sandbox_whose_web_process_died_exits_even_in_the_middle_of_a_loop(tmp_path):
    import subprocess
    import sys

    # A web process (here: a child python) starts a sandbox, sets it looping, and dies without a word.
    code = looping_web_process.code("time.sleep(1); os._exit(0)")
    parent = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert parent.stdout.strip(), parent.stderr
    pid = int(parent.stdout.split()[0])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.kill(pid, 9)
    raise AssertionError("the sandbox outlived its web process")


@pytest.mark.parametrize("call", [
    "fail({errorCode: 'x', errorMessage: 'a\\u0000b'})",
    "prompt('genericForm', {title: 'a\\u0000b'})",
    "c.response.headers['X-Note'] = 'a\\u0000b'; executeStep(1)",
])
def test_a_nul_character_a_script_passes_on_is_a_script_error(call):
    trace = mallory("var onLoginRequest = function (c) { " + call + "; };", outcomes=())
    assert "NUL character" in error_of(trace)["message"]
    assert_next_login_is_normal()
