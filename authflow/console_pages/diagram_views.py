"""The flow diagram of a login script's version: what it can reach (steps, prompts, calls, effects, endings and
the callbacks leading to them), from static analysis in the sandbox (sequences.api.outline), drawn as nested
boxes in HTML and CSS (no script, no inline style: the Content-Security-Policy holds)."""
from django.shortcuts import get_object_or_404, render

from sequences.api import ScriptSyntaxError, outline, reachable
from sequences.models import Sequence

from .access import staff_console

READ = "sequences.view_sequence"
SUMMARY = (("step", "Steps"), ("prompt", "Prompts"), ("call", "Calls"), ("callback", "Callbacks"),
           ("effect", "Effects"), ("end", "Endings"), ("library", "Libraries"))


def _number(value) -> int | None:
    return int(value) if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 10 else None


@staff_console(READ)
def diagram(request, name):
    sequence = get_object_or_404(Sequence.objects.select_related("live_version"), name=name,
                                 kind=Sequence.Kind.SCRIPT)
    chosen = _number(request.GET.get("version"))
    version = (sequence.versions.filter(number=chosen).first() if chosen is not None
               else sequence.live_version or sequence.latest_version())
    tree, error, summary = None, None, []
    if version is not None:
        try:
            tree = outline(version.source)
        except ScriptSyntaxError as exc:
            error = exc
        else:
            found = reachable(tree)
            summary = [(title, found[kind]) for kind, title in SUMMARY if found.get(kind)]
    return render(request, "console/diagram.html", {
        "sequence": sequence, "version": version, "tree": tree, "error": error, "summary": summary,
        "versions": sequence.versions.order_by("-number")}, status=200 if version is None or tree else 400)
