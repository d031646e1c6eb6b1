"""Email: templates with placeholders, sending through a real Celery worker and SMTP, and sendEmail in scripts."""
import base64
import importlib
import io
import json
import secrets
import textwrap

import pytest
import redis
from authlib.integrations.requests_client import OAuth2Session
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import transaction

from authflow.directory.models import User
from authflow.flows.models import EffectRecord, LoginFlow
from authflow.mail.models import EmailTemplate
from authflow.mail.service import send_template
from tests.support.browser import Browser
from tests.support.config import CALLBACK, public_app
from tests.support.console import sign_in_to_console
from tests.support.scripts import events, logs, ok, run
from tests.support.worker import broker_url, mail_worker, mailer

pytestmark = pytest.mark.django_db(transaction=True)


def make_template(**fields):
    defaults = {"template_id": "welcome", "subject": "Hello {{ name }}", "text_body": "Hi {{ name }}!",
                "html_body": "<p>Hi {{ name }}!</p>"}
    template = EmailTemplate(**{**defaults, **fields})
    template.full_clean()
    template.save()
    return template


def alice(email="alice@example.com"):
    return User.objects.create_user("alice", email=email, password="alice-password-123", first_name="Alice")


def send_marker(user, text):
    """An email sent after the ones under test: the worker takes the queue in order, so once it arrived they did."""
    make_template(template_id="marker", subject="marker {{ text }}", text_body="{{ text }}", html_body="")
    assert send_template(user, "marker", {"text": text})


def begin(base, client_id):
    """A browser at the first page of a login to `client_id` (an authorization request with PKCE)."""
    browser = Browser(base, stop_at=CALLBACK)
    client = OAuth2Session(client_id, None, scope="openid", redirect_uri=CALLBACK, code_challenge_method="S256")
    uri, _ = client.create_authorization_url(base + "/o/authorize/", code_verifier=secrets.token_urlsafe(48))
    browser.get(uri)
    return browser


# ------------------------------------------------------------------ templates

def test_placeholders_are_replaced_and_escaped_in_html_never_run_as_template_code():
    template = EmailTemplate(template_id="t", subject="Hi {{ name }}", text_body="{{name}} {{ missing }}{% now 'Y' %}",
                             html_body="<p>{{ name }}</p>")
    subject, text, html, missing = template.render({"name": "<b>Ann</b>\r\nBcc: x@evil.example"})
    assert subject == "Hi <b>Ann</b> Bcc: x@evil.example"  # one line: no header injection
    assert text == "<b>Ann</b>\r\nBcc: x@evil.example {% now 'Y' %}"  # template code stays text
    assert html == "<p>&lt;b&gt;Ann&lt;/b&gt;\r\nBcc: x@evil.example</p>"
    assert missing == {"missing"}


def test_templates_are_validated_and_list_their_placeholders():
    with pytest.raises(ValidationError) as refused:
        EmailTemplate(template_id="t", subject="Hi", text_body="{{ first name }} {% if x %}").full_clean()
    assert "{{ first name }}" in str(refused.value) and "{% if x %}" in str(refused.value)
    with pytest.raises(ValidationError, match="must contain"):
        EmailTemplate(template_id="email-otp", subject="Your code", text_body="No code here").full_clean()
    template = make_template(text_body="{{ b }} {{a}} {{ a }}", subject="{{ c }}", html_body="")
    assert template.placeholder_names == ["a", "b", "c"]


def test_the_default_templates_are_valid():
    from django.apps import apps

    migration = importlib.import_module("authflow.mail.migrations.0002_default_templates")
    migration.create(apps, None)  # what the migration did (the flush between tests removed it)
    ids = set(EmailTemplate.objects.values_list("template_id", flat=True))
    assert {"email-otp", "magic-link", "new-sign-in"} <= ids
    for template in EmailTemplate.objects.all():
        template.full_clean()  # each satisfies its own rules


def test_the_admin_lists_templates_with_their_placeholders_and_keeps_the_built_in_ones(client):
    make_template()
    admin = User.objects.create_superuser("root", "root@example.com", "root-password-123")
    sign_in_to_console(client, admin)
    page = client.get("/admin/mail/emailtemplate/")
    assert page.status_code == 200 and "welcome" in page.content.decode() and "{{ name }}" in page.content.decode()
    built_in = make_template(template_id="email-otp", subject="Code", text_body="{{ code }}", html_body="")
    assert client.get(f"/admin/mail/emailtemplate/{built_in.pk}/delete/").status_code == 403
    change = client.post(f"/admin/mail/emailtemplate/{built_in.pk}/change/", {
        "description": "", "subject": "Code", "text_body": "lost the placeholder", "html_body": ""})
    assert change.status_code == 200 and "must contain" in change.content.decode()
    assert EmailTemplate.objects.get(pk=built_in.pk).text_body == "{{ code }}"


