"""What a scenario is expected to decide, and whether a script's run of it did: the check behind the template
gallery's documented decisions and the saved scenarios a version must pass before it is published."""
from __future__ import annotations

from dataclasses import dataclass, field

from .harness.scenario import ScenarioError, parse_scenario
from .harness.simulator import simulate

STATUSES = ("success", "failed", "waiting", "error")
_KEYS = {"status", "subject", "steps", "effects"}


class ExpectationError(ValueError):
    """An expectation that is not one: the message names the field."""


@dataclass
class Verdict:
    passed: bool
    status: str
    reasons: list = field(default_factory=list)  # what differs from the expectation, in words
    trace: dict | None = None


def parse_expectation(data) -> dict:
    """{"status", optional "subject", "steps" (step numbers in the order run), "effects" (API names in order)}."""
    if not isinstance(data, dict):
        raise ExpectationError("expect: expected an object such as {\"status\": \"success\"}")
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise ExpectationError(f"expect: unknown key {unknown[0]!r} (expected: {', '.join(sorted(_KEYS))})")
    if data.get("status") not in STATUSES:
        raise ExpectationError(f"expect.status: expected one of {', '.join(STATUSES)}")
    if "subject" in data and data["subject"] is not None and not isinstance(data["subject"], str):
        raise ExpectationError("expect.subject: expected a username or null")
    steps = data.get("steps")
    if steps is not None and not (isinstance(steps, list) and all(
            isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in steps) and len(steps) <= 100):
        raise ExpectationError("expect.steps: expected the step numbers run, in order, such as [1, 2]")
    effects = data.get("effects")
    if effects is not None and not (isinstance(effects, list) and all(isinstance(e, str) for e in effects)
                                    and len(effects) <= 100):
        raise ExpectationError("expect.effects: expected the effects' API names in order, such as [\"setCookie\"]")
    return {key: data[key] for key in _KEYS if key in data}


def expectation_of(trace: dict) -> dict:
    """The expectation a trace meets exactly: what the test panel saves with a scenario."""
    return {"status": trace["status"], "subject": trace.get("subject"), "steps": steps_run(trace),
            "effects": effects_applied(trace)}


def steps_run(trace: dict) -> list:
    return [event.get("step") for event in trace.get("events", []) if event.get("type") == "step"]


def effects_applied(trace: dict) -> list:
    return [event.get("name") for event in trace.get("events", []) if event.get("type") == "effect"]


def run_expectation(source: str, scenario: dict, expect: dict) -> Verdict:
    """Simulate `scenario` on `source` and compare with `expect` (a scenario that no longer fits is a failure)."""
    try:
        trace, _ = simulate(source, parse_scenario(scenario))
    except ScenarioError as exc:
        return Verdict(False, "error", [f"the scenario does not fit this version: {exc}"])
    reasons = []
    if trace["status"] != expect["status"]:
        reasons.append(f"the login ended {trace['status']}, expected {expect['status']}")
    if "subject" in expect and trace.get("subject") != expect["subject"]:
        reasons.append(f"the subject is {trace.get('subject')!r}, expected {expect['subject']!r}")
    if "steps" in expect and steps_run(trace) != expect["steps"]:
        reasons.append(f"the steps run were {steps_run(trace)}, expected {expect['steps']}")
    if "effects" in expect and effects_applied(trace) != expect["effects"]:
        reasons.append(f"the effects were {effects_applied(trace)}, expected {expect['effects']}")
    errors = [event for event in trace.get("events", []) if event.get("type") == "error"]
    if errors and expect["status"] != "error":
        first = errors[0]
        reasons.append(f"script error{' at line ' + str(first['line']) if first.get('line') else ''}: "
                       f"{first.get('message')}")
    return Verdict(not reasons, trace["status"], reasons, trace)
