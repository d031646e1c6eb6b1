"""Housekeeping: finished flows and dead sessions go after the retention period, live ones never."""
import json
import time
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.utils import timezone
from oauth2_provider.models import AccessToken
from oauth2_provider.models import Application as OAuthApplication

from authflow.applications.models import Application
from authflow.directory.models import User
from authflow.flows import service
from authflow.flows.models import EffectRecord, LoginFlow
from authflow.outbound.models import OutboundCall
from authflow.passkeys.models import Ceremony
from authflow.protocols.models import IssuedCode
from authflow.sso.models import UserSession
from sequences.api import normalize_steps, request_inputs
from tests.support.worker import mail_worker, worker  # noqa: F401  (fixtures)

DAY = timedelta(days=1)
RETENTION = 30 * DAY


@pytest.fixture
def portal(settings):
    settings.AUTHFLOW_RETENTION_SECONDS = int(RETENTION.total_seconds())
    return Application.objects.create(name="portal", client_id="portal",
                                      redirect_uris=["http://127.0.0.1:9000/callback"],
                                      steps=normalize_steps({1: ["BasicAuthenticator"]}))


def flow(app, *, status=LoginFlow.Status.SUCCEEDED, changed=timedelta(0), expires_in=timedelta(minutes=15)):
    """A flow started by the service (waiting at step 1), then aged: last changed `changed` ago."""
    started = service.start_flow(app, request_inputs("203.0.113.9", {"User-Agent": "pytest"}, {}, {}))
    now = timezone.now()
    LoginFlow.objects.filter(pk=started.pk).update(status=status, updated_at=now - changed,
                                                    expires_at=now - changed + expires_in)
    return started.pk


def with_records(flow_id):
    """What hangs on a flow: an applied effect, a call, an authorization code, a passkey challenge."""
    now = timezone.now()
    EffectRecord.objects.create(flow_id=flow_id, index=0, name="assignUserRoles", args=["alice", ["x"]], result=True)
    OutboundCall.objects.create(flow_id=flow_id, position=1, function="httpGet", method="GET",
                                url="https://api.example.com/", deadline=now)
    IssuedCode.objects.create(code_sha256=f"{flow_id.hex:0<64}", flow_id=flow_id)
    Ceremony.objects.create(kind=Ceremony.Kind.AUTHENTICATE, state={}, flow_id=flow_id, expires_at=now + DAY)
    return flow_id


def purge() -> dict:
    out = StringIO()
    call_command("purge_expired", stdout=out)
    return json.loads(out.getvalue())


@pytest.mark.django_db
def test_finished_and_expired_flows_go_after_the_retention_with_what_hangs_on_them(portal):
    with_records(flow(portal, changed=RETENTION + DAY))
    flow(portal, status=LoginFlow.Status.RUNNING, changed=RETENTION + DAY)  # expired long ago
    recent_failure = with_records(flow(portal, status=LoginFlow.Status.FAILED, changed=RETENTION - DAY))
    # Untouched for longer than the retention, but still running and not expired (a long TTL): kept.
    old_but_live = flow(portal, status=LoginFlow.Status.RUNNING, changed=RETENTION + DAY,
                        expires_in=RETENTION + 2 * DAY)

    report = purge()

    assert set(LoginFlow.objects.values_list("pk", flat=True)) == {recent_failure, old_but_live}
    assert report["retention_seconds"] == RETENTION.total_seconds()
    assert report["deleted"]["flows.LoginFlow"] == 2
    for model in (EffectRecord, OutboundCall, IssuedCode, Ceremony):
        assert list(model.objects.values_list("flow_id", flat=True)) == [recent_failure], model
        assert report["deleted"][model._meta.label] == 1


@pytest.mark.django_db
def test_a_retention_shorter_than_an_hour_still_keeps_an_hour(portal, settings):
    settings.AUTHFLOW_RETENTION_SECONDS = 10
    half_hour = flow(portal, changed=timedelta(minutes=30))
    flow(portal, changed=timedelta(hours=2))
    report = purge()
    assert list(LoginFlow.objects.values_list("pk", flat=True)) == [half_hour]
    assert report["retention_seconds"] == 3600


