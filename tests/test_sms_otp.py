"""The SMS OTP authenticator (sms-otp-authenticator) through real logins: the console sender, the HTTP
gateway sender through the allow-list, the mobile number claim, and the same limits as email OTP."""
import io
import re
import textwrap
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.core.management import call_command
from joserfc import jwt
from joserfc.jwk import KeySet

from authflow.authenticators.sms_otp import mask_number
from authflow.celery import app
from authflow.mail import codes
from authflow.mail.models import OneTimeCode
from authflow.outbound.models import put_endpoint
from tests.support.config import public_app
from tests.support.http_server import ScriptedServer
from tests.test_email_otp import begin, password

pytestmark = pytest.mark.django_db(transaction=True)

SCRIPTS = Path(__file__).parent / "scripts" / "wso2"
APPS = [
    ("sms", "{1: [BasicAuthenticator], 2: [sms-otp-authenticator, email-otp-authenticator]}",
     (SCRIPTS / "otp_sms_by_role.js").read_text()),
]
USERS = textwrap.dedent("""
    users:
      - {username: alice, password: "alice-password-123", email: alice@example.com,
         claims: {"http://wso2.org/claims/mobile": "+15550104567"}}
      - {username: bob, password: "bob-password-123", email: bob@example.com}
""")
TOKEN = "gateway-token-for-tests"


@pytest.fixture
def site(live_server, tmp_path, monkeypatch, settings):
    path = tmp_path / "config.yaml"
    path.write_text("applications:\n" + "".join(public_app(*app) for app in APPS) + USERS)
    call_command("apply", "-f", str(path), stdout=io.StringIO())
    monkeypatch.setattr(app.conf, "task_always_eager", True)  # the live server sends inline: no worker needed
    monkeypatch.setattr(codes, "RESEND_COOLDOWN_SECONDS", 0)
    settings.AUTHFLOW_SMS_SENDER = "console"
    return live_server.url


@pytest.fixture
def gateway(settings):
    server = ScriptedServer().start()
    settings.AUTHFLOW_SMS_SENDER = "http"
    settings.AUTHFLOW_SMS_GATEWAY_URL = server.url("/gateway/echo")
    settings.AUTHFLOW_SMS_GATEWAY_TOKEN = TOKEN
    yield server
    server.stop()


def texted(capsys):
    return re.findall(r"SMS to (\S+) from authflow: (\d{6}) is your sign-in code for sms", capsys.readouterr().out)


def test_the_console_sender_texts_the_code_to_the_mobile_claim_and_it_signs_in(site, capsys, caplog):
    browser = begin(site, "sms")
    page = password(browser)
    assert "Check your phone" in page.text and "********4567" in page.text
    [(number, code)] = texted(capsys)
    assert number == "+15550104567"
    assert OneTimeCode.objects.get().purpose == "sms-otp"
    done = browser.submit({"code": code})
    assert done.callback and "code=" in done.callback
    token = browser.client.fetch_token(authorization_response=done.callback, code_verifier=browser.verifier)
    keys = KeySet.import_key_set(requests.get(site + "/o/.well-known/jwks.json", timeout=30).json())
    assert jwt.decode(token["id_token"], keys, algorithms=["RS256"]).claims["amr"] == ["pwd", "sms", "mfa"]
    assert not [r for r in caplog.records if code in r.getMessage() or code in str(vars(r))]


def test_a_user_without_a_mobile_number_gets_the_email_code_instead(site, capsys):
    browser = begin(site, "sms")
    page = password(browser, "bob")
    assert "Check your email" in page.text  # the script's alternative path
    assert texted(capsys) == []


def test_the_same_limits_as_email_otp_a_fourth_code_is_refused(site, capsys):
    browser = begin(site, "sms")
    password(browser)
    [(_, code)] = texted(capsys)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(2):
        page = browser.submit({"code": wrong})
        assert "The code is not correct." in page.text
    page = browser.submit({"code": wrong})
    query = parse_qs(urlsplit(page.callback).query)
    assert query["error_description"] == ["The one-time code was not accepted."]


def test_resends_are_limited_and_say_text_message(site, capsys):
    browser = begin(site, "sms")
    password(browser)
    for _ in range(2):
        assert "We sent you a new code." in browser.submit({"action": "resend"}).text
    page = browser.submit({"action": "resend"})
    assert "No more codes can be sent" in page.text
    codes_sent = texted(capsys)
    assert len(codes_sent) == 3
    assert browser.submit({"code": codes_sent[-1][1]}).callback


def test_the_http_gateway_sender_posts_through_the_allow_list(site, gateway):
    put_endpoint(gateway.url("/gateway/"))
    browser = begin(site, "sms")
    password(browser)
    seen = gateway.wait_for(lambda r: r.path == "/gateway/echo")
    body = seen.json()
    assert body["to"] == "+15550104567" and body["from"] == "authflow"
    assert seen.headers.get("Authorization") == f"Bearer {TOKEN}"
    code = re.match(r"(\d{6}) is your sign-in code", body["text"]).group(1)
    assert browser.submit({"code": code}).callback


def test_a_gateway_not_on_the_allow_list_is_not_called(site, gateway, caplog):
    browser = begin(site, "sms")
    page = password(browser)
    assert "Check your phone" in page.text  # the page looks the same; the operator reads why in the log
    assert [r for r in caplog.records if r.getMessage() == "text message not sent"
            and "allow-list" in getattr(r, "reason", "")]
    assert gateway.seen == []


def test_masking_keeps_the_last_four_digits():
    assert mask_number("+15550104567") == "********4567" and mask_number("123") == "****"


def test_a_gateway_that_fails_is_logged_without_the_number_or_the_code(site, gateway, settings, caplog):
    put_endpoint(gateway.url("/gateway/"))
    settings.AUTHFLOW_SMS_GATEWAY_URL = gateway.url("/gateway/error?status=503")
    browser = begin(site, "sms")
    page = password(browser)
    assert "Check your phone" in page.text
    seen = gateway.wait_for(lambda r: r.path == "/gateway/error")
    text = seen.json()["text"]
    failed = [r for r in caplog.records if r.getMessage() == "text message not sent"]
    assert failed and "HTTP 503" in failed[0].reason
    assert not [r for r in caplog.records if "+15550104567" in str(vars(r)) or text[:6] in str(vars(r))]
