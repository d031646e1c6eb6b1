"""The magic link authenticator over HTTP: the link from the email, in the same browser, another one, and bad links."""
import io
import secrets
import textwrap
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone
from joserfc import jwt
from joserfc.jwk import KeySet

from authflow.directory.models import User
from authflow.flows.models import LoginFlow
from authflow.mail.models import EmailTemplate, OneTimeCode
from authflow.mail.service import send_template
from tests.support.browser import Browser
from tests.support.config import CALLBACK, public_app
from tests.support.console import sign_in_to_console
from tests.support.worker import mail_worker, mailer  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db(transaction=True)

APPS = [
    ("link", "{1: [MagicLinkAuthenticator]}", "var onLoginRequest = function (context) { executeStep(1); };"),
    ("either", "{1: [MagicLinkAuthenticator, BasicAuthenticator]}",
     "var onLoginRequest = function (context) { executeStep(1); };"),
    ("second", "{1: [BasicAuthenticator], 2: [MagicLinkAuthenticator]}",
     "var onLoginRequest = function (context) { executeStep(1); executeStep(2); };"),
    ("remember", "{1: [MagicLinkAuthenticator]}",
     "var onLoginRequest = function (context) { executeStep(1, {onSuccess: function (context) {"
     " setCookie(context.response, 'remembered', 'yes', {'max-age': 3600}); }}); };"),
]
USERS = textwrap.dedent("""
    users:
      - {username: alice, password: "alice-password-123", email: alice@example.com}
      - {username: bob, password: "bob-password-123"}
      - {username: postmaster, password: "postmaster-password-123", email: postmaster@example.com}
""")
SENT = "Check your email"
OTHER_BROWSER = "Open the link in the browser where you started signing in"
NOT_VALID = "This sign-in link is not valid"


