"""The replay debugger in a real browser (Debian's Chromium via Playwright): a user signs in through the demo
application with a password and an authenticator app code, then an administrator opens that very login in the
console, steps through its round trips and re-runs it against a newer version of the script, which diverges.
Screenshots land in test-artifacts/screenshots/."""
import os

import pytest

from authflow.flows.models import LoginFlow
from sequences.api import save_version
from tests.support.chromium import chromium, screenshot  # noqa: F401  (chromium: a fixture)
from tests.support.console import DEMO_PASSWORD, apply_demo, open_console, sign_in_at_the_demo

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.django_db(transaction=True)

V1 = """var onLoginRequest = function (context) {
    executeStep(1, {onSuccess: function (context) {
        var user = context.currentKnownSubject;
        Log.info('password accepted for ' + user.username);
        if (hasRole(user, 'staff')) {
            executeStep(2);
        }
    }});
};
"""
# The newer version no longer asks staff for a second factor: it decides otherwise after step 1.
V2 = V1.replace("hasRole(user, 'staff')", "hasRole(user, 'auditor')")


@pytest.fixture
def demo(live_server, tmp_path, chromium):
    """The demo application (served under /demo/) on V1, and carol, staff with an authenticator app."""
    return live_server.url, chromium, apply_demo(live_server.url, tmp_path, V1, roles=["staff"])


def test_open_the_replay_of_a_real_login_step_through_it_and_rerun_it_against_a_newer_version(demo, admin_user):
    base, browser, device = demo
    assert sign_in_at_the_demo(browser, base, device) == ["password", "authenticator app code"]
    flow = LoginFlow.objects.get(application__name="demo", subject="carol")
    assert flow.status == LoginFlow.Status.SUCCEEDED
    save_version("demo", V2, publish=False)  # a newer version, not live yet

    console = open_console(browser, base, admin_user)
    page, refused = console.page, console.refused
    page.goto(base + "/console/")
    page.get_by_role("link", name="Login flows").click()
    page.select_option("#flow-application", "demo")
    page.fill("#flow-search", "carol")
    page.get_by_role("button", name="Search").click()
    page.wait_for_selector(f"tr[data-flow='{flow.id}']")
    assert page.locator("#flows tbody tr").count() == 1
    screenshot(page, "console-flows")
    page.locator(f"tr[data-flow='{flow.id}'] a").click()

    page.wait_for_selector("#replay[data-ready=true]")
    assert page.inner_text("#replay-status") == "3 round trips."
    assert page.inner_text("#round-trip-title") == "Round trip 1 of 3"
    assert page.inner_text("#trip-answer") == "the login request (the flow starts)"
    assert page.inner_text("#trip-command") == "show step 1 (BasicAuthenticator)"
    assert page.get_by_role("button", name="Previous round trip").is_disabled()

    page.get_by_role("button", name="Next round trip").click()
    assert page.inner_text("#round-trip-title") == "Round trip 2 of 3"
    assert page.inner_text("#trip-answer") == "step 1: success with BasicAuthenticator, carol"
    assert page.inner_text("#trip-command") == "show step 2 (totp)"
    assert page.inner_text("#trip-logs") == "INFO line 4 password accepted for carol"
    assert "#0 step 1: success" in page.inner_text("#trip-added")
    assert page.inner_text("#trip-consumed").startswith("Consumed: replayed 0 earlier answers; ")
    screenshot(page, "console-replay-round-trip")

    page.get_by_role("button", name="Next round trip").click()
    assert page.inner_text("#round-trip-title") == "Round trip 3 of 3"
    assert page.inner_text("#trip-answer") == "step 2: success with totp, carol"
    assert page.inner_text("#trip-command") == "done: signed in carol"
    assert page.get_by_role("button", name="Next round trip").is_disabled()
    assert DEMO_PASSWORD not in page.content()

    page.select_option("#rerun-version", "2")
    page.get_by_role("button", name="Re-run").click()
    page.wait_for_selector("#rerun-verdict")
    verdict = page.inner_text("#rerun-verdict")
    assert verdict.startswith("v2 diverges at round trip 2 (another command): ")
    assert "the recorded script asked for step 2 here; this version signed in 'carol'" in verdict
    page.get_by_role("button", name="Show round trip 2").click()
    assert page.inner_text("#round-trip-title") == "Round trip 2 of 3"
    assert page.locator("#divergence-note").is_visible()
    assert page.locator("#round-trips li.diverged").count() == 1
    screenshot(page, "console-replay-rerun")
    assert refused == []
