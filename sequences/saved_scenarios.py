"""Saved scenarios: rerun on each version of their script, and the gate a version passes before publication.

A result is stored per (scenario, version): versions never change, so it is computed once, when the version is
created or the scenario saved, or when a publication finds it missing."""
from __future__ import annotations

from django.db import transaction

from .expectations import run_expectation
from .models import SavedScenario, ScenarioResult, SequenceVersion

# Each new version runs every saved scenario of its script while it is saved: a cap keeps that request short.
MAX_SAVED_SCENARIOS = 25


def run_on(scenario: SavedScenario, version: SequenceVersion) -> ScenarioResult:
    """Run `scenario` on `version` now and store the result (replacing an earlier one)."""
    verdict = run_expectation(version.source, scenario.scenario, scenario.expect)
    result, _ = ScenarioResult.objects.update_or_create(
        scenario=scenario, version=version,
        defaults={"passed": verdict.passed, "status": verdict.status, "reasons": verdict.reasons})
    return result


def rerun_for_version(version: SequenceVersion) -> list[ScenarioResult]:
    """Every saved scenario of the version's script, run on it (a new version)."""
    return [run_on(scenario, version) for scenario in version.sequence.saved_scenarios.order_by("name")]


def saved_after(scenario: SavedScenario) -> list[ScenarioResult]:
    """A scenario just saved, run on the script's live and latest versions (others on demand)."""
    sequence = scenario.sequence
    versions = {v.pk: v for v in (sequence.published_version(), sequence.latest_version()) if v is not None}
    return [run_on(scenario, version) for version in versions.values()]


@transaction.atomic
def failing_on(version: SequenceVersion) -> list[ScenarioResult]:
    """The saved scenarios `version` fails, running those not yet run on it."""
    done = {r.scenario_id: r for r in version.scenario_results.select_related("scenario")}
    results = [done.get(scenario.pk) or run_on(scenario, version)
               for scenario in version.sequence.saved_scenarios.order_by("name")]
    return [result for result in results if not result.passed]


def results_by_version(versions) -> dict[int, list[ScenarioResult]]:
    """Stored results of each version (by primary key), scenario name order: for the versions page."""
    table: dict[int, list[ScenarioResult]] = {}
    for result in (ScenarioResult.objects.filter(version__in=list(versions)).select_related("scenario")
                   .order_by("scenario__name")):
        table.setdefault(result.version_id, []).append(result)
    return table
