"""The email OTP authenticator over HTTP: codes sent through the real worker and SMTP server, and bad codes."""
import io
import json
import secrets
import textwrap
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from joserfc import jwt
from joserfc.jwk import KeySet

from authflow.directory.models import User
from authflow.flows.models import LoginFlow
from authflow.mail import codes
from authflow.mail.models import EmailTemplate, OneTimeCode
from authflow.mail.service import send_template
from tests.support.browser import Browser
from tests.support.config import CALLBACK, public_app
from tests.support.servers import ServerProcess, server_env, signing_key
from tests.support.worker import mail_worker, mailer  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db(transaction=True)

TWO_STEPS = "var onLoginRequest = function (context) { executeStep(1); executeStep(2); };"
APPS = [
    ("otp", "{1: [BasicAuthenticator], 2: [email-otp]}", TWO_STEPS),
    ("retry", "{1: [BasicAuthenticator], 2: [email-otp]}", """
        var onLoginRequest = function (context) {
            executeStep(1);
            executeStep(2, {authenticatorParams: {local: {'email-otp': {enableRetryFromAuthenticator: 'true'}}}}, {});
        };"""),
    ("strict", "{1: [BasicAuthenticator], 2: [email-otp]}", """
        var onLoginRequest = function (context) {
            executeStep(1);
            executeStep(2, {onFail: function (context) {
                fail({errorCode: 'access_denied', errorMessage: 'The email code was not accepted.'});
            }});
        };"""),
    ("twice", "{1: [BasicAuthenticator], 2: [email-otp], 3: [email-otp]}", """
        var onLoginRequest = function (context) { executeStep(1); executeStep(2); executeStep(3); };"""),
    ("first", "{1: [IdentifierExecutor], 2: [email-otp]}", TWO_STEPS),
    ("alone", "{1: [email-otp]}", "var onLoginRequest = function (context) { executeStep(1); };"),
]
USERS = textwrap.dedent("""
    users:
      - {username: alice, password: "alice-password-123", email: alice@example.com}
      - {username: bob, password: "bob-password-123"}
      - {username: postmaster, password: "postmaster-password-123", email: postmaster@example.com}
""")
WRONG = "The code is not correct."


