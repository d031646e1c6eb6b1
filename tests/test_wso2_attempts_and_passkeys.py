"""Templates of the reference that depend on the server keeping state: the login-attempts step-up
(identity/failedLoginAttemptsBeforeSuccess) and passkey progressive enrollment, through real logins."""
import io
import re
import textwrap
from pathlib import Path

import pytest
from django.core.management import call_command

from authflow.celery import app
from authflow.directory.models import User
from tests.support.config import public_app
from tests.test_email_otp import begin, password

pytestmark = pytest.mark.django_db(transaction=True)

SCRIPTS = Path(__file__).parent / "scripts" / "wso2"
BEFORE_SUCCESS = "http://wso2.org/claims/identity/failedLoginAttemptsBeforeSuccess"
APPS = [
    ("attempts", "{1: [BasicAuthenticator], 2: [sms-otp-authenticator]}",
     (SCRIPTS / "attempts_step_up.js").read_text()),
]
USERS = textwrap.dedent("""
    users:
      - {username: alice, password: "alice-password-123", email: alice@example.com,
         claims: {"http://wso2.org/claims/mobile": "+15550104567"}}
""")


@pytest.fixture
def site(live_server, tmp_path, monkeypatch, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *settings.PASSWORD_HASHERS]
    path = tmp_path / "config.yaml"
    path.write_text("applications:\n" + "".join(public_app(*a) for a in APPS) + USERS)
    call_command("apply", "-f", str(path), stdout=io.StringIO())
    monkeypatch.setattr(app.conf, "task_always_eager", True)
    settings.AUTHFLOW_SMS_SENDER = "console"
    return live_server.url


def alice():
    return User.objects.get(username="alice")


def texted_code(capsys):
    return re.findall(r"SMS to \S+ from authflow: (\d{6}) is your sign-in code", capsys.readouterr().out)[-1]


def test_three_wrong_passwords_before_the_right_one_step_up_and_the_count_is_reset_after(site, capsys):
    browser = begin(site, "attempts")
    for _ in range(3):
        page = password(browser, secret="not-the-password")
        assert "Check your phone" not in page.text and page.callback is None
    page = password(browser)
    assert "Check your phone" in page.text  # stepped up
    user = alice()
    assert user.failed_login_attempts == 0 and user.failed_login_attempts_before_success == 3
    done = browser.submit({"code": texted_code(capsys)})
    assert done.callback and "code=" in done.callback
    assert alice().failed_login_attempts_before_success == 0  # the template set it back once the step-up passed
    # the next login with the right password at once: no step-up
    browser = begin(site, "attempts")
    assert password(browser).callback


def test_fewer_wrong_passwords_sign_in_without_the_second_step(site, capsys):
    browser = begin(site, "attempts")
    for _ in range(2):
        password(browser, secret="not-the-password")
    done = password(browser)
    assert done.callback and "code=" in done.callback
    assert alice().failed_login_attempts_before_success == 2
    assert "SMS to" not in capsys.readouterr().out


def test_failures_in_earlier_logins_count_and_a_clean_success_keeps_the_value(site, capsys):
    for _ in range(3):  # three logins abandoned after a wrong password each
        password(begin(site, "attempts"), secret="not-the-password")
    assert alice().failed_login_attempts == 3
    page = password(begin(site, "attempts"))
    assert "Check your phone" in page.text
    User.objects.filter(username="alice").update(failed_login_attempts_before_success=4)
    done = password(begin(site, "attempts"))  # no failures before this success: the value is kept
    assert "Check your phone" in done.text and alice().failed_login_attempts_before_success == 4
