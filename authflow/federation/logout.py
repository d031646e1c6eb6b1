"""Signing out at the identity providers a sign-on session's logins went through, and being signed out by them.

A provider's sign-in is remembered per login flow (`remember`) and attached to the sign-on session the flow
ends in (`attach`, on sso's federated_flow_recorded).  When the browser signs out here (the account page, the
OpenID provider's /o/logout/), `on_signed_out` ends those upstream sessions too: it sends the browser to each
provider in turn (OpenID Connect RP-initiated logout, SAML single logout) and then where the sign-out was
going.  Each hop's `state` (RelayState) is kept sealed server-side and usable once, like a login's.
"""
from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone

from authflow.sso import service as sso

from . import oidc, pending, saml
from .models import IdentityProvider, UpstreamSession

logger = logging.getLogger("authflow.federation")

# A provider's sign-in whose flow never reached a session is forgotten after this long.
UNATTACHED_TTL = timedelta(days=1)
_PREFIX = "logout:"


def remember(provider: IdentityProvider, flow_id, *, subject: str, sid: str = "", id_token: str = "",
             nameid_format: str = "") -> None:
    """Keep what logging out of the provider's session needs, until the flow's session picks it up."""
    UpstreamSession.objects.filter(session__isnull=True, created_at__lt=timezone.now() - UNATTACHED_TTL).delete()
    row = UpstreamSession(provider=provider, flow_id=flow_id, subject=subject[:255], sid=sid[:255],
                          nameid_format=nameid_format[:200])
    if id_token:
        row.set_id_token(id_token)
    row.save()


def attach(sender, session, flow_id, **kwargs) -> None:
    """sso.federated_flow_recorded: the flow's provider sign-ins belong to the session it signed in to."""
    UpstreamSession.objects.filter(flow_id=flow_id, session__isnull=True).update(session=session)


def on_signed_out(sender, request, session_id, **kwargs):
    """sso.signed_out: the providers' sessions behind this one end too; a continuation for the redirect."""
    rows = list(UpstreamSession.objects.filter(session_id=session_id, ended_at__isnull=True,
                                               provider__enabled=True).order_by("created_at"))
    if not rows:
        return None
    UpstreamSession.objects.filter(pk__in=[r.pk for r in rows]).update(ended_at=timezone.now())
    queue = [r.pk for r in rows]

    def continue_to_providers(response):
        return next_hop(request, queue, response["Location"])
    return continue_to_providers


def next_hop(request, queue: list[int], return_to: str):
    """A redirect to the next provider in `queue` that has a logout endpoint, else to `return_to`."""
    queue = list(queue)
    while queue:
        row = UpstreamSession.objects.filter(pk=queue.pop(0)).select_related("provider").first()
        if row is None:
            continue
        state = secrets.token_urlsafe(32)
        try:
            url, request_id = _logout_url(request, row, state)
        except oidc.ProviderError as exc:
            logger.warning("identity provider logout skipped", extra={"idp": row.provider.name, "reason": str(exc)})
            continue
        if url is None:
            continue
        pending.remember(_PREFIX + state, {"idp": row.provider.name, "queue": queue, "return_to": return_to,
                                           "request_id": request_id})
        logger.info("sent to identity provider to sign out", extra={"idp": row.provider.name})
        return HttpResponseRedirect(url)
    return HttpResponseRedirect(return_to)


def _logout_url(request, row: UpstreamSession, state: str) -> tuple[str | None, str]:
    provider = row.provider
    if provider.protocol == IdentityProvider.Protocol.SAML:
        answer = saml.logout_request(request, provider, name_id=row.subject, nameid_format=row.nameid_format,
                                     session_index=row.sid, relay_state=state)
        return (answer[1], answer[0]) if answer else (None, "")
    back = request.build_absolute_uri(reverse("federation-oidc-logged-out", args=[provider.name]))
    url = oidc.end_session_url(oidc.discovery(provider.issuer), client_id=provider.client_id,
                               id_token=row.id_token(), post_logout_redirect_uri=back, state=state)
    return url, ""


def take_hop(name: str, state: str) -> dict | None:
    """The sign-out hop `state` was sent with to provider `name`, once; None when unknown or used."""
    hop = pending.take(_PREFIX + state) if isinstance(state, str) else None
    if hop is None or hop.get("idp") != name:
        return None
    return hop


def end_sessions_of(provider: IdentityProvider, *, subject: str = "", sids: list[str] = (), reason: str) -> int:
    """End the sign-on sessions this provider's sign-ins created for `subject` and/or `sids`: how many."""
    rows = UpstreamSession.objects.filter(provider=provider, session__isnull=False)
    if subject:
        rows = rows.filter(subject=subject)
    if sids:
        rows = rows.filter(sid__in=list(sids))
    if not subject and not sids:
        return 0
    session_ids = list(rows.values_list("session_id", flat=True))
    rows.filter(ended_at__isnull=True).update(ended_at=timezone.now())
    ended = sso.end_sessions(session_ids, reason) if session_ids else 0
    logger.info("identity provider ended sessions", extra={"idp": provider.name, "sessions": ended})
    return ended
