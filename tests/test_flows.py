"""Login flows on a real database: pinning, exactly-once effects, any worker resuming, bad requests."""
import json
import logging
import os
import subprocess
import sys
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from authflow.applications.models import Application
from authflow.directory.models import Role, User
from authflow.flows import service
from authflow.flows.models import EffectRecord, LoginFlow
from sequences.api import normalize_steps, prompt_answer, request_inputs, save_version, step_answer
from sequences.engine.sandbox import pool

ROLE_SCRIPT = """var onLoginRequest = function(context) {
    executeStep(1, {onSuccess: function (context) {
        var user = context.currentKnownSubject;
        assignUserRoles(user, ['verified']);
        if (hasRole(user, 'admin')) { executeStep(2); }
    }});
};"""


def make_app(script=None, name="portal", steps=None):
    app = Application.objects.create(
        name=name, client_id=name, redirect_uris=["http://127.0.0.1:9000/callback"],
        steps=normalize_steps(steps or {1: ["BasicAuthenticator"], 2: ["totp"]}))
    if script is not None:
        version, _ = save_version(name, script)
        app.sequence = version.sequence
        app.save()
    return app


def make_user(username="alice", roles=("admin",)):
    user = User.objects.create_user(username=username, password="correct horse battery staple")
    for name in set(roles) | {"verified"}:
        Role.objects.get_or_create(name=name)
    user.roles.set(Role.objects.filter(name__in=roles))
    return user


def basic_ok(step=1, user="alice", authenticator="BasicAuthenticator"):
    return step_answer(step, "success", user=user, authenticator=authenticator)


def request():
    return request_inputs("203.0.113.9", {"User-Agent": "pytest"}, {}, {})


@pytest.mark.django_db
def test_a_flow_runs_to_completion_and_applies_its_effect():
    app = make_app(ROLE_SCRIPT)
    alice = make_user()
    flow = service.start_flow(app, request())
    assert flow.pending["type"] == "step" and flow.pending["step"] == 1
    flow = service.resume_flow(flow.id, basic_ok(), position=flow.pending["position"])
    assert flow.pending["step"] == 2
    assert set(alice.roles.values_list("name", flat=True)) == {"admin", "verified"}
    flow = service.resume_flow(flow.id, basic_ok(2, authenticator="totp"), position=flow.pending["position"])
    flow.refresh_from_db()
    assert flow.status == LoginFlow.Status.SUCCEEDED and flow.subject == "alice"
    assert list(EffectRecord.objects.filter(flow=flow).values_list("name", "args", "result")) == [
        ("assignUserRoles", ["alice", ["verified"]], True)]


@pytest.mark.django_db
def test_an_application_without_a_script_runs_its_steps_in_order():
    app = make_app(None)
    make_user()
    flow = service.start_flow(app, request())
    flow = service.resume_flow(flow.id, basic_ok(), position=0)
    assert flow.pending["step"] == 2
    flow = service.resume_flow(flow.id, basic_ok(2, authenticator="totp"), position=1)
    assert flow.status == LoginFlow.Status.SUCCEEDED


@pytest.mark.django_db
def test_a_flow_stays_on_the_version_it_started_with():
    app = make_app("var onLoginRequest = function(c) { executeStep(1); executeStep(2); };")
    make_user()
    old_flow = service.start_flow(app, request())
    v2, created = save_version("portal", "var onLoginRequest = function(c) { executeStep(1); };")
    assert created and v2.number == 2 and v2.published
    old_flow = service.resume_flow(old_flow.id, basic_ok(), position=0)
    assert old_flow.pending["step"] == 2  # v1 still asks for step 2
    assert old_flow.sequence_version.number == 1
    new_flow = service.start_flow(app, request())
    new_flow = service.resume_flow(new_flow.id, basic_ok(), position=0)
    assert new_flow.status == LoginFlow.Status.SUCCEEDED and new_flow.sequence_version.number == 2


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_resumes_apply_the_effect_exactly_once():
    app = make_app(ROLE_SCRIPT)
    make_user()
    flow = service.start_flow(app, request())
    barrier = threading.Barrier(2)
    outcomes = []

    def resume():
        try:
            barrier.wait()
            service.resume_flow(flow.id, basic_ok(), position=0)
            outcomes.append("ok")
        except service.FlowError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=resume) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok", "stale_answer"]
    assert EffectRecord.objects.filter(flow_id=flow.id).count() == 1
    flow.refresh_from_db()
    assert flow.pending["step"] == 2 and len(flow.state["journal"]["answers"]) == 2


