"""Delete what nobody can use any more, and what should not be kept longer than it is needed.

Finished or expired login flows are kept AUTHFLOW_RETENTION_SECONDS after
their last change (for administrators looking into a login; their journals
hold what the user answered, so they are not kept for ever), and go with
their effects, calls, one-time codes and ceremonies.  Sign-on sessions are
kept as long after they ended.  Expired OAuth grants and tokens, abandoned
passkey challenges and expired Django sessions go at once.  Failed sign-ins
with unknown usernames are forgotten after the retention period too.
"""
from __future__ import annotations

import logging
from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.utils import timezone
from oauth2_provider.models import clear_expired as clear_expired_oauth_tokens

from authflow.callbacks.service import purge_grants
from authflow.directory.lockout import purge_unknown_usernames
from authflow.flows.service import purge_flows
from authflow.passkeys.service import purge_abandoned_ceremonies
from authflow.sso.service import purge_sessions

logger = logging.getLogger("authflow.housekeeping")

# Never less: a finished flow's authorization code, or a browser on its
# waiting page, may still need the flow for a little while.
MINIMUM_RETENTION = timedelta(hours=1)


def retention() -> timedelta:
    return max(timedelta(seconds=settings.AUTHFLOW_RETENTION_SECONDS), MINIMUM_RETENTION)


def purge_expired() -> dict[str, int]:
    """Delete it all; the number of rows deleted per model label (only those with some)."""
    kept = retention()
    cutoff = timezone.now() - kept
    deleted: dict[str, int] = {}
    for per_model in (purge_flows(cutoff), purge_sessions(cutoff), purge_abandoned_ceremonies(),
                      purge_unknown_usernames(cutoff), purge_grants(cutoff)):
        for label, count in per_model.items():
            deleted[label] = deleted.get(label, 0) + count
    clear_expired_oauth_tokens()
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
    deleted = {label: count for label, count in sorted(deleted.items()) if count}
    logger.info("housekeeping done", extra={"deleted": deleted, "retention_seconds": int(kept.total_seconds())})
    return deleted
