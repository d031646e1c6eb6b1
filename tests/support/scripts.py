"""Running scripts through the harness in tests, with a scenario built from keyword arguments."""
from __future__ import annotations

import copy

from sequences.harness.scenario import parse_scenario
from sequences.harness.simulator import simulate

DEFAULT_STEPS = {"1": ["BasicAuthenticator"], "2": ["totp", "email-otp"], "3": [{"idp": "google", "authenticator": "OpenIDConnectAuthenticator"}, "FIDOAuthenticator"]}
DEFAULT_USERS = {
    "alice": {"roles": ["admin"], "groups": ["staff"], "claims": {"http://wso2.org/claims/dob": "1990-01-31",
                                                                  "http://wso2.org/claims/emailaddress": "alice@example.com"}},
    "bob": {"roles": ["user"], "groups": [], "claims": {}},
}


def scenario(outcomes=(), *, steps=None, users=None, request=None, now="2026-05-01T10:00:00Z", seed=0,
             app="portal", **extra):
    data = {
        "application": {"name": app, "steps": steps or DEFAULT_STEPS},
        "request": request or {"ip": "203.0.113.9", "headers": {"User-Agent": "pytest"}, "params": {}, "cookies": {}},
        "now": now,
        "seed": seed,
        "users": copy.deepcopy(DEFAULT_USERS if users is None else users),
        "outcomes": list(outcomes),
    }
    data.update(extra)
    return data


def run(source, outcomes=(), *, limits=None, **kwargs):
    """Simulate `source`; returns the trace (with the exit code under "exit")."""
    trace, code = simulate(source, parse_scenario(scenario(outcomes, **kwargs)), limits=limits)
    trace["exit"] = code
    return trace


def events(trace, kind):
    return [e for e in trace["events"] if e["type"] == kind]


def logs(trace):
    return [e["message"] for e in events(trace, "log")]


def ok(step, user="alice", **extra):
    return {"step": step, "result": "success", "user": user, **extra}


def failed(step, **extra):
    return {"step": step, "result": "fail", **extra}
