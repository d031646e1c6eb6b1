"""SessionExecutor (active sessions limit): a user with too many sessions ends some to continue.

The limit is the step's `MaxSessionCount` authenticatorParam (default 1).
The browser's own session does not count: signing in here reuses it.  Under
the limit the step passes without a page; over it, the page lists the other
sessions and the user ends enough of them, or cancels.
"""
from __future__ import annotations

from django.utils.translation import gettext, gettext_noop

from authflow.sso import service as sso

from .base import Authenticator, ShowAgain, Step

DEFAULT_MAX_SESSIONS = 1


class SessionExecutor(Authenticator):
    name = "SessionExecutor"
    display_name = gettext_noop("Active Sessions Limit")
    identifies_user = False
    proves_identity = False
    template = "login/session_limit.html"

    def silent_answer(self, request, step: Step) -> dict | None:
        user = step.user
        if user is not None and len(self._other_sessions(request, user)) < self._limit(step):
            return step.success(user.username)
        return None

    def context(self, request, step: Step) -> dict:
        user = step.user
        if user is None:
            return {"misconfigured": True}
        sessions = self._other_sessions(request, user)
        limit = self._limit(step)
        return {"sessions": sessions, "limit": limit, "to_end": len(sessions) - limit + 1}

    def answer(self, request, step: Step) -> dict:
        user = step.user
        if user is None:
            raise ShowAgain(gettext_noop("This step needs an earlier step that identifies you."))
        chosen = set(request.POST.getlist("session"))
        for session in self._other_sessions(request, user):
            if str(session.pk) in chosen:
                sso.terminate(user, session.pk, "ended to stay within the active sessions limit")
        remaining = len(self._other_sessions(request, user))
        limit = self._limit(step)
        if remaining >= limit:
            more = remaining - limit + 1
            raise ShowAgain(gettext("You still have %(remaining)d other active session(s): end at least %(more)d to continue.")
                            % {"remaining": remaining, "more": more})
        return step.success(user.username)

    def _limit(self, step: Step) -> int:
        try:
            return max(1, int(str(step.param("MaxSessionCount", DEFAULT_MAX_SESSIONS))))
        except ValueError:
            return DEFAULT_MAX_SESSIONS

    def _other_sessions(self, request, user) -> list:
        own = sso.current(request)
        return [s for s in sso.active_sessions(user) if own is None or s.pk != own.pk]
