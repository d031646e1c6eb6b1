"""What other apps may ask of sign-on sessions.

The browser's Django session holds the id of its sign-on session; the
middleware signs the browser out as soon as that session ended (from another
browser, by a script, or by timing out), so ending a session takes effect on
the next request of the browser that held it.
"""
from __future__ import annotations

import logging
from contextlib import nullcontext
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.dispatch import Signal
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from authflow.net import client_ip
from sequences.api import session_input, user_agent_object

from .models import SessionApplication, UserSession

logger = logging.getLogger("authflow.sso")

SESSION_KEY = "authflow_sso"

# Sent when the browser itself signs out of an active session (request, session_id).  A receiver may return a
# function (redirect response) -> response: the middleware hands it the redirect the sign-out answered with,
# so that, for example, an identity provider's session ends too before the browser goes where it was sent.
signed_out = Signal()
# Sent when a flow that passed a federated step was recorded in a session (session, flow_id).
federated_flow_recorded = Signal()
SIGN_OUT_CONTINUATIONS = "authflow_sign_out_continuations"

# last_access_at is written at most this often per session.
TOUCH_INTERVAL = timedelta(seconds=60)


def idle_timeout() -> timedelta:
    return timedelta(seconds=settings.AUTHFLOW_SESSION_IDLE_SECONDS)


def max_lifetime() -> timedelta:
    return timedelta(seconds=settings.AUTHFLOW_SESSION_MAX_SECONDS)


def active_sessions(user):
    """The user's sessions that have not ended, timed out or run out of lifetime, newest login first."""
    return _active(UserSession.objects.filter(user=user))


def _active(sessions):
    now = timezone.now()
    return (sessions.filter(ended_at__isnull=True, last_access_at__gt=now - idle_timeout(),
                            created_at__gt=now - max_lifetime())
            .prefetch_related("applications__application"))


def is_active(session: UserSession) -> bool:
    now = timezone.now()
    return (session.ended_at is None and session.last_access_at > now - idle_timeout()
            and session.created_at > now - max_lifetime())


def purge_sessions(dead_before) -> dict[str, int]:
    """Delete sessions that ended (logged out, timed out or out of lifetime) before `dead_before`.

    Returns the number of rows deleted per model label.
    """
    dead = UserSession.objects.filter(
        Q(ended_at__lt=dead_before) | Q(last_access_at__lt=dead_before - idle_timeout())
        | Q(created_at__lt=dead_before - max_lifetime()))
    _, per_model = dead.delete()
    return per_model


# current() reads a browser's session once per request (the middleware, the flow's input and the sign-in
# all ask): the row is kept on the request, keyed by what it was read for.  A session ended by this process
# (_end) since then is read again, so that a script or view ending it is seen in the same request.
_REQUEST_MEMO = "_authflow_sso_current"
_ends = [0]  # sessions ended by this process, as a count: the memo's generation


def current(request) -> UserSession | None:
    """This browser's active session for the signed-in user, or None."""
    session_id = request.session.get(SESSION_KEY)
    if not session_id or not request.user.is_authenticated:
        return None
    key = (session_id, request.user.pk, _ends[0])
    memo = getattr(request, _REQUEST_MEMO, None)
    if memo is not None and memo[0] == key:
        session = memo[1]
    else:
        # By its key: no ordering to compile (first() would order by the model's -login_at).
        found = list(UserSession.objects.filter(pk=session_id, user_id=request.user.pk).order_by()[:1])
        session = found[0] if found else None
        if session is not None:
            session.user = request.user  # the same row (user_id above): not read again
        setattr(request, _REQUEST_MEMO, (key, session))
    if session is None or not is_active(session):
        return None
    return session


def touch(session: UserSession) -> None:
    now = timezone.now()
    if now - session.last_access_at >= TOUCH_INTERVAL:
        UserSession.objects.filter(pk=session.pk, ended_at__isnull=True).update(last_access_at=now)
        session.last_access_at = now


