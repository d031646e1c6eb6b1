"""EHR launches: a launch context an EHR registered (through the API) for one application, usable once.

SMART App Launch's EHR launch: the EHR registers which patient (and encounter)
an application is opened for, gives the application an opaque `launch` id, and
the application sends it on its authorization request with the `launch` scope.
Kept in the cache (Redis) under a digest of the id for a few minutes; taking
it deletes it, so a replayed or leaked id finds nothing.
"""
from __future__ import annotations

import hashlib
import re
import secrets

from django.core.cache import cache

TTL_SECONDS = 5 * 60
# A FHIR resource id (FHIR R4 "id" datatype).
FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


def _key(launch_id: str) -> str:
    return "authflow:callbacks:ehr-launch:" + hashlib.sha256(launch_id.encode()).hexdigest()


def register(application_name: str, context: dict[str, str]) -> str:
    """A new launch id for `application_name` with `context` ({"patient", "encounter"}: FHIR ids)."""
    launch_id = secrets.token_urlsafe(32)
    cache.set(_key(launch_id), {"application": application_name, "context": dict(context)}, TTL_SECONDS)
    return launch_id


def take(launch_id: str, application_name: str) -> dict[str, str] | None:
    """The context of `launch_id`, once, if it was registered for `application_name`; None otherwise."""
    if not isinstance(launch_id, str) or not 20 <= len(launch_id) <= 200:
        return None
    key = _key(launch_id)
    stored = cache.get(key)
    if stored is None or not cache.delete(key):  # the delete decides which of two racing logins wins
        return None
    return dict(stored["context"]) if stored.get("application") == application_name else None
