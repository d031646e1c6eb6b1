"""The saved scenarios of a login script: their results on each version (also on the versions page), run one
on the latest version, delete one. Writes go through the API's views (api_calls), as the console's others do."""
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render

from authflow.api import scenarios as scenarios_api
from sequences.api import results_by_version
from sequences.models import Sequence

from . import api_calls
from .access import staff_console

READ = "sequences.view_sequence"
WRITE = "sequences.add_sequenceversion"


def scenario_results(sequence, versions) -> dict:
    """What the versions page shows of the saved scenarios: each version's stored results, and how many exist."""
    return {"scenario_results": results_by_version(versions), "scenario_count": sequence.saved_scenarios.count()}


def _script(name) -> Sequence:
    return get_object_or_404(Sequence, name=name, kind=Sequence.Kind.SCRIPT)


@staff_console(READ)
def index(request, name):
    sequence = _script(name)
    saved = sequence.saved_scenarios.select_related("author").prefetch_related("results__version").order_by("name")
    return render(request, "console/scenarios.html", {
        "sequence": sequence, "scenarios": saved, "latest": sequence.latest_version(),
        "can_write": request.user.has_perm(WRITE)})


@staff_console(READ)
def run(request, name, pk):
    """Run one saved scenario on the latest version now (POST)."""
    sequence = _script(name)
    if request.method != "POST":
        return redirect("console:scenarios", name=sequence.name)
    answer = api_calls.call(scenarios_api.ScenarioRun, request, {}, "", name=sequence.name, pk=pk)
    if answer.status_code == 200:
        verdict = "passes" if answer.data["passed"] else "fails: " + "; ".join(answer.data["reasons"])
        (messages.success if answer.data["passed"] else messages.error)(
            request, f"{answer.data['scenario']} on v{answer.data['version']} {verdict}")
    else:
        messages.error(request, "; ".join(e["message"] for e in api_calls.error_list(answer)))
    return redirect("console:scenarios", name=sequence.name)


@staff_console(WRITE)
def delete(request, name, pk):
    """Delete one saved scenario (POST): the API's DELETE, with its audit entry."""
    sequence = _script(name)
    if request.method != "POST":
        return redirect("console:scenarios", name=sequence.name)
    request.method = "DELETE"  # the form's POST stands for the API's DELETE
    answer = api_calls.call(scenarios_api.ScenarioDetail, request, {}, "", name=sequence.name, pk=pk)
    if answer.status_code == 204:
        messages.success(request, "The scenario is deleted: versions are no longer checked against it.")
    else:
        messages.error(request, "; ".join(e["message"] for e in api_calls.error_list(answer)))
    return redirect("console:scenarios", name=sequence.name)
