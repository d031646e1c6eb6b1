"""Starting and resuming login flows: the orchestration between a request and the engine.

A flow is advanced inside one transaction holding its row lock: the answer is
journaled, the script replayed, its effects applied and the new state saved
together, or none of it.  A revision counter refuses a second writer even
where the database has no row locks (SQLite).

This module is the only one that reads or changes a LoginFlow: other apps
call its functions and read the attributes of the flows it returns.  A
flow's state is read through sequences.api's accessors (passed_steps, ...).
"""
from __future__ import annotations

import logging
import re
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from authflow.directory import services as directory
from authflow.outbound import calls as outbound_calls
from sequences.api import (
    Advance,
    AnswerMismatch,
    FlowState,
    Program,
    StateVersionError,
    TraceError,
    advance,
    answers_count,
    check_answer,
    configured_steps,
    flow_rerun,
    flow_trace,
    published_version,
)

from . import lookups, sealing
from .host import DirectoryHost
from .models import LoginFlow

logger = logging.getLogger("authflow.flows")
script_logger = logging.getLogger("authflow.script")

# The task that makes a recorded call and resumes the flow with its outcome (tasks.py).  It is queued by
# its name: it resumes flows through this module, which therefore does not import it.
CALL_TASK = "authflow.outbound.perform_call"

_LOG_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING, "error": logging.ERROR}


class FlowError(Exception):
    """A request about a flow that cannot be honoured; `code` says which kind."""

    code = "flow_error"


class FlowNotFound(FlowError):
    code = "flow_not_found"


class FlowExpired(FlowError):
    code = "flow_expired"


class FlowFinished(FlowError):
    code = "flow_finished"


class StaleAnswer(FlowError):
    """The answer was for an earlier point of the flow (another tab or a double submit got there first)."""

    code = "stale_answer"


class WrongAnswer(FlowError):
    code = "wrong_answer"


class FlowUnreadable(FlowError):
    """The flow cannot be replayed for reading (an earlier engine's state, or its sealed secrets are gone)."""

    code = "flow_unreadable"


def start_flow(application, request: dict, *, entry: str = "onLoginRequest", return_to: dict | None = None,
               browser_hash: str = "", session: dict | None = None, claim_delivery: bool = False,
               known_user=None, version=None) -> LoginFlow:
    """Create a flow for `application`, pinned to its published script, and run it to its first command.

    `session` is the browser's sign-on session (sequences.api.session_input):
    steps it already satisfies are answered from it.  `claim_delivery`: the caller delivers the outcome
    when the flow finishes here (see mark_concluded), so the claim is written with the flow.  `known_user`: a
    User this request read already (the signed-in one), whose snapshot the script then reads without a query.
    `version`: the application's live script version as this request read it with the application (else it
    is read here).
    """
    if version is None and application.sequence_id:
        version = published_version(application.sequence_id)
    state = FlowState.start(application.name, application.steps, request, entry=entry, session=session,
                            tenant_domain=settings.AUTHFLOW_TENANT_DOMAIN)
    ttl = timedelta(seconds=settings.AUTHFLOW_FLOW_TTL_SECONDS)
    # Inserted once, after its first round trip (what that round trip records for the flow, such as a
    # call or an effect, refers to its id: foreign keys are checked when the transaction commits).
    flow = LoginFlow(application=application, sequence_version=version, state=sealing.stored(state),
                     expires_at=timezone.now() + ttl,
                     return_to=return_to or {}, browser_hash=browser_hash)
    with transaction.atomic():
        logger.info("flow started", extra={"flow_id": str(flow.id), "application": application.name,
                                           "sequence_version": version.number if version else None})
        _advance_and_save(flow, state, answer=None, new=True, claim_delivery=claim_delivery, known_user=known_user)
    return flow


def resume_flow(flow_id, answer: dict, *, position: int, claim_delivery: bool = False,
                known_user=None, read: LoginFlow | None = None) -> LoginFlow:
    """Journal `answer` (which answers the flow at `position`) and run the flow to its next command.

    `claim_delivery` and `known_user` (the account whose credential the request checked) as for start_flow.
    `read`: the flow as this request read it (get_flow).  Its row is locked all the same; when its revision
    has not moved since, the flow is not read again whole (its state, script and application: only what
    changes without a new revision is), and `read` is the flow resumed.
    """
    try:
        with transaction.atomic():
            flow = _locked(flow_id, read)
            if flow.status != LoginFlow.Status.RUNNING:
                raise FlowFinished("this login has already finished")
            if flow.expires_at <= timezone.now():
                raise FlowExpired("this login expired")
            try:
                FlowState.from_dict(flow.state).check_version()
            except StateVersionError as exc:
                logger.warning("flow cannot be replayed by this engine", extra={"flow_id": str(flow.pk),
                                                                               "error": str(exc)})
                raise FlowExpired("this login was started before the server was updated and cannot be "
                                  "continued: start again") from None
            try:
                state = sealing.opened(flow.state)
            except sealing.SealedUnreadable:
                logger.error("flow cannot be replayed: its sealed secrets do not decrypt (keys retired?)",
                             extra={"flow_id": str(flow.pk)})
                raise FlowExpired("this login can no longer be continued") from None
            if position != state.position:
                raise StaleAnswer("this page is out of date: the login has moved on")
            try:
                check_answer(flow.pending or {}, answer)
            except AnswerMismatch as exc:
                raise WrongAnswer(str(exc)) from None
            _advance_and_save(flow, state, answer=answer, claim_delivery=claim_delivery, known_user=known_user)
    except IntegrityError:
        # Another request applied this flow's next effect first.
        raise StaleAnswer("this page is out of date: the login has moved on") from None
    return flow


