"""Limits a script passes an OTP step (maximumAllowedFailureAttempts, maximumAllowedResendAttempts,
terminateOnResendLimitExceeded), through real logins on the server, and their counting under concurrency."""
import io
import textwrap
import threading
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.core.management import call_command
from django.db import connections

from authflow.authenticators._otp import NO_MORE_CODES, TOO_MANY_TRIES
from authflow.flows.models import LoginFlow
from authflow.mail import codes, step_limits
from authflow.mail.models import CodeStepCount, EmailTemplate
from tests.support.config import public_app
from tests.support.worker import mail_worker, mailer  # noqa: F401  (fixtures)
from tests.test_email_otp import all_sent, begin, failures, nth_code, password

pytestmark = pytest.mark.django_db(transaction=True)

SCRIPTS = Path(__file__).parent / "scripts" / "wso2"
STEPS = "{1: [BasicAuthenticator], 2: [email-otp-authenticator]}"
APPS = [
    ("limits", STEPS, (SCRIPTS / "otp_limits.js").read_text()),
    ("fallback", "{1: [BasicAuthenticator], 2: [email-otp], 3: [backup-code-authenticator]}",
     (SCRIPTS / "otp_limits_fallback.js").read_text()),
    ("softresend", STEPS, """
        var onLoginRequest = function (context) {
            executeStep(1);
            executeStep(2, {authenticatorParams: {local: {'email-otp-authenticator':
                {enableRetryFromAuthenticator: true, maximumAllowedResendAttempts: '1'}}}}, {});
        };"""),
    ("noonfail", STEPS, """
        var onLoginRequest = function (context) {
            executeStep(1);
            executeStep(2, {authenticatorParams: {local: {'email-otp-authenticator':
                {enableRetryFromAuthenticator: 'true', maximumAllowedFailureAttempts: '3'}}}}, {});
        };"""),
    ("badlimit", STEPS, """
        var onLoginRequest = function (context) {
            executeStep(1);
            executeStep(2, {authenticatorParams: {common: {maximumAllowedFailureAttempts: 'three'}}}, {});
        };"""),
]
USERS = textwrap.dedent("""
    users:
      - {username: alice, password: "alice-password-123", email: alice@example.com}
      - {username: postmaster, password: "postmaster-password-123", email: postmaster@example.com}
""")


@pytest.fixture
def site(live_server, mailer, tmp_path, monkeypatch):  # noqa: F811
    path = tmp_path / "config.yaml"
    path.write_text("applications:\n" + "".join(public_app(*app) for app in APPS) + USERS)
    call_command("apply", "-f", str(path), stdout=io.StringIO())
    EmailTemplate.objects.get_or_create(template_id="marker", defaults={"subject": "marker", "text_body": "marker"})
    monkeypatch.setattr(codes, "RESEND_COOLDOWN_SECONDS", 0)
    return live_server.url, mailer


def wrong_for(code):
    return "000000" if code != "000000" else "111111"


def refusal(page):
    return parse_qs(urlsplit(page.callback).query)


def test_a_fourth_code_after_three_wrong_ones_is_refused_even_when_correct(site):
    base, mailer = site
    browser = begin(base, "limits")
    password(browser)
    code = nth_code(mailer)
    # the sender: still one code per step, however often the page is answered
    for _ in range(2):
        page = browser.submit({"code": wrong_for(code)})
        assert "The code is not correct." in page.text and page.callback is None  # asked again on the page
    page = browser.submit({"code": wrong_for(code)})  # the third wrong code reaches the limit: onFail runs
    assert refusal(page)["error_description"] == ["Too many tries with the email code."]
    assert CodeStepCount.objects.get().tries == 3 and CodeStepCount.objects.get().ended_at is not None
    assert failures() == 3


def test_without_on_fail_the_step_stays_refused_and_a_correct_code_no_longer_signs_in(site):
    base, mailer = site
    browser = begin(base, "noonfail")
    password(browser)
    code = nth_code(mailer)
    for _ in range(3):
        page = browser.submit({"code": wrong_for(code)})
    assert TOO_MANY_TRIES in page.text and page.callback is None  # the step shown again, with why
    page = browser.submit({"code": code})  # the fourth code, correct: refused all the same
    assert TOO_MANY_TRIES in page.text and page.callback is None
    page = browser.submit({"action": "resend"})  # nor can a new code be asked for
    assert TOO_MANY_TRIES in page.text and len(all_sent(mailer)) == 1
    assert CodeStepCount.objects.get().tries == 3


