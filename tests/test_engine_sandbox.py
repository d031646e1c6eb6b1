"""The sandbox: limits, frozen intrinsics, no I/O or deferred work, and errors with line numbers."""
import pytest

from sequences.api import FlowState, Program, ScriptSyntaxError, advance, check_syntax
from sequences.engine.sandbox import Limits, pool
from tests.support.scripts import events, logs, ok, run

STEPS = {"1": [{"authenticator": "BasicAuthenticator", "idp": "LOCAL"}]}
WELL_BEHAVED = "var onLoginRequest = function(c) { Log.info(typeof [].x + ' ' + typeof ({}).polluted + ' ' + String(executeStep).slice(0, 20)); executeStep(1); };"


def next_flow_is_unaffected():
    trace = run(WELL_BEHAVED, [ok(1)])
    assert trace["status"] == "success"
    assert logs(trace) == ["undefined undefined function executeStep"]


def error_of(trace):
    assert trace["status"] == "error", trace
    return events(trace, "error")[0]


def test_infinite_loop_hits_the_time_limit_and_the_next_flow_runs():
    discarded = pool.discarded
    error = error_of(run("var onLoginRequest = function(c) {\n  while (true) {}\n};"))
    assert "ran longer than" in error["message"]
    assert pool.discarded == discarded + 1  # a terminated isolate is never reused
    next_flow_is_unaffected()


def test_runaway_memory_hits_the_memory_limit_and_the_next_flow_runs():
    error = error_of(run("var onLoginRequest = function(c) { var a = []; while (true) { a.push(new Array(100000).fill(7)); } };"))
    assert "more than 64 MB" in error["message"] or "ran longer than" in error["message"]
    next_flow_is_unaffected()


def test_memory_limit_is_configurable_and_reported():
    limits = Limits(timeout_ms=2000, memory_mb=16)
    trace_state = FlowState.start("portal", STEPS)
    program = Program.from_source("var onLoginRequest = function(c) { var s = []; for (;;) s.push('x'.repeat(1e5) + s.length); };")
    result = advance(program, trace_state, None, limits=limits)
    assert result.command["type"] == "error" and result.command["kind"] == "memory"
    pool.clear()


@pytest.mark.parametrize("kept", [1, 2])
def test_a_worker_keeps_as_many_idle_sandboxes_as_configured_and_ends_the_others(settings, kept):
    settings.SEQUENCES = {**settings.SEQUENCES, "MAX_IDLE_SANDBOXES": kept}
    limits = Limits.from_settings()
    pool.clear()
    try:
        with pool.borrow(limits) as first, pool.borrow(limits) as second, pool.borrow(limits) as third:
            started = [first, second, third]  # three runs at once: three sandbox processes
            assert len({sandbox.pid for sandbox in started}) == 3
        idle = pool.idle_pids(limits)
        # The most recently returned are kept (first was returned last); the others' processes are gone.
        assert idle == [sandbox.pid for sandbox in (second, first)][-kept:]
        assert [sandbox.alive() for sandbox in started] == [sandbox.pid in idle for sandbox in started]
        next_flow_is_unaffected()
    finally:
        pool.clear()


@pytest.mark.parametrize("tamper", [
    "Array.prototype.x = 1; Object.prototype.polluted = true;",
    "Object.defineProperty(Array.prototype, 'x', {value: 1});",
    "Object.setPrototypeOf(Array.prototype, {x: 1});",
    "JSON.parse = function() { return {}; }; Math.random = function() { return 0; };",
    "executeStep = function() {}; Log.info = function() {};",
    "function executeStep() {} ",
    "Function.prototype.toString = function() { return 'pwned'; };",
    "globalThis.executeStep = 1; this.leak = 1;",
    "var o = {}; o.__proto__.polluted = true;",
])
def test_tampering_with_builtins_or_the_api_does_not_reach_the_next_flow(tamper):
    run("var onLoginRequest = function(c) { try { " + tamper + " } catch (e) {} };")
    next_flow_is_unaffected()


def test_a_script_that_overrides_an_api_function_only_affects_itself():
    own = run("var executeStep = function(n) { Log.info('fake ' + n); }; var onLoginRequest = function(c) { executeStep(1); };")
    assert logs(own) == ["fake 1"] and own["status"] == "failed"
    next_flow_is_unaffected()


