"""The page of a flow waiting on an asynchronous call (httpGet, httpPost, callAnalytics), and its status.

The page ("Checking your sign-in") continues by itself: static/js/waiting.js
polls the flow's status (GET /login/flow/<id>/status/ -> {"position", "waiting"})
and loads the flow page again once the flow moved on; without JavaScript a
<meta http-equiv="refresh"> does the same, less often.  The status works only
in the browser that started the flow (like the flow page) and says nothing
else about it.

Whoever looks first after the call's deadline (the status poll, the flow page)
answers it "timeout" (flows.calls), so a flow whose worker is down or
whose server never answers moves on to its onTimeout.  When the status sees
the flow moved on, it answers the steps that need no page (steps.settle),
as the request that answers a page does.
"""
from __future__ import annotations

from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from authflow.flows import service
from authflow.flows.calls import answer_if_overdue

from . import binding, steps

POLL_FALLBACK_SECONDS = 3  # the <meta http-equiv="refresh"> of browsers without JavaScript


def show(request, flow):
    """The flow page while the flow waits on a call (a POST has nothing to answer: the page again)."""
    if request.method == "POST" or answer_if_overdue(flow):
        return HttpResponseRedirect(reverse("login-flow", args=[flow.id]), status=303)
    command = flow.pending
    return render(request, "login/waiting.html", {
        "flow": flow, "application": flow.application, "position": command["position"],
        "status_url": reverse("login-flow-status", args=[flow.id]),
        "flow_url": reverse("login-flow", args=[flow.id]), "refresh_seconds": POLL_FALLBACK_SECONDS,
    })


@never_cache
@require_http_methods(["GET"])
def status(request, flow_id):
    flow = service.get_flow(flow_id)
    if flow is None:
        return JsonResponse({"error": "no such login flow"}, status=404)
    if not binding.matches(request, flow):
        return JsonResponse({"error": "this sign-in was started in another browser"}, status=403)
    if answer_if_overdue(flow):
        flow = service.get_flow(flow.id)
    moving = service.is_running(flow) and not service.is_expired(flow)
    waiting = moving and (flow.pending or {}).get("type") == "call"
    if moving and not waiting:
        flow = steps.settle(request, flow)
    return JsonResponse({"position": (flow.pending or {}).get("position"), "waiting": waiting})