# The authentications the sign-in about to happen in this request passed (set by the login pages before
# Django's login()): a session on_login starts is inserted with them, and record_flow need not write them again.
_PASSED = "_authflow_sso_passed"
_STARTED_WITH = "_authflow_started_with"


def signing_in_with(request, passed: list[dict]) -> None:
    """The steps the sign-in about to happen in this request passed interactively (as for record_flow)."""
    setattr(request, _PASSED, [{"authenticator": p["authenticator"], "idp": p["idp"]} for p in passed])


def on_login(sender, request, user, **kwargs) -> None:
    """Django's user_logged_in: keep this browser's session for the same user, or start one."""
    if request is None:
        return
    now = timezone.now()
    session = current(request)
    if session is not None:
        UserSession.objects.filter(pk=session.pk).update(login_at=now, last_access_at=now)
        session.login_at = session.last_access_at = now
        return
    agent = user_agent_object(request.headers.get("User-Agent", ""))
    passed = getattr(request, _PASSED, [])
    session = UserSession.objects.create(
        user=user, ip=client_ip(request), user_agent=agent["raw"], browser=agent["browser"][:100],
        platform=agent["platform"][:100], device=agent["device"][:100], login_at=now, last_access_at=now,
        authenticated=_merged([], passed, now))
    setattr(session, _STARTED_WITH, passed)
    request.session[SESSION_KEY] = str(session.pk)
    session.user = user
    setattr(request, _REQUEST_MEMO, ((str(session.pk), user.pk, _ends[0]), session))
    logger.info("session started", extra={"session_id": str(session.pk), "user": user.get_username()})


def on_logout(sender, request, user, **kwargs) -> None:
    """Django's user_logged_out: the browser's session ends with it."""
    if request is None:
        return
    session_id = request.session.get(SESSION_KEY)
    if session_id and _end(UserSession.objects.filter(pk=session_id), "signed out"):
        continuations = [answer for _, answer in signed_out.send(sender=UserSession, request=request,
                                                                  session_id=str(session_id)) if callable(answer)]
        if continuations:
            setattr(request, SIGN_OUT_CONTINUATIONS, continuations)


def end_current(request, reason: str) -> None:
    """End this browser's session (before another user signs in in it)."""
    session_id = request.session.pop(SESSION_KEY, None)
    if session_id:
        _end(UserSession.objects.filter(pk=session_id), reason)


def terminate(user, session_id: str, reason: str) -> bool:
    """End one of `user`'s active sessions; False when it is not one of them."""
    try:
        ids = [s.pk for s in active_sessions(user) if str(s.pk) == str(session_id)]
    except ValueError:
        return False
    return bool(ids) and _end(UserSession.objects.filter(pk__in=ids), reason) > 0


def terminate_for_username(username: str, session_id: str, reason: str) -> bool:
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(username=username).first()
    return user is not None and terminate(user, session_id, reason)


def end_sessions(session_ids, reason: str) -> int:
    """End the sessions with these ids (a provider signed their user out); the number that were active."""
    return _end(UserSession.objects.filter(pk__in=list(session_ids)), reason)


def _end(queryset, reason: str) -> int:
    ended = list(queryset.filter(ended_at__isnull=True).values_list("pk", flat=True))
    count = queryset.filter(ended_at__isnull=True).update(ended_at=timezone.now(), end_reason=reason[:64])
    if count:
        _ends[0] += 1  # current() reads again
    for session_id in ended:
        logger.info("session ended", extra={"session_id": str(session_id), "reason": reason})
    return count