@pytest.fixture
def site(live_server, mailer, tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("applications:\n" + "".join(public_app(*app) for app in APPS) + USERS)
    call_command("apply", "-f", str(path), stdout=io.StringIO())
    EmailTemplate.objects.get_or_create(template_id="marker", defaults={"subject": "marker", "text_body": "marker"})
    return live_server.url, mailer


def begin(base, client_id):
    """A browser at the first page of a login to `client_id`, and what redeeming its code needs."""
    browser = Browser(base, stop_at=CALLBACK)
    client = OAuth2Session(client_id, None, scope="openid", redirect_uri=CALLBACK, code_challenge_method="S256",
                           token_endpoint=base + "/o/token/")
    verifier = secrets.token_urlsafe(48)
    uri, _ = client.create_authorization_url(base + "/o/authorize/", code_verifier=verifier)
    browser.get(uri)
    browser.client, browser.verifier = client, verifier
    return browser


def password(browser, user="alice", secret=None):
    return browser.submit({"username": user, "password": secret or f"{user}-password-123"})


def nth_code(mailer, n=1, to="alice@example.com"):
    return mailer.inbox.wait_for(lambda m: m.to == [to] and "sign-in code" in m.subject, count=n).code()


def all_sent(mailer):
    """Everything queued so far has been sent: a marker queued now arrived (the worker takes the queue in order)."""
    count = len(mailer.inbox.matching(lambda m: m.subject == "marker"))
    assert send_template("postmaster", "marker")
    mailer.inbox.wait_for(lambda m: m.subject == "marker", count=count + 1)
    return [m for m in mailer.inbox.matching() if m.subject != "marker"]


def failures(username="alice"):
    return User.objects.get(username=username).failed_login_attempts


def address_failures():
    return cache.get("authflow:failed-logins:127.0.0.1", 0)


def answers(browser):
    flow = LoginFlow.objects.get(pk=urlsplit(browser.page.url).path.split("/")[3])
    return flow.state["journal"]["answers"]


def test_a_password_then_the_code_from_the_email_signs_in(site, caplog):
    base, mailer = site
    browser = begin(base, "otp")
    page = password(browser)
    assert page.status_code == 200 and "Check your email" in page.text and "a***@example.com" in page.text
    message = mailer.inbox.wait_for(lambda m: m.to == ["alice@example.com"])
    assert message.subject == "Your sign-in code for otp" and "alice" in message.text
    code = message.code()
    assert f"<strong>{code}</strong>" in message.html
    assert browser.get(page.url).status_code == 200  # a reload shows the page again, and sends nothing
    assert len(all_sent(mailer)) == 1
    stored = OneTimeCode.objects.get()
    assert code not in stored.digest and stored.used_at is None
    done = browser.submit({"code": f"{code[:3]} {code[3:]}"})  # spaces are fine
    assert done.callback and "code=" in done.callback
    assert OneTimeCode.objects.get().used_at is not None
    token = browser.client.fetch_token(authorization_response=done.callback, code_verifier=browser.verifier)
    keys = KeySet.import_key_set(requests.get(base + "/o/.well-known/jwks.json", timeout=30).json())
    assert jwt.decode(token["id_token"], keys, algorithms=["RS256"]).claims["amr"] == ["pwd", "otp", "mfa"]
    # the code went to the user only: not to the logs of this process or of the worker
    assert not [r for r in caplog.records if code in r.getMessage() or code in str(vars(r))]
    assert code not in mailer.worker.output(limit=10**7)


def test_a_wrong_code_is_a_failed_step_the_page_stays_and_the_code_sent_still_works(site):
    base, mailer = site
    browser = begin(base, "otp")
    password(browser)
    first = nth_code(mailer)
    wrong = "000000" if first != "000000" else "111111"
    page = browser.submit({"code": wrong})
    assert WRONG in page.text and "Check your email" in page.text
    assert failures() == 1 and address_failures() == 1
    assert [a.get("r") for a in answers(browser)] == ["success", "fail"]  # the script was told
    assert browser.get(page.url).status_code == 200  # a reload too
    assert len(all_sent(mailer)) == 1  # no new code while the error is on the page
    done = browser.submit({"code": first})
    assert done.callback and "code=" in done.callback
    assert failures() == 0  # a success resets the account's count


def test_wrong_codes_in_failed_steps_void_the_code_and_the_page_says_to_send_a_new_one(site):
    base, mailer = site
    browser = begin(base, "otp")
    password(browser)
    first = nth_code(mailer)
    wrong = "000000" if first != "000000" else "111111"
    for _ in range(codes.MAX_ATTEMPTS):
        page = browser.submit({"code": wrong})
    assert "no longer works" in page.text and "Send a new code" in page.text
    page = browser.submit({"code": first})  # the right code, too late
    assert "no longer works" in page.text and page.callback is None
    assert len(all_sent(mailer)) == 1
    page = browser.submit({"action": "resend"})
    assert "We sent you a new code." in page.text
    done = browser.submit({"code": nth_code(mailer, 2)})
    assert done.callback and "code=" in done.callback


def test_on_fail_decides_when_the_code_is_wrong(site):
    base, mailer = site
    browser = begin(base, "strict")
    password(browser)
    nth_code(mailer)
    done = browser.submit({"code": "12345"})  # not even six digits: wrong all the same
    query = parse_qs(urlsplit(done.callback).query)
    assert query["error"] == ["access_denied"] and query["error_description"] == ["The email code was not accepted."]
    assert failures() == 1


def test_with_retry_from_the_authenticator_a_wrong_code_stays_on_the_page_until_the_code_is_void(site, monkeypatch):
    base, mailer = site
    browser = begin(base, "retry")
    password(browser)
    code = nth_code(mailer)
    wrong = "000000" if code != "000000" else "111111"
    before = answers(browser)
    for attempt in range(1, codes.MAX_ATTEMPTS):
        page = browser.submit({"code": wrong})
        assert WRONG in page.text and failures() == attempt and address_failures() == attempt
    assert answers(browser) == before  # the script was not told
    page = browser.submit({"code": wrong})
    assert "no longer works" in page.text
    page = browser.submit({"code": code})  # the right code, too late
    assert "no longer works" in page.text and page.callback is None
    assert failures() == codes.MAX_ATTEMPTS + 1
    assert len(all_sent(mailer)) == 1  # wrong codes sent nothing new
    page = browser.submit({"action": "resend"})
    assert "Wait" in page.text and "before asking for another email" in page.text  # rate-limited
    monkeypatch.setattr(codes, "RESEND_COOLDOWN_SECONDS", 0)
    page = browser.submit({"action": "resend"})
    assert "We sent you a new code." in page.text
    done = browser.submit({"code": nth_code(mailer, 2)})
    assert done.callback and "code=" in done.callback


def test_over_the_email_allowance_a_resend_sends_nothing_and_keeps_the_code_the_user_has(site, settings,
                                                                                          monkeypatch):
    base, mailer = site
    browser = begin(base, "retry")
    password(browser)
    code = nth_code(mailer)
    settings.AUTHFLOW_MAIL_MAX_PER_USER = 1  # the code just sent used the account's allowance up
    monkeypatch.setattr(codes, "RESEND_COOLDOWN_SECONDS", 0)
    browser.submit({"action": "resend"})
    assert len(all_sent(mailer)) == 1  # nothing more was sent...
    done = browser.submit({"code": code})  # ...and the code the user has still works
    assert done.callback and "code=" in done.callback


def test_an_expired_code_is_refused_and_counted(site):
    base, mailer = site
    browser = begin(base, "retry")
    password(browser)
    code = nth_code(mailer)
    OneTimeCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    page = browser.submit({"code": code})
    assert "This code has expired. Send a new code." in page.text and page.callback is None
    assert failures() == 1 and address_failures() == 1


def test_a_used_code_is_refused_at_the_next_step(site):
    base, mailer = site
    browser = begin(base, "twice")
    password(browser)
    first = nth_code(mailer)
    page = browser.submit({"code": first})
    assert "Check your email" in page.text  # step 3: another code
    second = nth_code(mailer, 2)
    page = browser.submit({"code": first})
    assert "This code was already used." in page.text and failures() == 1
    assert browser.submit({"code": second}).callback  # the step's next attempt takes the code sent for it


def test_after_an_identifier_only_the_page_tells_nothing_about_the_account(site):
    base, mailer = site
    pages = {}
    for name in ("alice", "ghost"):
        browser = begin(base, "first")
        page = browser.submit({"username": name})
        assert "Check your email" in page.text and "***" not in page.text
        pages[name] = page.text.split('id="sent-to">')[1].split("</p>")[0]
        if name == "ghost":
            page = browser.submit({"code": "123456"})
            assert WRONG in page.text
    assert pages["alice"] == pages["ghost"]
    assert [m.to for m in all_sent(mailer)] == [["alice@example.com"]]  # the code went to alice only
    assert address_failures() == 1


def test_a_user_without_an_email_address_is_not_set_up_and_the_script_decides(site):
    base, mailer = site
    browser = begin(base, "strict")
    page = password(browser, "bob")
    assert "Email OTP is not set up" in page.text
    done = browser.submit({"action": "not_enrolled"})
    assert parse_qs(urlsplit(done.callback).query)["error_description"] == ["The email code was not accepted."]
    assert all_sent(mailer) == []


def test_without_an_earlier_step_the_page_says_the_sign_in_is_set_up_wrongly(site):
    base, mailer = site
    browser = begin(base, "alone")
    assert "set up wrongly" in browser.page.text
    page = browser.submit({"code": "123456"})
    assert page.text.count("set up wrongly") == 1 and page.callback is None
    assert all_sent(mailer) == [] and address_failures() == 0


def test_the_embedded_default_sends_inline_without_a_broker_or_worker(site, tmp_path):
    """A server with no broker configured (as `make run`): the email is sent inside the request."""
    _, mailer = site
    env = server_env(connection.settings_dict, signing_key(), AUTHFLOW_EMAIL_HOST="127.0.0.1",
                     AUTHFLOW_EMAIL_PORT=str(mailer.smtp.port),
                     AUTHFLOW_EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend")
    for name in ("CELERY_BROKER_URL", "AUTHFLOW_CACHE_URL"):
        env.pop(name, None)
    server = ServerProcess("embedded", env, tmp_path).start()
    try:
        browser = begin(server.url, "otp")
        page = password(browser)
        assert "Check your email" in page.text
        # delivered before the page came back: no worker is involved (it consumes another queue)
        sent = mailer.inbox.matching(lambda m: m.to == ["alice@example.com"])
        assert len(sent) == 1, server.output()
        assert browser.submit({"code": sent[0].code()}).callback
        assert requests.get(server.url + "/no-such-page/", timeout=30).status_code == 404  # a request line logged
        deadline = time.monotonic() + 15  # written by the handler thread after the response went out
        while '"logger": "django.server"' not in server.output(limit=10**7) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        server.stop()
    # what the operator reads: no warning about a broker there is no need for, no socket objects, no sealed
    # task arguments
    lines = [json.loads(line) for line in server.output(limit=10**7).splitlines() if line.startswith("{")]
    assert not [line for line in lines if "No hostname was supplied" in line["message"]]
    assert [line for line in lines if line["logger"] == "django.server"]
    assert not [line for line in lines if "socket" in json.dumps(line) or "server_time" in line]
    tasks = [line for line in lines if line["logger"] == "celery.app.trace"]
    assert tasks and not [line for line in tasks if "args" in line.get("data", {}) or "kwargs" in line.get("data", {})]
