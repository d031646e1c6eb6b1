"""An asynchronous call in a real browser (Debian's Chromium via Playwright), through the demo relying party.

The script asks a risk service (a real HTTP server on 127.0.0.1) after the
password; a real Celery worker makes the call.  The browser shows the waiting
page and continues by itself (waiting.js) when the result is in: the test
never reloads, it only waits for the next page's element.  Screenshots land
in test-artifacts/screenshots/.
"""
import io
import os
import uuid
from contextlib import contextmanager

import pytest
import yaml
from django.core.management import call_command
from django.db import connections

from authflow.outbound.models import AllowedEndpoint, OutboundCall
from tests.support.chromium import launch, screenshot
from tests.support.http_server import ScriptedServer
from tests.support.worker import CALL_DEADLINE_MARGIN_SECONDS, CALL_TIMEOUT_SECONDS, mail_worker, worker  # noqa: F401

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright

pytestmark = pytest.mark.django_db(transaction=True)

SCRIPT = """
var onLoginRequest = function (context) {
    executeStep(1, {onSuccess: function (context) {
        var user = context.currentKnownSubject;
        httpGet('%s?user=' + user.username, {Accept: 'application/json'}, {
            onSuccess: function (context, data) { Log.info('risk check passed'); },
            onFail: function (context, data) {
                fail({errorCode: 'access_denied', errorMessage: 'The risk check failed.'});
            },
            onTimeout: function (context, data) {
                fail({errorCode: 'access_denied', errorMessage: 'The risk check did not answer in time.'});
            }
        });
    }});
};
"""


@pytest.fixture
def risk(live_server, worker, tmp_path):  # noqa: F811
    """configure(path): the demo application calls the risk server's `path` after the password."""
    server = ScriptedServer().start()
    AllowedEndpoint.objects.create(url=server.url("/risk"))

    def configure(path):
        config = {
            "applications": [{"name": "demo", "client_id": "demo-client", "client_type": "public",
                              "redirect_uris": [live_server.url + "/demo/callback"],
                              "steps": {1: ["BasicAuthenticator"]}, "script": SCRIPT % server.url(path)}],
            "users": [{"username": "alice", "password": "alice-password-123", "email": "alice@example.com"}],
        }
        path = tmp_path / "demo.yaml"
        path.write_text(yaml.safe_dump(config))
        call_command("apply", "-f", str(path), stdout=io.StringIO())

    try:
        yield live_server.url, server, configure
    finally:
        server.stop()


@contextmanager
def chromium():
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            yield browser
        finally:
            browser.close()
            connections.close_all()  # ORM calls inside Playwright's loop get a connection of their own


def sign_in(page, base):
    page.goto(base + "/demo/")
    page.get_by_role("button", name="Sign in").click()
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "alice-password-123")
    page.get_by_role("button", name="Sign in").click()


def test_the_waiting_page_continues_by_itself_when_the_result_is_in(risk):
    base, server, configure = risk
    configure("/risk/gate")
    navigations = []
    with chromium() as browser:
        page = browser.new_page()
        page.on("framenavigated", lambda frame: navigations.append(frame.url) if frame == page.main_frame else None)
        sign_in(page, base)
        page.wait_for_selector("[data-waiting]")
        assert "Checking" in page.inner_text("h1") and "please wait" in page.inner_text("[role=status]")
        screenshot(page, "outbound-01-checking")
        waiting_url = page.url
        seen = server.wait_for(lambda r: r.path == "/risk/gate")  # the worker's request, held by the server
        assert seen.query == {"user": ["alice"]}
        page.wait_for_timeout(1200)  # the page keeps polling meanwhile, and stays
        assert page.url == waiting_url and page.query_selector("[data-waiting]")
        server.release()
        page.wait_for_selector("#signed-in-as", timeout=20000)  # no reload by the test: the page moved on
        screenshot(page, "outbound-02-signed-in")
        assert page.inner_text("#signed-in-as") == "alice"
    assert waiting_url in navigations and navigations[-1].startswith(base + "/demo/")
    call = OutboundCall.objects.get()
    assert (call.outcome, call.answered_by) == ("success", "worker")


def test_without_javascript_the_page_refreshes_itself(risk):
    base, server, configure = risk
    configure("/risk/gate")
    with chromium() as browser:
        page = browser.new_context(java_script_enabled=False).new_page()
        sign_in(page, base)
        page.wait_for_selector("[data-waiting]")
        server.wait_for(lambda r: r.path == "/risk/gate")
        server.release()
        page.wait_for_selector("#signed-in-as", timeout=20000)  # <meta http-equiv="refresh">, no reload by the test
        assert page.inner_text("#signed-in-as") == "alice"


def test_a_result_that_never_comes_moves_the_browser_on_at_the_deadline(risk, settings):
    """No worker takes the call (its queue has no consumer): the page's own polling answers it at the deadline."""
    from authflow.celery import app

    base, server, configure = risk
    settings.AUTHFLOW_CALL_QUEUE = f"authflow-test-nobody-{uuid.uuid4().hex[:8]}"
    configure("/risk/score")
    try:
        with chromium() as browser:
            page = browser.new_page()
            sign_in(page, base)
            page.wait_for_selector("[data-waiting]")
            screenshot(page, "outbound-03-checking-nobody-answers")
            limit = (CALL_TIMEOUT_SECONDS + CALL_DEADLINE_MARGIN_SECONDS + 15) * 1000
            page.wait_for_selector("[role=alert]", timeout=limit)
            screenshot(page, "outbound-04-did-not-answer")
            assert page.inner_text("[role=alert]") == "Sign-in refused: The risk check did not answer in time."
        assert server.requests() == []
        call = OutboundCall.objects.get()
        assert (call.outcome, call.answered_by) == ("timeout", "deadline")
    finally:
        with app.connection_for_write() as conn:
            conn.default_channel.queue_purge(settings.AUTHFLOW_CALL_QUEUE)
