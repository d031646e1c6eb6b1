"""Engine cost per round trip, against the bare mini-racer call measured in the same run.

Prints one JSON object.  The flow: a 3-step script with nested callbacks, a
role check, an effect and a prompt, suspended at step 3 after a 10-entry
journal (retried steps included).  Each measured round trip replays that
journal from `onLoginRequest`, with the JSON in and out, through `advance`:
the trip to the sandbox process included.

The baseline is one call of mini-racer's public API in this process that does
the same JSON work (parse the same payload, stringify a result of the same
size), with no engine and no process boundary.  Bare calls and engine round
trips alternate, so both see the same machine.
"""
from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from py_mini_racer import MiniRacer  # noqa: E402

from sequences.engine.driver import Program, advance  # noqa: E402
from sequences.engine.state import FlowState, prompt_answer, request_inputs, step_answer  # noqa: E402
from sequences.engine.sandbox import Limits, SandboxProcess, pool  # noqa: E402

SCRIPT = """
var onLoginRequest = function (context) {
    var started = Date.now();
    executeStep(1, {
        onSuccess: function (context) {
            var user = context.currentKnownSubject;
            if (hasRole(user, 'admin') || isMemberOfAnyOfGroups(user, ['staff'])) {
                executeStep(2, {authenticationOptions: [{authenticator: 'totp'}]}, {
                    onSuccess: function (context) {
                        assignUserRoles(user, ['mfa-verified']);
                        prompt('consent', {scopes: ['openid', 'email']}, {
                            onSuccess: function (context) {
                                executeStep(3, {
                                    onSuccess: function (context) {
                                        Log.info('done in ' + (Date.now() - started) + ' ms');
                                    }
                                });
                            }
                        });
                    }
                });
            }
        }
    });
};
"""
STEPS = {
    "1": [{"authenticator": "BasicAuthenticator", "idp": "LOCAL"}],
    "2": [{"authenticator": "totp", "idp": "LOCAL"}, {"authenticator": "email-otp", "idp": "LOCAL"}],
    "3": [{"authenticator": "FIDOAuthenticator", "idp": "LOCAL"}],
}
USER = {"username": "alice", "roles": ["admin"], "groups": ["staff"], "claims": {"http://wso2.org/claims/emailaddress": "alice@example.com"}}


class BenchHost:
    def load_user(self, username):
        return dict(USER)

    def apply_effect(self, name, args):
        return True


def percentile(samples, q):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def suspended_flow(program, host, limits):
    state = FlowState.start("portal", STEPS, request_inputs(
        "203.0.113.9",
        {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
         "Accept-Language": "en-GB,en;q=0.9", "Host": "login.example.com"},
        {"client_id": ["portal"]}, {}))
    answers = [step_answer(1, "fail", error="Invalid credentials")] * 4 + [
        step_answer(1, "success", user="alice", authenticator="BasicAuthenticator"),
        step_answer(2, "fail", error="Wrong code"),
        step_answer(2, "fail", error="Wrong code"),
        step_answer(2, "success", user="alice", authenticator="totp"),
        prompt_answer("consent", "success", {"approve": ["yes"]}),
    ]
    result = advance(program, state, host, limits=limits, now_ms=1_700_000_000_000)
    for i, answer in enumerate(answers):
        result = advance(program, result.state, host, answer=answer, limits=limits, now_ms=1_700_000_000_000 + i)
    assert result.command["type"] == "step" and result.command["step"] == 3, result.command
    return result.state


def main(iterations=2000):
    limits = Limits(timeout_ms=1000, memory_mb=64)
    host = BenchHost()
    program = Program.from_source(SCRIPT)

    t0 = time.perf_counter()
    with pool.borrow(limits):
        pass
    first_sandbox_ms = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    SandboxProcess(limits).close()
    sandbox_start_ms = (time.perf_counter() - t0) * 1000

    state = suspended_flow(program, host, limits)
    journal_entries = len(state.journal["answers"])
    state_bytes = len(json.dumps(state.to_dict(), separators=(",", ":")).encode())
    payload = json.dumps({"inputs": state.inputs, "journal": state.journal, "prefetch": {}, "lookups": {},
                          "now": 1, "entry": "onLoginRequest"}, separators=(",", ":"))
    reply_size = len(json.dumps(advance(program, state, host, limits=limits).command))

    # Baseline: the same JSON in and out through a function of a reused instance.
    mr = MiniRacer()
    mr.eval("var echo = function (s, n) { var o = JSON.parse(s); return JSON.stringify({command: o.inputs, pad: 'x'.repeat(n)}); };")
    call = f"echo({json.dumps(payload)}, {reply_size})"
    bare, engine = [], []
    for _ in range(iterations):
        t = time.perf_counter()
        json.loads(mr.eval(call))
        bare.append((time.perf_counter() - t) * 1e6)
        t = time.perf_counter()
        result = advance(program, state, host, limits=limits, now_ms=1_700_000_001_000)
        engine.append((time.perf_counter() - t) * 1e6)
        assert result.command["type"] == "step"

    bare_p50, engine_p50 = statistics.median(bare), statistics.median(engine)
    report = {
        "benchmark": "engine_roundtrip",
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "iterations": iterations,
        "journal_entries": journal_entries,
        "baseline_bare_call_us": {"p50": round(bare_p50, 1), "p99": round(percentile(bare, 99), 1)},
        "engine_round_trip_us": {"p50": round(engine_p50, 1), "p99": round(percentile(engine, 99), 1)},
        "engine_overhead_over_bare_us_p50": round(engine_p50 - bare_p50, 1),
        "ratio_to_bare_p50": round(engine_p50 / bare_p50, 2),
        "suspended_state_bytes": state_bytes,
        "first_sandbox_in_process_ms": round(first_sandbox_ms, 1),
        "sandbox_start_ms": round(sandbox_start_ms, 1),
        "targets": {"round_trip_p50_us": 1000, "ratio_to_bare_p50": 3.0, "suspended_state_bytes": 2048},
    }
    report["targets_met"] = (engine_p50 < 1000 and report["ratio_to_bare_p50"] < 3.0 and state_bytes < 2048)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