@pytest.mark.django_db
def test_sign_on_sessions_go_once_dead_for_the_retention(portal, settings):
    alice = User.objects.create_user(username="alice", password="correct horse battery staple")
    now = timezone.now()
    idle = timedelta(seconds=settings.AUTHFLOW_SESSION_IDLE_SECONDS)

    def session(*, ended=None, last_access=timedelta(0), created=timedelta(0)):
        row = UserSession.objects.create(user=alice, login_at=now - created, last_access_at=now - last_access,
                                         ended_at=now - ended if ended is not None else None)
        UserSession.objects.filter(pk=row.pk).update(created_at=now - created)
        return row.pk

    active = session()
    session(ended=RETENTION + DAY, last_access=RETENTION + DAY, created=RETENTION + DAY)  # logged out long ago
    logged_out_yesterday = session(ended=DAY, last_access=DAY, created=DAY)
    session(last_access=RETENTION + idle + DAY, created=RETENTION + idle + DAY)  # timed out long ago
    idle_yesterday = session(last_access=DAY, created=DAY)

    report = purge()

    assert set(UserSession.objects.values_list("pk", flat=True)) == {active, logged_out_yesterday, idle_yesterday}
    assert report["deleted"]["sso.UserSession"] == 2


@pytest.mark.django_db
def test_expired_tokens_challenges_and_browser_sessions_go_at_once(portal):
    alice = User.objects.create_user(username="alice", password="correct horse battery staple")
    client = OAuthApplication.objects.create(name="portal", client_id="portal", client_type="public",
                                             authorization_grant_type="authorization-code")
    now = timezone.now()
    AccessToken.objects.create(user=alice, application=client, token="a" * 40, expires=now - DAY)
    valid = AccessToken.objects.create(user=alice, application=client, token="b" * 40, expires=now + DAY)
    Ceremony.objects.create(kind=Ceremony.Kind.REGISTER, state={}, user=alice, expires_at=now - DAY)
    pending = Ceremony.objects.create(kind=Ceremony.Kind.REGISTER, state={}, user=alice, expires_at=now + DAY)
    gone, kept = SessionStore(), SessionStore()
    gone.set_expiry(-60)
    gone.save()
    kept.save()

    report = purge()

    assert list(AccessToken.objects.values_list("pk", flat=True)) == [valid.pk]
    assert list(Ceremony.objects.values_list("pk", flat=True)) == [pending.pk]
    assert report["deleted"]["passkeys.Ceremony"] == 1
    assert list(Session.objects.values_list("session_key", flat=True)) == [kept.session_key]


@pytest.mark.django_db
def test_nothing_to_purge_reports_nothing(portal):
    live = flow(portal, status=LoginFlow.Status.RUNNING)
    assert purge()["deleted"] == {}
    assert LoginFlow.objects.filter(pk=live).exists()


def test_the_beat_schedule_names_the_registered_task():
    from authflow.celery import app

    app.loader.import_default_modules()
    scheduled = app.conf.beat_schedule["purge-expired"]
    assert scheduled["task"] in app.tasks
    assert scheduled["schedule"] > 0


@pytest.mark.django_db(transaction=True)
def test_the_celery_task_purges_on_a_real_worker(portal, worker):  # noqa: F811
    from authflow.housekeeping.tasks import purge_expired

    # The worker runs with the default retention, which is RETENTION.
    old = flow(portal, changed=RETENTION + DAY)
    recent = flow(portal, changed=DAY)
    purge_expired.apply_async(queue=worker.queue)
    deadline = time.monotonic() + 30
    while LoginFlow.objects.filter(pk=old).exists():
        assert time.monotonic() < deadline, f"the worker did not purge the old flow:\n{worker.output()}"
        time.sleep(0.1)
    assert LoginFlow.objects.filter(pk=recent).exists()


@pytest.mark.django_db
def test_failed_sign_ins_with_unknown_usernames_are_forgotten_after_the_retention(portal):
    from authflow.directory import lockout
    from authflow.directory.models import UnknownUsername

    def fail(name):
        """A wrong password for `name`; the failures in a row before it."""
        with lockout.password_attempt(name) as attempt:
            assert attempt.allowed
            lockout.attempt_failed(attempt, None)
        return attempt.failures

    for name in ("old-name", "recent-name"):
        assert fail(name) == 0
    UnknownUsername.objects.filter(pk=UnknownUsername.objects.order_by("pk").first().pk).update(
        updated_at=timezone.now() - RETENTION - DAY)
    assert purge()["deleted"] == {"directory.UnknownUsername": 1}
    assert UnknownUsername.objects.count() == 1 and fail("recent-name") == 1
    assert fail("old-name") == 0  # counted from the start again
