"""The replay debugger's pages: recent login flows (per application, searched by flow id or username), and one
flow stepped through round trip by round trip, re-run against another version of its script.

The pages hold no flow data of their own: the replay page reads the trace and the re-run from the management
API (/api/v1/flows/<id>/trace/ and /rerun/), whose checks and redaction are the only ones.
"""
from django.shortcuts import get_object_or_404, render

from authflow.applications.models import Application
from authflow.flows import service as flows
from authflow.flows.models import LoginFlow

from .access import staff_console

READ_FLOWS = "flows.view_loginflow"
MAX_SEARCH = 150


@staff_console(READ_FLOWS)
def flow_list(request):
    application = request.GET.get("application", "")[:MAX_SEARCH]
    search = request.GET.get("q", "")[:MAX_SEARCH].replace("\x00", "")
    names = list(Application.objects.order_by("name").values_list("name", flat=True))
    if application not in names:
        application = ""
    return render(request, "console/flows.html", {
        "flows": flows.recent_flows(application=application or None, search=search),
        "applications": names, "application": application, "search": search})


@staff_console(READ_FLOWS)
def flow_replay(request, flow_id):
    flow = get_object_or_404(LoginFlow.objects.select_related("application", "sequence_version__sequence"),
                             pk=flow_id)
    recorded = flow.sequence_version
    others = []  # the other versions of the flow's script, newest first: what it can be re-run against
    if recorded is not None:
        others = list(recorded.sequence.versions.exclude(pk=recorded.pk).order_by("-number")
                      .values_list("number", flat=True))
    return render(request, "console/replay.html", {
        "flow": flow, "recorded": recorded, "versions": others,
        "can_rerun": request.user.has_perm("sequences.view_sequence")})
