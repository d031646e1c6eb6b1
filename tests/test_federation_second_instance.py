"""A second instance of this server as the upstream OpenID provider of the first, and Chromium through both.

The upstream is another process of this project (`manage.py runserver`) on its own port with its own
database (migrated and configured with `apply` like a deployment); the first server knows it only as an
identity provider (discovery, code + PKCE, ID token, userinfo over HTTP).  The demo application's script
sends the browser there, then asks for a local second factor (TOTP) before the demo shows the mapped claims;
signing out of the demo then ends the session at both servers (RP-initiated logout, one after the other).
"""
import io
import os
import subprocess
import sys

import psycopg
import pytest
import yaml
from django.conf import settings
from django.core.management import call_command

from authflow.directory.models import User
from tests.support.servers import ROOT, ServerProcess, free_port, server_env, signing_key
from tests.support.totp import code_for

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "downstream-client-secret-" + "q" * 16
SCRIPT = """
var onLoginRequest = function (context) {
    executeStep(1, {authenticationOptions: [{idp: 'upstream'}]}, {
        onSuccess: function (context) {
            executeStep(2, {authenticationOptions: [{authenticator: 'totp'}]}, {});
        }
    });
};
"""


def _admin_connection():
    database = settings.DATABASES["default"]
    return psycopg.connect(host=database["HOST"] or "127.0.0.1", port=database["PORT"] or 5432,
                           user=database["USER"], password=database["PASSWORD"], dbname="postgres", autocommit=True)


@pytest.fixture
def upstream(live_server, tmp_path):
    """The second instance: its own database (made and migrated here), a user, and this server as its client."""
    database = dict(settings.DATABASES["default"])
    database["NAME"] = database["NAME"] + "_upstream"
    with _admin_connection() as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{database["NAME"]}"')
        connection.execute(f'CREATE DATABASE "{database["NAME"]}"')
    port = free_port()
    env = server_env(database, signing_key())
    config = tmp_path / "upstream.yaml"
    config.write_text(yaml.safe_dump({
        "applications": [{"name": "downstream", "client_id": "downstream", "client_type": "confidential",
                          "client_secret": SECRET,
                          # Where it sends the browser back after signing out (this project registers its
                          # applications' redirect URIs as their post_logout_redirect_uris too).
                          "redirect_uris": [f"{live_server.url}/federation/oidc/upstream/callback/",
                                            f"{live_server.url}/federation/oidc/upstream/logged-out/"],
                          "steps": {1: ["BasicAuthenticator"]}}],
        "users": [{"username": "ann", "password": "ann-upstream-password", "email": "ann@upstream.example",
                   "first_name": "Ann"}]}))
    for command in (["migrate", "--noinput"], ["apply", "-f", str(config)]):
        done = subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=600)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    server = ServerProcess("upstream", env, tmp_path, port=port).start()
    try:
        yield server
    finally:
        server.stop()
        with _admin_connection() as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{database["NAME"]}" WITH (FORCE)')


def test_chromium_signs_in_through_a_second_instance_then_a_local_totp_then_lands_at_the_demo(
        upstream, live_server, tmp_path, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    path = tmp_path / "downstream.yaml"
    path.write_text(yaml.safe_dump({
        "identity_providers": [{
            "name": "upstream", "display_name": "Upstream authflow", "issuer": upstream.url + "/o",
            "client_id": "downstream", "client_secret": SECRET, "scopes": "openid profile email",
            "user_policy": "provision", "username_claim": "preferred_username", "username_prefix": "up-",
            "claim_mapping": {"email": "http://wso2.org/claims/emailaddress",
                              "given_name": "http://wso2.org/claims/givenname"}}],
        "applications": [{"name": "demo", "client_id": "demo-client", "client_type": "public",
                          "redirect_uris": [live_server.url + "/demo/callback"],
                          "steps": {1: [{"idp": "upstream"}], 2: ["totp"]}, "script": SCRIPT}]}))
    call_command("apply", "-f", str(path), stdout=io.StringIO())
    from tests.support.chromium import launch, screenshot

    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            context = browser.new_context()
            page = context.new_page()
            page.goto(live_server.url + "/demo/")
            page.get_by_role("button", name="Sign in").click()
            # The single provider option redirected at once: the second instance's own sign-in page.
            page.wait_for_selector("input[name=password]")
            assert page.url.startswith(upstream.url + "/login/"), page.url
            screenshot(page, "federation-instance-01-upstream-sign-in")
            page.fill("input[name=username]", "ann")
            page.fill("input[name=password]", "ann-upstream-password")
            page.get_by_role("button", name="Sign in").click()
            # Back here: the script asks for TOTP, which the provisioned account sets up on the spot.
            page.wait_for_selector("text=Set up your authenticator app")
            assert page.url.startswith(live_server.url), page.url
            screenshot(page, "federation-instance-02-local-totp")
            page.fill("input[name=code]", code_for(page.inner_text("#totp-secret")))
            page.get_by_role("button", name="Set up and continue").click()
            page.wait_for_selector("#backup-codes")
            page.get_by_role("button", name="I have saved them, continue").click()
            page.wait_for_selector("#signed-in-as")
            screenshot(page, "federation-instance-03-at-the-demo")
            assert page.inner_text("#signed-in-as") == "up-ann"
            claims = page.inner_text("#claims")
            assert "ann@upstream.example" in claims and "otp" in claims
            assert context.new_page().goto(upstream.url + "/account/").url.startswith(upstream.url + "/account/")

            # The demo signs out at this server's end-session endpoint: the browser goes through the upstream's
            # own end-session endpoint (RP-initiated logout) and comes back to the demo.
            with page.expect_request(lambda r: r.url.startswith(upstream.url + "/o/logout/")) as at_upstream:
                page.get_by_role("region", name="Demo application").get_by_role("button", name="Sign out").click()
            assert "id_token_hint=" in at_upstream.value.url
            page.wait_for_selector("text=Sign in")
            screenshot(page, "federation-instance-04-signed-out")
            assert page.url.startswith(live_server.url + "/demo/"), page.url
            # Signed out at both: each account page asks to sign in again.
            for server in (live_server.url, upstream.url):
                assert "/login/" in context.new_page().goto(server + "/account/").url
        finally:
            browser.close()
    user = User.objects.get(username="up-ann")
    assert (user.email, user.first_name, user.has_usable_password()) == ("ann@upstream.example", "Ann", False)