# ------------------------------------------------------------------ sending

def test_an_email_is_sent_by_the_worker_through_smtp(mailer):
    user = alice()
    make_template()
    assert send_template(user, "welcome", {"name": "Ann & <Bob>"}) is True
    message = mailer.inbox.wait_for(lambda m: m.to == ["alice@example.com"])
    assert message.subject == "Hello Ann & <Bob>" and message.text.strip() == "Hi Ann & <Bob>!"
    assert "<p>Hi Ann &amp; &lt;Bob&gt;!</p>" in message.html
    assert message.mail_from == "no-reply@localhost"  # DEFAULT_FROM_EMAIL
    mailer.worker.wait_for_output("email sent")  # the worker process sent it, not this one


def test_an_email_is_queued_only_when_the_transaction_commits(mailer, settings):
    user = alice()
    make_template()
    settings.AUTHFLOW_MAIL_QUEUE = queue = "authflow-test-unconsumed"  # no worker takes it: it stays countable
    connection = redis.Redis.from_url(broker_url())
    connection.delete(queue)
    try:
        with transaction.atomic():
            assert send_template(user, "welcome", {"name": "later"}) is True
            assert connection.llen(queue) == 0
        assert connection.llen(queue) == 1
    finally:
        connection.delete(queue)


def test_a_rolled_back_transaction_sends_nothing(mailer):
    user = alice()
    make_template()

    class Rollback(Exception):
        pass

    with pytest.raises(Rollback), transaction.atomic():
        assert send_template(user, "welcome", {"name": "rolled back"})
        raise Rollback
    send_marker(user, "after the rollback")
    mailer.inbox.wait_for(lambda m: m.subject == "marker after the rollback")
    assert [m.subject for m in mailer.inbox.matching()] == ["marker after the rollback"]


def test_unknown_templates_and_users_without_an_address_send_nothing(mailer):
    user = alice()
    make_template()
    nobody = User.objects.create_user("nobody", password="nobody-password-123")
    assert send_template(user, "no-such-template", {}) is False
    assert send_template(nobody, "welcome", {"name": "x"}) is False
    assert send_template("ghost", "welcome", {"name": "x"}) is False
    send_marker(user, "done")
    mailer.inbox.wait_for(lambda m: m.subject == "marker done")
    assert len(mailer.inbox.matching()) == 1


def test_one_account_gets_at_most_the_allowance_of_emails_in_a_window(mailer, settings):
    settings.AUTHFLOW_MAIL_MAX_PER_USER = 3
    user, bob = alice(), User.objects.create_user("bob", email="bob@example.com", password="bob-password-123")
    make_template()
    sent = [send_template(user, "welcome", {"name": f"n{i}"}) for i in range(5)]
    assert sent == [True, True, True, False, False]
    assert send_template(bob, "welcome", {"name": "bob"}) is True  # another account has its own allowance
    mailer.inbox.wait_for(lambda m: m.to == ["bob@example.com"])
    assert sorted(m.subject for m in mailer.inbox.matching() if m.to == ["alice@example.com"]) == [
        "Hello n0", "Hello n1", "Hello n2"]


def test_the_worker_retries_a_temporary_smtp_failure_and_drops_a_permanent_one(mailer):
    user = alice()
    make_template()
    refusals = {"Hello retry": ["451 4.3.0 try again later"], "Hello never": ["550 5.1.1 no such mailbox"] * 3}

    def refuse(to, message):
        queue = refusals.get(str(message["Subject"]))
        return queue.pop(0) if queue else None

    mailer.inbox.refuse = refuse
    assert send_template(user, "welcome", {"name": "retry"})
    assert send_template(user, "welcome", {"name": "never"})
    arrived = mailer.inbox.wait_for(lambda m: m.subject == "Hello retry")
    assert arrived.text.strip() == "Hi retry!"
    mailer.worker.wait_for_output("the mail server refused it")
    tries = [reply for _, reply in mailer.inbox.attempts]
    assert tries.count("451 4.3.0 try again later") == 1
    assert refusals["Hello never"] == ["550 5.1.1 no such mailbox"] * 2  # tried once, not retried
    assert not mailer.inbox.matching(lambda m: m.subject == "Hello never")