def _locked(flow_id, read: LoginFlow | None) -> LoginFlow:
    """The flow, its row locked until the transaction ends: `read` when its revision is still the row's."""
    try:
        if read is not None and str(read.pk) == str(flow_id):
            # Every change of the state, command, result or status makes a new revision; the outbox
            # (claim_outbox) and the delivery's claim (mark_concluded) change without one.
            rows = list(LoginFlow.objects.select_for_update().filter(pk=read.pk).order_by().values_list(
                "revision", "outbox", "concluded_at")[:1])
            if not rows:
                raise FlowNotFound("no such login flow")
            row = rows[0]
            if row[0] == read.revision:
                read.outbox, read.concluded_at = row[1], row[2]
                return read
        return LoginFlow.objects.select_for_update(of=("self",)).select_related(
            "application", "sequence_version").get(pk=flow_id)
    except (LoginFlow.DoesNotExist, ValueError, ValidationError):
        raise FlowNotFound("no such login flow") from None


def end_flow(flow: LoginFlow, result: dict) -> LoginFlow:
    """End a running flow from outside the script (e.g. prompt=none when the flow needs the user)."""
    updated = LoginFlow.objects.filter(pk=flow.pk, revision=flow.revision, status=LoginFlow.Status.RUNNING).update(
        status=LoginFlow.Status.FAILED, result=result, pending=None, revision=F("revision") + 1,
        updated_at=timezone.now())
    if updated != 1:
        raise StaleAnswer("this page is out of date: the login has moved on")
    flow.refresh_from_db()
    logger.info("flow ended", extra={"flow_id": str(flow.id), "outcome": result.get("type"),
                                     "reason": (result.get("params") or {}).get("errorCode")})
    return flow


def mark_concluded(flow: LoginFlow) -> bool:
    """Claim the delivery of a finished flow's outcome; False when it was delivered already.

    A flow this request finished with claim_delivery was claimed as it was written: that claim is taken.
    """
    if getattr(flow, "_claimed_by_this_request", False):
        flow._claimed_by_this_request = False
        return True
    now = timezone.now()
    claimed = LoginFlow.objects.filter(pk=flow.pk, concluded_at__isnull=True).exclude(
        status=LoginFlow.Status.RUNNING).update(concluded_at=now)
    if claimed:
        flow.concluded_at = now
    return claimed == 1


def claim_code(flow_id, *, subject: str) -> bool:
    """Claim the one authorization code a succeeded flow of `subject` gives; False when it was issued already.

    One conditional UPDATE: of concurrent requests presenting the same login, the database lets one through.
    Call it in the transaction that makes the code, so that a failure to make it leaves the claim unmade.
    """
    try:
        return LoginFlow.objects.filter(pk=flow_id, status=LoginFlow.Status.SUCCEEDED, subject=subject,
                                        code_issued_at__isnull=True).update(code_issued_at=timezone.now()) == 1
    except (ValueError, ValidationError):
        return False


def purge_flows(last_change_before, *, batch_size: int = 500) -> dict[str, int]:
    """Delete flows that can never move again and last changed before `last_change_before`.

    A flow is gone with what hangs on it (its effects, calls, codes, ceremonies).
    Running flows are kept until they expire, whatever their age.  Returns the
    number of rows deleted per model label.
    """
    dead = LoginFlow.objects.filter(updated_at__lt=last_change_before).filter(
        ~Q(status=LoginFlow.Status.RUNNING) | Q(expires_at__lt=timezone.now()))
    deleted: dict[str, int] = {}
    while batch := list(dead.values_list("pk", flat=True)[:batch_size]):
        _, per_model = LoginFlow.objects.filter(pk__in=batch).delete()
        for label, count in per_model.items():
            deleted[label] = deleted.get(label, 0) + count
    return deleted