def record_flow(session: UserSession, application, subject: str, passed: list[dict], flow_id=None) -> None:
    """A flow signed in to `application` in this session, passing the steps in `passed` interactively."""
    now = timezone.now()
    federated = flow_id is not None and any(p["idp"] != "LOCAL" for p in passed)
    # A session this request started was inserted with these authentications (on_login).
    authenticate = bool(passed) and getattr(session, _STARTED_WITH, None) != passed
    # One statement needs no transaction of its own (a savepoint, or BEGIN and COMMIT).
    with transaction.atomic() if federated or authenticate else nullcontext():
        if federated:
            federated_flow_recorded.send(sender=UserSession, session=session, flow_id=flow_id)
        # One statement: the application's row, made or brought up to date.
        SessionApplication.objects.bulk_create(
            [SessionApplication(session=session, application=application, subject=subject, last_at=now)],
            update_conflicts=True, unique_fields=["session", "application"], update_fields=["subject", "last_at"])
        if authenticate:
            session.authenticated = _record_authentications(session, passed, now)
    if hasattr(session, _STARTED_WITH):
        delattr(session, _STARTED_WITH)  # recorded once: a later flow in this request records its own


def _merged(authenticated: list[dict], passed: list[dict], now) -> list[dict]:
    """`authenticated` with the authentications in `passed` made at `now` (an earlier one of each replaced)."""
    again = {(p["authenticator"], p["idp"]) for p in passed}
    return ([a for a in authenticated if (a["authenticator"], a["idp"]) not in again]
            + [{"authenticator": p["authenticator"], "idp": p["idp"], "at": now.isoformat()} for p in passed])


def _record_authentications(session: UserSession, passed: list[dict], now) -> list[dict]:
    """The session's authentications with `passed` (newest first replaced); what is stored now."""
    def merged(authenticated):
        return _merged(authenticated, passed, now)

    # Compare and set from the row as this request read it: one UPDATE, unless another request changed it since.
    known = list(session.authenticated)
    if UserSession.objects.filter(pk=session.pk, authenticated=known).update(authenticated=merged(known)) == 1:
        return merged(known)
    locked = UserSession.objects.select_for_update().get(pk=session.pk)
    locked.authenticated = merged(locked.authenticated)
    locked.save(update_fields=["authenticated"])
    return locked.authenticated


def signed_in_to(request, application_name: str) -> bool:
    """Whether this browser's active session signed in to the application named `application_name`."""
    session = current(request)
    return session is not None and session.applications.filter(application__name=application_name).exists()


def flow_input(request, *, reuse: bool, max_age: int | None) -> dict | None:
    """The `session` input of a flow starting in this browser (sequences.api.session_input), or None.

    `reuse` is False for prompt=login: the session is still visible to the
    script, but none of its authentications answers a step.  With `max_age`,
    only authentications younger than that many seconds do.
    """
    session = current(request)
    if session is None:
        return None
    oldest = timezone.now() - timedelta(seconds=max_age) if max_age is not None else None
    authenticated = []
    if reuse:
        for entry in session.authenticated:
            at = parse_datetime(entry.get("at") or "")
            if oldest is None or (at is not None and at >= oldest):
                authenticated.append(entry)
    return session_input(session_id=str(session.pk), user=session.user.get_username(), authenticated=authenticated,
                         applications=_applications_of(session))


def sessions_of(username: str) -> list[dict]:
    """The user's active sessions as scripts see them (getUserSessions)."""
    return [script_view(s) for s in _active(UserSession.objects.filter(user__username=username))]


def script_view(session: UserSession) -> dict:
    return {
        "id": str(session.pk),
        "ip": session.ip,
        "loginTime": int(session.login_at.timestamp() * 1000),
        "lastAccessTime": int(session.last_access_at.timestamp() * 1000),
        "userAgent": {"raw": session.user_agent, "browser": session.browser, "platform": session.platform,
                      "device": session.device},
        "applications": [_application(a) for a in session.applications.all()],
    }


def _applications_of(session: UserSession) -> list[dict]:
    """The session's applications as scripts see them, read as values (no model rows to build: every login's
    flow reads them)."""
    rows = session.applications.values_list("subject", "application__name", "application__client_id")
    return [{"subject": subject, "appName": name, "appId": client_id} for subject, name, client_id in rows]


def _application(row: SessionApplication) -> dict:
    return {"subject": row.subject, "appName": row.application.name, "appId": row.application.client_id}
