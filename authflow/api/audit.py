"""Recording administrators' writes: one AuditEntry per change, in the change's own transaction."""
from __future__ import annotations

import contextvars
from contextlib import contextmanager

from django.db.models import Q

from authflow.applications.models import Application
from authflow.net import client_ip

from .models import AuditEntry


def record(request, action: str, target_type: str, target_id, detail: dict | None = None) -> AuditEntry:
    """Record a write made through the API (`request` is DRF's)."""
    from .access import actor  # DRF: loaded by the API's views, not by every worker (apps.py imports this module)

    return AuditEntry.objects.create(actor=actor(request), via="api", action=action, target_type=target_type,
                                     target_id=str(target_id)[:200], detail=detail or {},
                                     ip=client_ip(request._request if hasattr(request, "_request") else request))


# The admin console's request being served (set by ConsoleSite.admin_view), for the address of its writes.
_console_request = contextvars.ContextVar("console_request", default=None)
_ADMIN_ACTIONS = {1: "create", 2: "update", 3: "delete"}


@contextmanager
def console_request(request):
    token = _console_request.set(request)
    try:
        yield
    finally:
        _console_request.reset(token)


def mirror_admin_log(sender, instance, created, **kwargs):
    """post_save of django.contrib.admin's LogEntry: the console's change, recorded in the audit log too."""
    if not created:
        return
    request = _console_request.get()
    model = instance.content_type.model_class() if instance.content_type_id else None
    AuditEntry.objects.create(
        actor=f"user:{instance.user.get_username()}", via="admin",
        action=_ADMIN_ACTIONS.get(instance.action_flag, "change"),
        target_type=model._meta.label_lower if model else "", target_id=str(instance.object_id or "")[:200],
        detail={"object": str(instance.object_repr)[:200], "change": str(instance.get_change_message())[:1000]},
        ip=client_ip(request) if request is not None else None)


def entries(*, actor: str = "", action: str = "", application: str = ""):
    """The audit log, newest first, narrowed to an actor, an action, and what concerns an application (the
    application itself, and its login script and that script's versions)."""
    found = AuditEntry.objects.all()
    if actor:
        found = found.filter(actor=actor)
    if action:
        found = found.filter(action=action)
    if application:
        about = Q(target_type="application", target_id=application)
        script = Application.objects.filter(name=application).values_list("sequence__name", flat=True).first()
        if script:
            about |= Q(target_type="sequence", target_id=script)
            about |= Q(target_type="sequence_version", target_id__startswith=f"{script} v")
        found = found.filter(about)
    return found.order_by("-at", "-id")


def facets() -> dict[str, list[str]]:
    """The actors and actions the log holds, to filter by."""
    return {"actors": sorted(set(AuditEntry.objects.values_list("actor", flat=True).distinct())),
            "actions": sorted(set(AuditEntry.objects.values_list("action", flat=True).distinct()))}