@pytest.mark.django_db(transaction=True)
def test_an_effect_already_recorded_is_never_applied_again_and_nothing_is_half_written():
    app = make_app(ROLE_SCRIPT)
    alice = make_user(roles=())
    flow = service.start_flow(app, request())
    # Another writer got there first and recorded effect 0 of this flow.
    EffectRecord.objects.create(flow=flow, index=0, name="assignUserRoles", args=["alice", ["verified"]], result=True)
    with pytest.raises(service.StaleAnswer):
        service.resume_flow(flow.id, basic_ok(), position=0)
    flow.refresh_from_db()
    assert flow.state["journal"]["answers"] == [] and flow.pending["step"] == 1 and flow.revision == 1
    assert not alice.roles.exists()


@pytest.mark.django_db(transaction=True)
def test_another_process_resumes_the_flow(tmp_path):
    app = make_app(ROLE_SCRIPT)
    make_user()
    flow = service.start_flow(app, request())
    flow = service.resume_flow(flow.id, basic_ok(), position=0)
    pool.clear()
    settings_dict = connection.settings_dict
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="tests.settings",
               DATABASE_URL=f"postgres://{settings_dict['USER']}:{settings_dict['PASSWORD'] or ''}@"
                            f"{settings_dict['HOST'] or '127.0.0.1'}:{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}")
    code = (
        "import django, json; django.setup()\n"
        "from authflow.flows import service\n"
        "from sequences.api import step_answer\n"
        f"flow = service.resume_flow('{flow.id}', step_answer(2, 'success', user='alice', authenticator='totp'), position=2)\n"
        "print(json.dumps({'status': flow.status, 'subject': flow.subject}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120,
                         cwd=os.path.dirname(os.path.dirname(__file__)))
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {"status": "succeeded", "subject": "alice"}
    flow.refresh_from_db()
    assert flow.status == LoginFlow.Status.SUCCEEDED
    assert EffectRecord.objects.filter(flow=flow).count() == 1


@pytest.mark.django_db
def test_requests_about_a_flow_that_cannot_be_honoured():
    app = make_app("var onLoginRequest = function(c) { executeStep(1); prompt('consent', {}); };")
    make_user()
    with pytest.raises(service.FlowNotFound):
        service.resume_flow("00000000-0000-0000-0000-000000000000", basic_ok(), position=0)
    with pytest.raises(service.FlowNotFound):
        service.resume_flow("not-a-uuid", basic_ok(), position=0)
    flow = service.start_flow(app, request())
    with pytest.raises(service.WrongAnswer, match="waits for step 1"):
        service.resume_flow(flow.id, basic_ok(step=2, authenticator="totp"), position=0)
    with pytest.raises(service.WrongAnswer, match="does not offer totp"):
        service.resume_flow(flow.id, basic_ok(authenticator="totp"), position=0)
    with pytest.raises(service.StaleAnswer):
        service.resume_flow(flow.id, basic_ok(), position=5)
    flow = service.resume_flow(flow.id, basic_ok(), position=0)
    with pytest.raises(service.WrongAnswer, match="prompt 'consent'"):
        service.resume_flow(flow.id, prompt_answer("other"), position=1)
    flow = service.resume_flow(flow.id, prompt_answer("consent"), position=1)
    assert flow.status == LoginFlow.Status.SUCCEEDED
    with pytest.raises(service.FlowFinished):
        service.resume_flow(flow.id, prompt_answer("consent"), position=2)