def test_limits_under_concurrency_no_more_codes_are_checked_than_the_limit(site):
    flow = _flow_with_a_step(site)
    results = []
    barrier = threading.Barrier(8)

    def attempt():
        try:
            barrier.wait()
            results.append(step_limits.take_try(flow.pk, 2, 3))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 5 + [True] * 3
    assert CodeStepCount.objects.get(flow=flow, step=2).tries == 3


def test_concurrent_wrong_codes_over_http_check_no_more_than_the_limit(site):
    """Eight wrong codes posted at once to a step allowing three: three are checked (and counted against the
    account), the others are refused unchecked, and the step is over."""
    base, mailer = site
    browser = begin(base, "noonfail")
    password(browser)
    code = nth_code(mailer)
    fields = {k: v for k, v in browser.hidden_fields().items() if k in ("form_token", "position", "option")}
    target = browser.page.url
    barrier = threading.Barrier(8)
    statuses = []

    def post():
        session = requests.Session()
        session.cookies.update(browser.session.cookies)
        barrier.wait()
        response = session.post(target, data={**fields, "code": wrong_for(code)}, headers={"Referer": target},
                                allow_redirects=True, timeout=60)
        statuses.append(response.status_code)

    threads = [threading.Thread(target=post) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(statuses) == 8 and all(status < 500 for status in statuses)
    assert CodeStepCount.objects.get().tries == 3
    assert failures() == 3  # only the codes checked count as failed sign-ins
    browser.get(target)
    assert browser.submit({"code": code}).callback is None  # the right code, after the limit: refused


def test_a_resend_over_the_limit_ends_the_step_when_the_script_says_so(site):
    base, mailer = site
    browser = begin(base, "limits")
    password(browser)
    first = nth_code(mailer)
    page = browser.submit({"action": "resend"})
    assert "We sent you a new code." in page.text
    second = nth_code(mailer, 2)
    assert second  # the one new code allowed
    page = browser.submit({"action": "resend"})  # one too many: the step fails and onFail runs
    assert refusal(page)["error_description"] == ["Too many tries with the email code."]
    assert len(all_sent(mailer)) == 2 and first


def test_a_resend_over_the_limit_is_refused_on_the_page_and_the_last_code_still_works(site):
    base, mailer = site
    browser = begin(base, "softresend")
    password(browser)
    nth_code(mailer)
    browser.submit({"action": "resend"})
    second = nth_code(mailer, 2)
    page = browser.submit({"action": "resend"})
    assert NO_MORE_CODES in page.text and page.callback is None
    assert len(all_sent(mailer)) == 2
    done = browser.submit({"code": second})
    assert done.callback and "code=" in done.callback


def test_past_the_limit_the_script_falls_back_to_another_step(site):
    base, mailer = site
    browser = begin(base, "fallback")
    password(browser)
    code = nth_code(mailer)
    page = browser.submit({"code": wrong_for(code)})
    assert "The code is not correct." in page.text and LoginFlow.objects.get().pending["step"] == 2
    page = browser.submit({"code": wrong_for(code)})  # the limit: onFail runs step 3
    assert LoginFlow.objects.get().pending["step"] == 3 and "Backup code is not set up" in page.text
    assert CodeStepCount.objects.get(step=2).tries == 2
    page = browser.submit({"action": "resend"})  # a late form of the email step changes nothing
    assert LoginFlow.objects.get().pending["step"] == 3


def test_a_malformed_limit_is_a_clear_error_and_sends_nothing(site):
    base, mailer = site
    browser = begin(base, "badlimit")
    page = password(browser)
    assert "maximumAllowedFailureAttempts must be a whole number" in page.text
    page = browser.submit({"code": "123456"})
    assert "maximumAllowedFailureAttempts must be a whole number" in page.text and page.callback is None
    assert all_sent(mailer) == []


def _flow_with_a_step(site):
    base, mailer = site
    browser = begin(base, "limits")
    password(browser)
    nth_code(mailer)
    return LoginFlow.objects.get()
