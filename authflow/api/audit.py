"""Recording administrators' writes: one AuditEntry per change, in the change's own transaction."""
from __future__ import annotations

from authflow.net import client_ip

from .access import actor
from .models import AuditEntry


def record(request, action: str, target_type: str, target_id, detail: dict | None = None) -> AuditEntry:
    """Record a write made through the API (`request` is DRF's)."""
    return AuditEntry.objects.create(actor=actor(request), via="api", action=action, target_type=target_type,
                                     target_id=str(target_id)[:200], detail=detail or {},
                                     ip=client_ip(request._request if hasattr(request, "_request") else request))


def record_admin(request, action: str, obj) -> AuditEntry:
    """Record a write made in the admin console (django.contrib.admin's log, mirrored here)."""
    return AuditEntry.objects.create(actor=f"user:{request.user.get_username()}", via="admin", action=action,
                                     target_type=obj._meta.label_lower, target_id=str(obj.pk)[:200],
                                     detail={"object": str(obj)[:200]}, ip=client_ip(request))
