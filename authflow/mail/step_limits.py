"""The limits a script sets on an OTP step: how many codes may be checked, how many new codes sent.

Counted in one row per flow and step (CodeStepCount) by conditional
UPDATEs: a check takes a slot only while fewer than the limit were taken,
so however many submissions arrive at once, no more than the limit are
checked.  A step a limit ended stays ended: every later answer fails, a
correct code included.
"""
from __future__ import annotations

from django.db.models import F
from django.utils import timezone

from .models import CodeStepCount


def _rows(flow_id, step: int):
    CodeStepCount.objects.bulk_create([CodeStepCount(flow_id=flow_id, step=step)], ignore_conflicts=True)
    return CodeStepCount.objects.filter(flow_id=flow_id, step=step)


def take_try(flow_id, step: int, limit: int) -> bool:
    """Take a slot to check a code; False when `limit` were checked already or a limit ended the step."""
    return _rows(flow_id, step).filter(tries__lt=limit, ended_at__isnull=True).update(tries=F("tries") + 1) == 1


def tries_left(flow_id, step: int, limit: int) -> int:
    tries = CodeStepCount.objects.filter(flow_id=flow_id, step=step).values_list("tries", flat=True).first() or 0
    return max(0, limit - tries)


def take_resend(flow_id, step: int, limit: int) -> bool:
    """Count a new code for the step; False when `limit` were sent already (the first code is not a resend)."""
    return _rows(flow_id, step).filter(resends__lt=limit, ended_at__isnull=True).update(
        resends=F("resends") + 1) == 1


def end(flow_id, step: int) -> None:
    _rows(flow_id, step).filter(ended_at__isnull=True).update(ended_at=timezone.now())


def ended(flow_id, step: int) -> bool:
    return CodeStepCount.objects.filter(flow_id=flow_id, step=step, ended_at__isnull=False).exists()