def test_overriding_toString_on_own_objects_still_works():
    trace = run("var onLoginRequest = function(c) { var o = {}; o.toString = function() { return 'mine'; }; Log.info(String(o)); };")
    assert logs(trace) == ["mine"]


def test_implicit_globals_do_not_leak_into_the_next_run():
    run("var onLoginRequest = function(c) { leaked = 'secret'; };")
    trace = run("var onLoginRequest = function(c) {\n  Log.info(leaked);\n};")
    error = error_of(trace)
    assert error["message"] == "ReferenceError: leaked is not defined" and error["line"] == 2


@pytest.mark.parametrize("probe, expected", [
    ("typeof setTimeout", "undefined"),
    ("typeof SharedArrayBuffer", "undefined"),
    ("typeof WebAssembly", "undefined"),
    ("typeof WeakRef", "undefined"),
    ("typeof process", "undefined"),
    ("typeof Temporal === 'undefined' || typeof Temporal.Now === 'undefined'", "true"),
    ("new Date() instanceof Date && new Date().getTime() === Date.now()", "true"),
    ("new Date().getTime()", "1777629600000"),
    # The shared Date constructor (reachable from any date) has no clock at all.
    ("(function () { try { new (Object.getPrototypeOf(new Date(0)).constructor)(); return 'clock'; }"
     " catch (e) { return e instanceof TypeError; } })()", "true"),
    ("new Intl.DateTimeFormat('en-US', {year: 'numeric', timeZone: 'UTC'}).format()", "2026"),
    ("Object.isFrozen(Object.prototype) && Object.isFrozen(Math) && Object.isFrozen(Log)", "true"),
    ("typeof Promise", "undefined"),
])
def test_no_io_timers_or_real_clock(probe, expected):
    trace = run("var onLoginRequest = function(c) { Log.info(String(" + probe + ")); };")
    assert logs(trace) == [expected]


@pytest.mark.parametrize("source, line, column, what", [
    ("var onLoginRequest = async function(c) { executeStep(1); };", 1, 22, "async functions are not supported"),
    ("var onLoginRequest = function(c) {\n  var f = async () => 1;\n};", 2, 11, "async functions are not supported"),
    ("var o = {\n  async run() {}\n};", 2, 3, "async functions are not supported"),
    ("var onLoginRequest = function(c) {\n  import('x').then(function() {});\n};", 2, 3, "import is not available"),
    ("var ids = function* () { yield 1; };\nvar onLoginRequest = function(c) {};", 1, 11, "generator functions are not supported"),
    ("var o = {\n  *ids() { yield 1; }\n};\nvar onLoginRequest = function(c) {};", 2, 3, "generator functions are not supported"),
    # The tokenizer this replaced read a regular expression after `}` and missed what followed.
    ("var onLoginRequest = function(c) {};\nvar o = {} / 1; var f = async () => 1; // /", 2, 25, "async functions are not supported"),
    ("var onLoginRequest = function(c) {};\nfor await (var x of []) {}", 2, 5, "Unexpected reserved word"),
])
def test_deferred_work_is_refused_when_the_script_is_saved(source, line, column, what):
    with pytest.raises(ScriptSyntaxError) as caught:
        check_syntax(source)
    assert what in caught.value.message
    assert (caught.value.line, caught.value.column) == (line, column)
    assert run(source)["status"] == "error"


@pytest.mark.parametrize("source", [
    "var options = {async: false}; var s = 'async function x() {}'; // async function\nvar onLoginRequest = function(c) {};",
    "var t = `async ${1 + 1} function`; var r = /async function/; var onLoginRequest = function(c) { c.async = 1; };",
    "/* async () => await x */ var onLoginRequest = function(c) { var a = 4 / 2 / 1; };",
])
def test_the_words_async_and_await_in_strings_comments_and_properties_are_fine(source):
    check_syntax(source)


@pytest.mark.parametrize("probe", [
    "eval('1 + 1')",
    "Function('return 1')()",
    "new Function('a', 'return a')",
    "new Compartment().evaluate('1')",
])
def test_code_cannot_be_made_from_strings(probe):
    error = error_of(run("var onLoginRequest = function(c) {\n  " + probe + ";\n};"))
    assert error["message"].startswith("EvalError:") and "no code from strings" in error["message"]
    assert error["line"] == 2