def _one(queryset) -> LoginFlow | None:
    """The flow a queryset by its id finds, or None: without first()'s ordering (the model's -created_at)."""
    found = list(queryset.order_by()[:1])
    return found[0] if found else None


def get_flow(flow_id) -> LoginFlow | None:
    try:
        return _one(LoginFlow.objects.select_related("application", "sequence_version").filter(pk=flow_id))
    except (ValueError, ValidationError):
        return None


def for_response(flow_id) -> LoginFlow | None:
    """What a response to the flow's browser needs of it (its command or result, outbox and browser), in one query."""
    try:
        return _one(LoginFlow.objects.filter(pk=flow_id).only("id", "pending", "result", "outbox", "browser_hash"))
    except (ValueError, ValidationError):
        return None


def claim_outbox(flow: LoginFlow) -> list[dict]:
    """The cookies the script set that wait for the flow's browser, opened to be sent; each is claimed once.

    `flow` as for_response gave it: when its outbox is empty (almost always)
    nothing more is read; otherwise the outbox is emptied under the row's lock.
    """
    if not flow.outbox:
        return []
    with transaction.atomic():
        kept = LoginFlow.objects.select_for_update().filter(pk=flow.pk).values_list("outbox", flat=True).first()
        if kept:
            LoginFlow.objects.filter(pk=flow.pk).update(outbox=[])
    flow.outbox = []
    cookies = []
    for sealed in kept or []:
        cookie = sealing.opened_cookie(flow.pk, sealed)
        if cookie is None:
            logger.warning("a cookie the script set was not sent: it does not decrypt (keys retired?)",
                           extra={"flow_id": str(flow.pk), "cookie": str(sealed.get("name"))[:100]})
            continue
        cookies.append(cookie)
    return cookies


def reload(flow: LoginFlow) -> LoginFlow:
    """`flow` as the database has it now (after another request moved it)."""
    flow.refresh_from_db()
    return flow


def is_running(flow: LoginFlow) -> bool:
    """Whether the flow can still move (it may have expired: is_expired)."""
    return flow.status == LoginFlow.Status.RUNNING


def succeeded(flow: LoginFlow) -> bool:
    """Whether the script completed with a user signed in (flow.subject)."""
    return flow.status == LoginFlow.Status.SUCCEEDED


def recent_logins(application, limit: int = 10) -> list[LoginFlow]:
    """The application's newest login flows (any outcome), with the script version each ran: for the console."""
    return list(LoginFlow.objects.filter(application=application)
                .select_related("sequence_version").defer("state", "outbox").order_by("-created_at")[:limit])


def is_expired(flow: LoginFlow) -> bool:
    return flow.status == LoginFlow.Status.RUNNING and flow.expires_at <= timezone.now()


def program_for(flow: LoginFlow) -> Program:
    if flow.sequence_version is not None:
        return Program.from_source(flow.sequence_version.source)
    return Program.default_for(configured_steps(flow.state))


def _advance_and_save(flow: LoginFlow, state: FlowState, answer: dict | None, *, new: bool = False,
                      claim_delivery: bool = False, known_user=None) -> None:
    program = program_for(flow)
    host = DirectoryHost(flow, answers_count(state.to_dict(), "effect"), known_user=known_user)
    outbox = list(flow.outbox)  # setCookie adds to it
    result = advance(program, state, host, answer=answer)
    events = list(result.events)
    # An asynchronous call (httpGet, httpPost, callAnalytics) is recorded and queued for a worker, which
    # resumes the flow with its outcome; one that cannot be made (a URL not on the allow-list, ...) is
    # answered at once, and the script goes on in this round trip.
    while result.command["type"] == "call":
        try:
            begun = outbound_calls.begin(flow, result.command,
                                         calls_made=answers_count(result.state.to_dict(), "call"))
        except outbound_calls.TooManyCalls as exc:
            result = Advance(result.state, exc.command)
            break
        if isinstance(begun, outbound_calls.Queued):
            transaction.on_commit(partial(_queue_call, begun, flow))
            break
        result = advance(program, result.state, host, answer=begun)
        events.extend(result.events)
    _log_events(flow, events)
    command = result.command
    # The pending command is derived (each replay recomputes it): a call's headers and body are not kept.
    fields = {"state": sealing.stored(result.state),
              "pending": None if result.finished else outbound_calls.stored_command(command)}
    if flow.outbox != outbox:
        fields["outbox"] = flow.outbox
    if result.finished:
        fields["result"] = command
        if command["type"] == "complete":
            fields["status"] = LoginFlow.Status.SUCCEEDED
            fields["subject"] = command["subject"]
        elif command["type"] == "error":
            fields["status"] = LoginFlow.Status.ERROR
            logger.error("script error ended the flow", extra={
                "flow_id": str(flow.id), "error_kind": command.get("kind"), "error": command.get("message"),
                "line": command.get("line"), "column": command.get("column")})
        else:
            fields["status"] = LoginFlow.Status.FAILED
        if claim_delivery and flow.concluded_at is None:
            fields["concluded_at"] = timezone.now()  # mark_concluded's claim, in the same write
    if new:
        for name, value in fields.items():
            setattr(flow, name, value)
        flow.revision = 1
        flow.save(force_insert=True)
    else:
        updated = LoginFlow.objects.filter(pk=flow.pk, revision=flow.revision).update(
            revision=F("revision") + 1, updated_at=timezone.now(), **fields)
        if updated != 1:
            raise StaleAnswer("this page is out of date: the login has moved on")
        for name, value in fields.items():
            setattr(flow, name, value)
        flow.revision += 1
    flow._claimed_by_this_request = "concluded_at" in fields
    if result.finished:
        logger.info("flow finished", extra={"flow_id": str(flow.id), "outcome": command["type"],
                                            "subject": fields.get("subject")})


