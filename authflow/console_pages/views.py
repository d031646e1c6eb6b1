"""The admin console's pages: login scripts, their versions (diff, publish, roll back) and the script editor."""
import json

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from sequences.models import Sequence

from . import api_calls
from .access import staff_console
from .gallery_views import editor_start
from .scenario_views import scenario_results
from .diffs import side_by_side

READ = "sequences.view_sequence"
WRITE = "sequences.add_sequenceversion"


def _sequence(name) -> Sequence:
    return get_object_or_404(Sequence.objects.select_related("live_version"), name=name)


def _number(value) -> int | None:
    return int(value) if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 10 else None


@staff_console(READ)
def index(request):
    sequences = Sequence.objects.select_related("live_version").prefetch_related("applications").order_by("name")
    return render(request, "console/index.html", {"sequences": sequences})


@staff_console(READ)
def versions(request, name):
    sequence = _sequence(name)
    rows = sequence.versions.select_related("author").order_by("-number")
    return render(request, "console/versions.html", {
        "sequence": sequence, "versions": rows, "applications": sequence.applications.order_by("name"),
        "can_write": request.user.has_perm(WRITE), **scenario_results(sequence, rows)})


@staff_console(READ)
def diff(request, name):
    sequence = _sequence(name)
    numbers = [_number(request.GET.get(key)) for key in ("from", "to")]
    found = {v.number: v for v in sequence.versions.filter(number__in=[n for n in numbers if n is not None])}
    if any(n not in found for n in numbers):
        messages.error(request, "Choose two versions of this script to compare.")
        return redirect("console:versions", name=sequence.name)
    old, new = found[numbers[0]], found[numbers[1]]
    return render(request, "console/diff.html", {"sequence": sequence, "old": old, "new": new,
                                                 "rows": side_by_side(old.source, new.source)})


@staff_console(WRITE)
@require_http_methods(["GET", "POST"])
def publish(request, name, number):
    """One click, then a confirmation naming the change; the publication itself is the API's."""
    from authflow.api import sequences as sequences_api  # DRF is imported by the console, not by login workers

    sequence = _sequence(name)
    version = sequence.versions.filter(number=number).first()
    if version is None:
        raise Http404("no such version")
    errors = []
    if request.method == "POST":
        fields = {"version": str(number), "override": request.POST.get("override") == "on"}
        answer = api_calls.call(sequences_api.Publish, request, fields, request.POST.get("etag", ""),
                                name=sequence.name)
        if answer.status_code == 200:
            messages.success(request, f"Version {number} of {sequence.name} is live.")
            return redirect("console:versions", name=sequence.name)
        errors = api_calls.error_list(answer)
        if answer.status_code in (412, 428):
            errors = [{"message": "Someone published or saved a version since this page was loaded: "
                                  "check the change again before confirming."}]
        sequence = _sequence(name)
    live = sequence.live_version
    return render(request, "console/publish.html", {
        "sequence": sequence, "version": version, "live": live, "errors": errors,
        "rollback": live is not None and version.number < live.number,
        "applications": sequence.applications.order_by("name"),
        "etag": sequences_api.sequence_etag(sequence)}, status=409 if errors else 200)


@staff_console(WRITE)
@require_http_methods(["GET", "POST"])
def editor(request, name):
    """A new version, starting from a copy of the live one (or the latest, or ?from=N); saved through the API."""
    from authflow.api import sequences as sequences_api  # DRF is imported by the console, not by login workers

    sequence = _sequence(name)
    errors = []
    template = editor_start(request.GET)  # kept when a save is refused: its note, scenario and scenario name
    if request.method == "POST":
        source = request.POST.get("source", "").replace("\r\n", "\n")
        answer = api_calls.call(sequences_api.VersionList, request, {"source": source,
                                                                     "note": request.POST.get("note", "")},
                                request.POST.get("etag", ""), name=sequence.name)
        if answer.status_code == 201:
            number = answer.data["number"]
            messages.success(request, f"Saved version {number} of {sequence.name} (not live until published).")
            for warning in answer.data.get("warnings", []):
                messages.warning(request, f"Line {warning['line']}: {warning['message']}")
            return redirect(reverse("console:versions", kwargs={"name": sequence.name}) + f"#v{number}")
        errors = api_calls.error_list(answer)
        if answer.status_code in (412, 428):
            errors = [{"message": "Someone saved or published a version since you opened the editor: "
                                  "your text is kept below; open the editor again to start from theirs."}]
        sequence = _sequence(name)
        base = None
    else:
        chosen = _number(request.GET.get("from"))
        base = (sequence.versions.filter(number=chosen).first() if chosen else
                sequence.live_version or sequence.latest_version())
        source = base.source if base else ""
        if template is not None:
            base, source = None, template.source
    lines = source.split("\n")
    for error in errors:
        line = error.get("line")
        error["excerpt"] = lines[line - 1] if isinstance(line, int) and 0 < line <= len(lines) else None
    return render(request, "console/editor.html", {
        "sequence": sequence, "base": base, "source": source, "errors": errors, "template": template,
        "scenario": template.scenario_text() if template else _starting_scenario(sequence),
        "note": request.POST.get("note", ""),
        "etag": sequences_api.sequence_etag(sequence)}, status=400 if errors else 200)


def _starting_scenario(sequence) -> str:
    """A scenario to start the test panel from: the first application's steps, the first passed by a user."""
    application = sequence.applications.order_by("name").first()
    steps = application.steps if application and isinstance(application.steps, dict) and application.steps else {
        "1": ["BasicAuthenticator"]}
    return json.dumps({"application": {"steps": steps}, "users": {"alice": {}},
                       "outcomes": [{"step": int(step), "result": "success", "user": "alice"}
                                    for step in sorted(steps, key=lambda s: int(s) if str(s).isdigit() else 0)
                                    if str(step).isdigit()][:1]}, indent=2)