@pytest.mark.django_db
def test_an_expired_flow_cannot_be_resumed():
    app = make_app(None)
    flow = service.start_flow(app, request())
    LoginFlow.objects.filter(pk=flow.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(service.FlowExpired):
        service.resume_flow(flow.id, basic_ok(), position=0)


@pytest.mark.django_db
def test_a_script_error_ends_the_flow_and_is_logged_with_the_flow_id(caplog):
    app = make_app("var onLoginRequest = function(context) {\n  executeStep(1, {onSuccess: function(c) {\n    c.nope.x = 1;\n  }});\n};")
    make_user()
    flow = service.start_flow(app, request())
    with caplog.at_level(logging.INFO):
        flow = service.resume_flow(flow.id, basic_ok(), position=0)
    assert flow.status == LoginFlow.Status.ERROR
    assert flow.result["line"] == 3 and "Cannot set properties of undefined" in flow.result["message"]
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert errors and errors[0].flow_id == str(flow.id) and errors[0].line == 3


@pytest.mark.django_db
def test_script_logs_are_logged_once_with_the_flow_id(caplog):
    app = make_app("var onLoginRequest = function(c) { Log.info('hello'); executeStep(1); executeStep(2); };")
    make_user()
    with caplog.at_level(logging.INFO, logger="authflow.script"):
        flow = service.start_flow(app, request())
        service.resume_flow(flow.id, basic_ok(), position=0)
    lines = [r for r in caplog.records if r.name == "authflow.script"]
    assert [r.getMessage() for r in lines] == ["hello"]
    assert lines[0].flow_id == str(flow.id)


@pytest.mark.django_db
def test_a_script_that_runs_too_long_ends_the_flow_with_an_error(settings):
    settings.SEQUENCES = dict(settings.SEQUENCES, RUN_TIMEOUT_MS=100)
    app = make_app("var onLoginRequest = function(c) {\n  executeStep(1, {onSuccess: function() { for (;;) {} }});\n};")
    make_user()
    flow = service.start_flow(app, request())
    flow = service.resume_flow(flow.id, basic_ok(), position=0)
    assert flow.status == LoginFlow.Status.ERROR
    assert flow.result["kind"] == "timeout" and "longer than 100 ms" in flow.result["message"]
    # the next login on this worker runs normally
    again = service.start_flow(app, request())
    assert again.status == LoginFlow.Status.RUNNING and again.pending["step"] == 1


@pytest.mark.django_db
def test_a_saved_version_cannot_be_edited():
    from sequences.models import ImmutableVersionError

    version, _ = save_version("portal", "var onLoginRequest = function(c) { executeStep(1); };")
    version.source = "var onLoginRequest = function(c) { fail(); };"
    with pytest.raises(ImmutableVersionError):
        version.save()
    version.refresh_from_db()
    assert "executeStep(1)" in version.source


@pytest.mark.django_db
def test_a_federated_identity_is_linked_in_the_directory_and_found_by_the_next_flow(caplog):
    from authflow.directory.models import FederatedAssociation
    from tests.test_engine_api import ASSOCIATE

    app = make_app(ASSOCIATE, steps={1: ["BasicAuthenticator"],
                                     3: [{"idp": "google", "authenticator": "OpenIDConnectAuthenticator"}]})
    make_user()
    federated = step_answer(3, "success", user="g-1234", authenticator="OpenIDConnectAuthenticator", idp="google")
    flow = service.start_flow(app, request())
    flow = service.resume_flow(flow.id, federated, position=0)
    assert flow.pending["step"] == 1
    flow = service.resume_flow(flow.id, basic_ok(1), position=1)
    link = FederatedAssociation.objects.get()
    assert (link.idp, link.subject, link.user.username) == ("google", "g-1234", "alice")
    with caplog.at_level(logging.INFO, logger="authflow.script"):
        second = service.start_flow(app, request())
        service.resume_flow(second.id, federated, position=0)
    assert "known: alice true" in [r.getMessage() for r in caplog.records if r.name == "authflow.script"]


# Every secret comes from the request (a cookie) or the user (a PIN): none is in the script's text.
SECRETS_SCRIPT = """var onLoginRequest = function(context) {
    executeStep(1, {onSuccess: function (context) {
        var user = context.currentKnownSubject;
        var remembered = getCookieValue(context.request, 'device', {decrypt: true}) + context.request.cookies.tracker;
        prompt('genericForm', {inputs: [{id: 'pin', label: 'PIN', type: 'password'}]}, {onSuccess: function (c) {
            var pin = c.request.params.pin[0];
            setCookie(c.response, 'device', remembered + '/' + pin, {'max-age': 60});
            setCookie(c.response, 'signed', 'S' + pin, {sign: true});
            updateUserPassword(user, pin + '-and-a-long-passphrase');
        }});
    }});
};"""


def database_text() -> str:
    """Every row of every table, as the database returns it."""
    from django.apps import apps

    rows = []
    with connection.cursor() as cursor:
        for model in apps.get_models():
            cursor.execute(f'SELECT * FROM "{model._meta.db_table}"')
            rows.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(rows)


@pytest.mark.django_db
def test_secrets_a_flow_keeps_are_never_in_clear_in_the_database_and_cookies_open_once_for_delivery():
    from authflow import cookies

    app = make_app(SECRETS_SCRIPT, steps={1: ["BasicAuthenticator"]})
    make_user()
    sent = cookies.encode("device", "remembered-device-value", encrypt=True)
    flow = service.start_flow(app, request_inputs("203.0.113.9", {}, {}, {"device": sent,
                                                                        "tracker": "plain-tracker-771"}))
    flow = service.resume_flow(flow.id, basic_ok(), position=0)
    flow = service.resume_flow(flow.id, prompt_answer("genericForm", "success", {"pin": ["pin-4321"]}, secret=["pin"]),
                               position=flow.pending["position"])
    assert flow.status == LoginFlow.Status.SUCCEEDED  # the script read the cookie and the PIN
    stored = database_text()
    signed = cookies.encode("signed", "Spin-4321", sign=True)
    for secret in ("remembered-device-value", "plain-tracker-771", sent, "pin-4321", signed, signed.split(".")[1]):
        assert secret not in stored, secret
    record = next(r for r in EffectRecord.objects.filter(name="setCookie") if r.args[0] == "device")
    assert set(record.args[1]) == {"sealed"} and record.args[2] == {"maxAge": 60}  # only the value is sealed
    # Delivery opens them, once.
    outbox = service.claim_outbox(service.for_response(flow.id))
    assert [(c["name"], c["value"], c.get("max_age")) for c in outbox] == [
        ("device", "remembered-device-valueplain-tracker-771/pin-4321", 60), ("signed", signed, None)]
    assert service.claim_outbox(service.for_response(flow.id)) == []
    assert LoginFlow.objects.get().outbox == []


@pytest.mark.django_db
def test_a_flow_an_earlier_engine_started_ends_with_a_clear_error_instead_of_replaying():
    app = make_app(SECRETS_SCRIPT, steps={1: ["BasicAuthenticator"]})
    make_user()
    flow = service.start_flow(app, request())
    state = dict(LoginFlow.objects.get().state)
    state.pop("format"), state.pop("runtime")  # as the engine before stamps wrote it
    LoginFlow.objects.filter(pk=flow.pk).update(state=state)
    with pytest.raises(service.FlowExpired, match="started before the server was updated"):
        service.resume_flow(flow.id, basic_ok(), position=0)
    assert not EffectRecord.objects.exists()


@pytest.mark.django_db
def test_an_outbox_cookie_whose_key_is_gone_is_not_sent(settings, caplog):
    import base64

    app = make_app(SECRETS_SCRIPT, steps={1: ["BasicAuthenticator"]})
    make_user()
    flow = service.start_flow(app, request())
    flow = service.resume_flow(flow.id, basic_ok(), position=0)
    flow = service.resume_flow(flow.id, prompt_answer("genericForm", "success", {"pin": ["1"]}, secret=["pin"]),
                               position=flow.pending["position"])
    settings.AUTHFLOW_ENCRYPTION_KEYS = base64.urlsafe_b64encode(os.urandom(32)).decode()
    with caplog.at_level(logging.WARNING, logger="authflow.flows"):
        assert service.claim_outbox(service.for_response(flow.id)) == []
    assert "does not decrypt" in caplog.text and LoginFlow.objects.get().outbox == []


@pytest.mark.django_db
def test_cookies_stored_in_clear_before_are_sealed_by_the_migration():
    import importlib

    from django.apps import apps

    migration = importlib.import_module("authflow.flows.migrations.0005_seal_cookies_at_rest")
    app = make_app(None, steps={1: ["BasicAuthenticator"]})
    flow = service.start_flow(app, request())
    cookie = {"name": "device", "value": "clear-value", "path": "/", "domain": None, "httponly": False,
              "secure": False, "samesite": "Lax"}
    LoginFlow.objects.filter(pk=flow.pk).update(outbox=[cookie])
    EffectRecord.objects.create(flow=flow, index=0, name="setCookie", args=["device", "clear-value", {}], result=True)
    migration.seal(apps, None)
    assert "clear-value" not in database_text()
    assert service.claim_outbox(service.for_response(flow.id)) == [cookie]
    migration.seal(apps, None)  # sealed values are left as they are
    assert EffectRecord.objects.get().args[1]["sealed"]
