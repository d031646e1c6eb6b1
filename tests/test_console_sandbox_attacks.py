"""Hostile scripts against the console's sandbox operations: the flow diagram's outline of a deeply nested or
huge script, a re-run of a recorded flow against a version that loops forever or allocates without end, and
saved scenarios run on such a version. Each is bounded, answers a clear error, runs no effect, stores nothing,
and the sandbox serves the next request as before."""
import json

import pytest

from authflow.flows.models import EffectRecord, LoginFlow
from sequences.api import ScriptSyntaxError, outline, save_version
from sequences.models import ScenarioResult
from tests.support.api import api_client
from tests.test_replay_debugger import make_alice, make_app, run_login

SMALL = "var onLoginRequest = function (context) { executeStep(1); };"


def test_outline_of_a_deeply_nested_script_is_a_clear_error_and_the_sandbox_still_outlines():
    deep = "var onLoginRequest = function (context) {" + "if (context) {" * 20000 + "executeStep(1);" + \
           "}" * 20000 + "};"
    try:
        tree = outline(deep)
    except ScriptSyntaxError as exc:
        assert exc.message  # a clear error, not a crash
    else:
        assert tree["truncated"] is True or tree["items"]
    assert [item["kind"] for item in outline(SMALL)["items"]] == ["step"]


def test_outline_of_a_huge_script_is_bounded_and_the_sandbox_still_outlines():
    body = "\n".join(f"    if (context.x{n}) {{ executeStep({n % 9 + 1}); prompt('p{n}', {{}}); }}" for n in range(3500))
    huge = "var onLoginRequest = function (context) {\n" + body + "\n};\n"
    try:
        tree = outline(huge)
    except ScriptSyntaxError as exc:
        assert "larger than" in exc.message or "could not be outlined" in exc.message
    else:
        assert len(json.dumps(tree)) < 8 * 1024 * 1024
    assert [item["kind"] for item in outline(SMALL)["items"]] == ["step"]


def test_outline_of_functions_calling_each_other_without_end_is_bounded():
    chain = "\n".join(f"function f{n}(c) {{ f{n + 1}(c); f{n + 1}(c); executeStep(1); }}" for n in range(60))
    source = chain + "\nfunction f60(c) { f0(c); }\nvar onLoginRequest = function (context) { f0(context); };\n"
    try:
        outline(source)
    except ScriptSyntaxError as exc:
        assert exc.message
    assert [item["kind"] for item in outline(SMALL)["items"]] == ["step"]


LOOPS = """var onLoginRequest = function (context) {
    executeStep(1, {onSuccess: function (context) {
        while (true) { }
    }});
};
"""
ALLOCATES = """var onLoginRequest = function (context) {
    executeStep(1, {onSuccess: function (context) {
        var all = [];
        while (true) { all.push(new Array(100000).fill('x')); }
    }});
};
"""


@pytest.mark.django_db
@pytest.mark.parametrize("hostile", [LOOPS, ALLOCATES], ids=["loops", "allocates"])
def test_a_rerun_against_a_version_that_loops_or_allocates_is_a_clear_divergence_and_changes_nothing(hostile):
    app, _ = make_app(), make_alice()
    flow = run_login(app)
    effects_before = list(EffectRecord.objects.values_list("pk", flat=True))
    state_before = LoginFlow.objects.get(pk=flow.pk).state
    save_version("portal", hostile, publish=False)
    reader = api_client("flows:read", "sequences:read")
    answer = reader.get(f"/api/v1/flows/{flow.id}/rerun/?version=2")
    assert answer.status_code == 200, answer.content
    divergence = answer.json()["divergence"]
    assert divergence["other"]["type"] == "error" and divergence["other"]["kind"] in ("timeout", "memory", "limit")
    assert list(EffectRecord.objects.values_list("pk", flat=True)) == effects_before
    assert LoginFlow.objects.get(pk=flow.pk).state == state_before
    # the sandbox serves the next request
    assert reader.get(f"/api/v1/flows/{flow.id}/trace/").status_code == 200


@pytest.mark.django_db
def test_saved_scenarios_on_a_version_that_loops_are_bounded_and_the_version_cannot_go_live_unnoticed(monkeypatch):
    """Each saved scenario a looping version runs costs a sandbox timeout: past the scenarios' time budget the
    rest are stored as failed, not run, so saving the version answers soon (the script's row lock is held
    meanwhile) and publishing it still needs the audited override."""
    from sequences import saved_scenarios
    from sequences.models import SavedScenario

    writer = api_client("sequences:read", "sequences:write", name="writer")
    v1, _ = save_version("portal", SMALL)
    scenario = {"application": {"name": "portal", "steps": {"1": ["BasicAuthenticator"]}}, "users": {"alice": {}},
                "outcomes": [{"step": 1, "result": "success", "user": "alice"}]}
    for name in ("a", "b", "c"):
        SavedScenario.objects.create(sequence=v1.sequence, name=name, scenario=scenario,
                                     expect={"status": "success", "subject": "alice"})
    monkeypatch.setattr(saved_scenarios, "SCENARIOS_BUDGET_S", 0.0)  # spent by the first scenario
    etag = writer.get("/api/v1/sequences/portal/")["ETag"]
    saved = writer.post("/api/v1/sequences/portal/versions/", {"source": LOOPS.replace("executeStep(1, {", "({")},
                        format="json", HTTP_IF_MATCH=etag)
    assert saved.status_code == 201, saved.content
    results = {r.scenario.name: r for r in ScenarioResult.objects.filter(version__number=2).select_related("scenario")}
    assert sorted(results) == ["a", "b", "c"] and not any(r.passed for r in results.values())
    assert results["a"].status != "not-run"  # the first one ran (and timed out)
    assert [results[n].status for n in ("b", "c")] == ["not-run", "not-run"]
    assert "time budget" in results["b"].reasons[0]
    etag = writer.get("/api/v1/sequences/portal/")["ETag"]
    refused = writer.post("/api/v1/sequences/portal/publish/", {"version": 2}, format="json", HTTP_IF_MATCH=etag)
    assert refused.status_code == 409 and "b" in refused.json()["errors"][0]["message"]


@pytest.mark.django_db
def test_a_trace_or_rerun_past_its_time_budget_is_a_clear_conflict_not_a_worker_held_for_minutes(monkeypatch):
    """Each point of a flow is replayed from its start: a long flow of a script spending its time limit on every
    run would hold the worker for minutes. Past the replay budget the API answers 409, saying why."""
    from sequences.engine import trace

    app, _ = make_app(), make_alice()
    flow = run_login(app)
    save_version("portal", LOOPS, publish=False)
    monkeypatch.setattr(trace, "REPLAY_BUDGET_S", 0.0)
    reader = api_client("flows:read", "sequences:read")
    for url in (f"/api/v1/flows/{flow.id}/trace/", f"/api/v1/flows/{flow.id}/rerun/?version=2"):
        answer = reader.get(url)
        assert answer.status_code == 409, (url, answer.status_code)
        assert "longer than" in answer.json()["errors"][0]["message"]