@pytest.fixture
def site(live_server, mailer, tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("applications:\n" + "".join(public_app(*app) for app in APPS) + USERS)
    call_command("apply", "-f", str(path), stdout=io.StringIO())
    EmailTemplate.objects.get_or_create(template_id="marker", defaults={"subject": "marker", "text_body": "marker"})
    return live_server.url, mailer


def begin(base, client_id):
    browser = Browser(base, stop_at=CALLBACK)
    client = OAuth2Session(client_id, None, scope="openid", redirect_uri=CALLBACK, code_challenge_method="S256",
                           token_endpoint=base + "/o/token/")
    verifier = secrets.token_urlsafe(48)
    uri, _ = client.create_authorization_url(base + "/o/authorize/", code_verifier=verifier)
    browser.get(uri)
    browser.client, browser.verifier = client, verifier
    return browser


def id_token(browser, done) -> dict:
    token = browser.client.fetch_token(authorization_response=done.callback, code_verifier=browser.verifier)
    keys = KeySet.import_key_set(requests.get(browser.base_url + "/o/.well-known/jwks.json", timeout=30).json())
    return jwt.decode(token["id_token"], keys, algorithms=["RS256"]).claims


def link_for(mailer, n=1, to="alice@example.com"):
    return mailer.inbox.wait_for(lambda m: m.to == [to] and "sign-in link" in m.subject, count=n).link()


def all_sent(mailer):
    """Everything queued so far has been sent (a marker queued now arrived: the worker keeps the order)."""
    count = len(mailer.inbox.matching(lambda m: m.subject == "marker"))
    assert send_template("postmaster", "marker")
    mailer.inbox.wait_for(lambda m: m.subject == "marker", count=count + 1)
    return [m for m in mailer.inbox.matching() if m.subject != "marker"]


def failures(username="alice"):
    return User.objects.get(username=username).failed_login_attempts


def address_failures():
    return cache.get("authflow:failed-logins:127.0.0.1", 0)


def test_the_link_from_the_email_signs_in_in_the_same_browser(site):
    base, mailer = site
    browser = begin(base, "link")
    assert 'name="identifier"' in browser.page.text
    page = browser.submit({"identifier": "alice"})
    assert page.status_code == 200 and SENT in page.text and "in this browser" in page.text
    message = mailer.inbox.wait_for(lambda m: m.to == ["alice@example.com"])
    assert message.subject == "Your sign-in link for link"
    link = message.link()
    assert link.startswith(base + "/login/magic/") and f'href="{link}"' in message.html
    stored = OneTimeCode.objects.get()
    token = urlsplit(link).path.split("/")[3]
    assert stored.selector == token.split(".")[0] and token.split(".")[1] not in stored.digest
    done = browser.get(link)
    assert done.callback and "code=" in done.callback
    flow = LoginFlow.objects.get()
    assert flow.status == "succeeded" and flow.subject == "alice"
    assert [(a["authenticator"], a["user"]) for a in flow.state["journal"]["answers"]] == [
        ("MagicLinkAuthenticator", "alice")]
    assert OneTimeCode.objects.get().used_at is not None
    assert mailer.worker.output(limit=10**7).count(token) == 0  # the link is not logged
    assert id_token(browser, done)["amr"] == ["otp"]  # a one-time secret sent by email (RFC 8176)


def test_a_cookie_the_script_sets_after_the_link_reaches_the_browser(site):
    base, mailer = site
    browser = begin(base, "remember")
    browser.submit({"identifier": "alice"})
    done = browser.get(link_for(mailer))
    assert done.callback and "code=" in done.callback
    assert browser.session.cookies.get("remembered") == "yes"
    assert LoginFlow.objects.get().outbox == []


def test_an_email_address_works_as_the_identifier(site):
    base, mailer = site
    browser = begin(base, "link")
    browser.submit({"identifier": "Alice@Example.com"})
    assert browser.get(link_for(mailer)).callback


def test_in_another_browser_the_link_says_where_to_open_it_and_stays_usable(site, caplog):
    base, mailer = site
    browser = begin(base, "link")
    browser.submit({"identifier": "alice"})
    link = link_for(mailer)
    other = Browser(base, stop_at=CALLBACK)
    page = other.get(link)
    assert page.status_code == 403 and OTHER_BROWSER in page.text and page.callback is None
    assert OneTimeCode.objects.get().used_at is None and address_failures() == 0
    token = urlsplit(link).path.split("/")[3]
    assert "another browser" in caplog.text and token.split(".")[1] not in caplog.text  # logged, without the link
    assert browser.get(link).callback  # still works where the sign-in started


def test_a_tampered_link_is_refused_and_counted(site):
    base, mailer = site
    browser = begin(base, "link")
    browser.submit({"identifier": "alice"})
    link = link_for(mailer)
    head, verifier = link.rstrip("/").rsplit(".", 1)
    tampered = f"{head}.{verifier[:-1]}{'A' if verifier[-1] != 'A' else 'B'}/"
    page = browser.get(tampered)
    assert page.status_code == 404 and NOT_VALID in page.text and page.callback is None
    assert failures() == 1 and address_failures() == 1  # the selector names alice's link
    page = browser.get(base + "/login/magic/" + secrets.token_urlsafe(12) + "." + secrets.token_urlsafe(32) + "/")
    assert page.status_code == 404 and NOT_VALID in page.text
    page = browser.get(base + "/login/magic/nonsense/")
    assert page.status_code == 404 and NOT_VALID in page.text
    assert failures() == 1 and address_failures() == 3
    assert LoginFlow.objects.get().status == "running" and OneTimeCode.objects.get().used_at is None
    assert browser.get(link).callback  # one wrong try does not spend the genuine link


def test_a_used_or_expired_link_is_refused_and_counted(site):
    base, mailer = site
    browser = begin(base, "link")
    browser.submit({"identifier": "alice"})
    link = link_for(mailer)
    assert browser.get(link).callback
    page = browser.get(link)
    assert page.status_code == 410 and "already used" in page.text
    assert failures() == 1 and address_failures() == 1
    browser = begin(base, "link")
    browser.submit({"identifier": "alice"})
    link = link_for(mailer, 2)
    OneTimeCode.objects.filter(used_at__isnull=True).update(expires_at=timezone.now() - timedelta(seconds=1))
    page = browser.get(link)
    assert page.status_code == 410 and "expired" in page.text and page.callback is None
    assert failures() == 2 and address_failures() == 2


def test_an_unknown_identifier_gets_the_same_page_and_no_email(site):
    base, mailer = site
    pages = {}
    for identifier in ("alice", "ghost", "bob"):  # bob has no email address
        browser = begin(base, "link")
        page = browser.submit({"identifier": identifier})
        assert SENT in page.text
        pages[identifier] = page.text.split('id="sent-to">')[1].split("</p>")[0].replace(identifier, "X")
    assert pages["alice"] == pages["ghost"] == pages["bob"]
    assert [m.to for m in all_sent(mailer)] == [["alice@example.com"]]
    assert not OneTimeCode.objects.exclude(user__username="alice").exists()


def test_a_new_link_is_rate_limited_and_replaces_the_old_one(site, monkeypatch):
    from authflow.mail import codes

    base, mailer = site
    browser = begin(base, "link")
    browser.submit({"identifier": "alice"})
    first = link_for(mailer)
    page = browser.submit({"identifier": "alice", "action": "resend"})
    assert "Wait" in page.text and "before asking for another email" in page.text
    monkeypatch.setattr(codes, "RESEND_COOLDOWN_SECONDS", 0)
    page = browser.submit({"identifier": "alice", "action": "resend"})
    assert "We sent you a new link." in page.text
    second = link_for(mailer, 2)
    page = browser.get(first)
    assert page.status_code == 410 and "replaced" in page.text
    assert browser.get(second).callback


def test_a_link_for_a_step_the_flow_moved_past_does_not_sign_in(site):
    base, mailer = site
    browser = begin(base, "either")
    flow_url = browser.page.url
    browser.get(flow_url + "?option=0")
    browser.submit({"identifier": "alice"})
    link = link_for(mailer)
    browser.get(flow_url + "?option=1")
    assert browser.submit({"username": "alice", "password": "alice-password-123"}).callback  # signed in otherwise
    page = browser.get(link)
    assert page.status_code == 409 and page.callback is None
    assert OneTimeCode.objects.get().used_at is None


def test_as_a_second_step_the_link_goes_to_the_user_the_first_step_found(site):
    base, mailer = site
    browser = begin(base, "second")
    page = browser.submit({"username": "alice", "password": "alice-password-123"})
    assert "alice" in page.text and 'name="identifier"' not in page.text
    page = browser.submit({})
    assert SENT in page.text and "a***@example.com" in page.text
    done = browser.get(link_for(mailer))
    assert done.callback
    assert [a["authenticator"] for a in LoginFlow.objects.get().state["journal"]["answers"]] == [
        "BasicAuthenticator", "MagicLinkAuthenticator"]


def test_the_admin_shows_links_and_codes_without_their_digests(site, client):
    base, mailer = site
    browser = begin(base, "link")
    browser.submit({"identifier": "alice"})
    link_for(mailer)
    record = OneTimeCode.objects.get()
    sign_in_to_console(client, User.objects.create_superuser("root", "root@example.com", "root-password-123"))
    listing = client.get("/admin/mail/onetimecode/")
    assert listing.status_code == 200 and "magic-link" in listing.content.decode()
    detail = client.get(f"/admin/mail/onetimecode/{record.pk}/change/").content.decode()
    assert "alice" in detail and record.digest.split(":")[1] not in detail and record.selector not in detail