def _queue_call(queued, flow: LoginFlow) -> None:
    """Hand a recorded call to a worker (after the round trip committed): its task resumes the flow."""
    # Celery (about 8 MB of a web worker) is imported when a call is first queued, not at startup.
    from authflow.celery import app as celery_app, registered_task
    options = {"queue": settings.AUTHFLOW_CALL_QUEUE} if settings.AUTHFLOW_CALL_QUEUE else {}
    try:
        registered_task(CALL_TASK).apply_async(args=[queued.call_id, queued.payload], **options)
    except Exception:  # the broker is down, or (inline) the task failed: the deadline answers the flow
        logger.exception("outbound call could not be queued or made", extra={
            "flow_id": str(flow.pk), "call_id": queued.call_id})
    if celery_app.conf.task_always_eager:
        # Inline, the call was made and its outcome journaled: whoever holds this flow sees where it is now.
        try:
            flow.refresh_from_db()
        except LoginFlow.DoesNotExist:
            pass


def _log_events(flow: LoginFlow, events: list[dict]) -> None:
    for event in events:
        if event["type"] == "log":
            script_logger.log(_LOG_LEVELS.get(event["level"], logging.INFO), event["message"],
                              extra={"flow_id": str(flow.id)})
        elif event["type"] == "sso":
            logger.info("step answered by the sign-on session", extra={
                "flow_id": str(flow.id), "step": event["step"], "authenticator": event["authenticator"],
                "idp": event["idp"]})
        elif event["type"] == "effect":
            logger.info("effect applied", extra={"flow_id": str(flow.id), "effect": event["name"],
                                                 "result": event["result"]})


# ---------------------------------------------------------------- the replay debugger
# Read-only: the flow's stored state is opened (its secrets are needed to replay it exactly) and replayed in
# the sandbox; nothing is applied or saved, and what comes back shows every secret as "(sealed)".

_FLOW_ID_PREFIX = re.compile(r"[0-9a-fA-F-]{4,36}")


def recent_flows(*, application: str | None = None, search: str = "", limit: int = 50) -> list[LoginFlow]:
    """The newest flows, of one application if named, whose id or username (subject) matches `search`."""
    flows = LoginFlow.objects.select_related("application", "sequence_version__sequence").order_by("-created_at")
    if application:
        flows = flows.filter(application__name=application)
    search = search.strip()
    if search:
        matches = Q(subject__icontains=search)
        if _FLOW_ID_PREFIX.fullmatch(search):  # the start of a flow id, as the console's lists show it
            matches |= Q(id__startswith=search.lower())
        flows = flows.filter(matches)
    return list(flows[:limit])


def trace(flow: LoginFlow) -> dict:
    """The flow round trip by round trip (sequences.api.flow_trace); FlowUnreadable when it cannot be replayed."""
    try:
        return flow_trace(program_for(flow), _opened_for_reading(flow), read_user=directory.user_snapshot,
                          lookup=lookups.lookup)
    except TraceError as exc:
        raise FlowUnreadable(str(exc)) from None


def rerun(flow: LoginFlow, version) -> dict:
    """The flow's recorded answers replayed against `version` (another version of its script), effects not run."""
    try:
        return flow_rerun(program_for(flow), Program.from_source(version.source), _opened_for_reading(flow),
                          read_user=directory.user_snapshot, lookup=lookups.lookup)
    except TraceError as exc:
        raise FlowUnreadable(str(exc)) from None


def _opened_for_reading(flow: LoginFlow) -> FlowState:
    try:
        return sealing.opened(flow.state)
    except sealing.SealedUnreadable:
        raise FlowUnreadable("this flow's sealed secrets do not open (their key was retired): it cannot be "
                             "replayed") from None