def test_the_message_crosses_the_broker_encrypted(mailer, settings):
    """Codes and links never sit in Redis in clear, even while a task waits for a worker."""
    user = alice()
    make_template()
    settings.AUTHFLOW_MAIL_QUEUE = "authflow-test-unconsumed"  # no worker: the task stays in Redis
    connection = redis.Redis.from_url(broker_url())
    connection.delete("authflow-test-unconsumed")
    try:
        assert send_template(user, "welcome", {"name": "SECRET-739120"})
        waiting = connection.lrange("authflow-test-unconsumed", 0, -1)
        assert len(waiting) == 1
        body = base64.b64decode(json.loads(waiting[0])["body"])
        assert b"authflow.mail.send_message" in waiting[0] and b'"v1:' in body
        assert b"SECRET-739120" not in body and b"alice@example.com" not in body
    finally:
        connection.delete("authflow-test-unconsumed")


# ------------------------------------------------------------------ sendEmail in scripts

NOTICE_SCRIPT = """
    var onLoginRequest = function (context) {
        executeStep(1, {onSuccess: function (context) {
            var user = context.currentKnownSubject;
            var sent = sendEmail(user, 'notice', {app: context.serviceProviderName, ip: context.request.ip});
            Log.info('sent: ' + sent + ', unknown template: ' + sendEmail(user, 'nope', {}));
            prompt('genericForm', {title: 'One more thing', inputs: [{id: 'nickname', label: 'Nickname'}]}, {});
        }});
    };
"""


def test_send_email_from_a_script_sends_once_although_the_script_is_replayed(mailer, live_server, tmp_path):
    make_template(template_id="notice", subject="New sign-in to {{ app }}", text_body="From {{ ip }}, {{ username }}.",
                  html_body="")
    config = tmp_path / "config.yaml"
    config.write_text("applications:\n" + public_app("portal", "{1: [BasicAuthenticator]}", NOTICE_SCRIPT) +
                      textwrap.dedent("""
                          users:
                            - {username: alice, password: "alice-password-123", email: alice@example.com}
                      """))
    call_command("apply", "-f", str(config), stdout=io.StringIO())
    browser = begin(live_server.url, "portal")
    prompt = browser.submit({"username": "alice", "password": "alice-password-123"})
    assert "One more thing" in prompt.text
    done = browser.submit({"nickname": "Al", "action": "success"})  # a replay of the script, past sendEmail
    assert done.callback and "code=" in done.callback
    message = mailer.inbox.wait_for(lambda m: m.subject == "New sign-in to portal")
    assert message.text.strip() == "From 127.0.0.1, alice."
    flow = LoginFlow.objects.get()
    assert [(e.name, e.result) for e in EffectRecord.objects.filter(flow=flow)] == [("sendEmail", True),
                                                                                     ("sendEmail", False)]
    send_marker(User.objects.get(username="alice"), "end")
    mailer.inbox.wait_for(lambda m: m.subject == "marker end")
    assert len(mailer.inbox.matching(lambda m: m.subject == "New sign-in to portal")) == 1


def test_send_email_in_the_simulator_is_an_effect_event():
    script = """
        var onLoginRequest = function (context) {
            executeStep(1, {onSuccess: function (context) {
                Log.info('queued: ' + sendEmail(context.currentKnownSubject, 'notice', {n: 1, who: {a: 'b'}, skip: null}));
            }});
        };"""
    sent = run(script, [ok(1, "alice")])
    assert events(sent, "effect") == [{"type": "effect", "name": "sendEmail",
                                       "args": ["alice", "notice", {"n": "1", "who": '{"a":"b"}'}], "result": True}]
    assert logs(sent) == ["queued: true"]
    no_address = run(script, [ok(1, "bob")])
    assert events(no_address, "effect")[0]["result"] is False and logs(no_address) == ["queued: false"]
    bad = run("var onLoginRequest = function (c) { executeStep(1, {onSuccess: function (c) {"
              " sendEmail('alice', 'notice', {}); }}); };", [ok(1, "alice")])
    assert bad["status"] == "error" and "sendEmail: user must be a user object" in events(bad, "error")[0]["message"]


def test_inline_sending_that_fails_is_logged_and_does_not_break_the_caller(settings, caplog):
    """The embedded default sends in the request: a mail server that is down costs the email, not the page."""
    from authflow.celery import app
    from tests.support.servers import free_port

    user = alice()
    make_template()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nothing listens there
    app.conf.task_always_eager = True
    try:
        assert send_template(user, "welcome", {"name": "x"}) is True
    finally:
        app.conf.task_always_eager = False
    failed = [r for r in caplog.records if r.getMessage() == "email could not be queued or sent"]
    assert len(failed) == 1 and failed[0].template_id == "welcome" and failed[0].user == "alice"