@pytest.mark.parametrize("probe", [
    "(function () {}).constructor('return 1')()",
    "Object.getPrototypeOf(Log.info).constructor('return 1')()",
    "Object.getPrototypeOf(new Date()).constructor.constructor('return 1')()",
])
def test_the_function_constructor_behind_any_function_is_inert(probe):
    error = error_of(run("var onLoginRequest = function(c) {\n  " + probe + ";\n};"))
    assert error["message"] == "TypeError: Function.prototype.constructor is not a valid constructor."
    assert error["line"] == 2


def test_function_checks_still_work_without_the_constructor():
    trace = run("var onLoginRequest = function(c) { var f = function() {}; "
                "Log.info([f instanceof Function, typeof Function, f.call(null) === undefined].join(' ')); };")
    assert logs(trace) == ["true function true"]


def test_a_promise_reached_without_async_syntax_cannot_call_the_api_later():
    # No script can get a Promise any more; should one appear, the API refuses
    # to work outside a run and the value returned by the entry point is an error.
    trace = run("var onLoginRequest = function(c) { return {then: function() {}}; };")
    assert "returned a Promise" in error_of(trace)["message"]


def test_runtime_error_reports_line_and_column():
    error = error_of(run("var onLoginRequest = function(context) {\n  var user = null;\n  Log.info(user.username);\n};"))
    assert error["message"] == "TypeError: Cannot read properties of null (reading 'username')"
    assert (error["line"], error["column"]) == (3, 17)


def test_error_inside_a_callback_after_a_round_trip_reports_its_line():
    error = error_of(run("var onLoginRequest = function(context) {\n"
                         "  executeStep(1, {\n"
                         "    onSuccess: function (context) {\n"
                         "      throw new Error('boom');\n"
                         "    }\n"
                         "  });\n"
                         "};", [ok(1)]))
    assert error["message"] == "Error: boom" and error["line"] == 4


def test_error_on_the_first_line_has_the_right_column():
    error = error_of(run("var onLoginRequest = function(c) { null.x; };"))
    assert (error["line"], error["column"]) == (1, 41)


def test_stack_traces_show_script_lines_only():
    trace = run("function inner() { return new Error('e').stack; }\n"
                "var onLoginRequest = function(c) {\n  Log.info(inner());\n};")
    stack = logs(trace)[0]
    assert stack.splitlines() == ["Error: e", "    at inner (script:1:27)", "    at onLoginRequest (script:3:12)"]


def test_thrown_non_error_values_are_reported():
    error = error_of(run("var onLoginRequest = function(c) { throw 'nope'; };"))
    assert error["message"] == 'Uncaught "nope"'


def test_missing_entry_point_is_an_error():
    error = error_of(run("var onLogin = function(c) {};"))
    assert "does not define onLoginRequest" in error["message"]


def test_catching_the_halt_does_not_let_the_script_go_on():
    trace = run("var onLoginRequest = function(c) {\n"
                "  try { executeStep(1); } catch (e) { Log.info('caught'); assignUserRoles(c.currentKnownSubject, ['x']); }\n"
                "  fail();\n};")
    assert trace["status"] == "waiting"
    assert logs(trace) == [] and events(trace, "effect") == []


@pytest.mark.parametrize("source, line, column, message", [
    ("var onLoginRequest = function(context) {\n  executeStep(1;\n};", 2, 15, "missing ) after argument list"),
    ("var x = ;", 1, 9, "Unexpected token ';'"),
    # Text that would break out of a wrapper: refused, and nothing of it runs.
    ("})(); while (true) {} (function() {", 1, 1, "Unexpected token"),
])
def test_syntax_errors_name_line_and_column(source, line, column, message):
    with pytest.raises(ScriptSyntaxError) as caught:
        check_syntax(source)
    assert (caught.value.line, caught.value.column) == (line, column)
    assert message in caught.value.message
    trace = run(source)
    assert trace["exit"] == 1 and events(trace, "error")[0]["line"] == line


def test_a_valid_script_passes_the_syntax_check():
    check_syntax("var onLoginRequest = function(context) { executeStep(1, {onSuccess: function(c) {}}); };")
