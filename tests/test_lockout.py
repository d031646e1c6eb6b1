"""The account lockout as people and attackers see it: what the pages say, how long they take, what is logged, the console.

The pages must not tell which usernames have an account: an unknown
username is answered with the same messages, locked after as many failures,
and in the same time (an Argon2 computation every time) as a known one.
"""
import io
import logging
import re
import statistics
import textwrap
import time

import pytest
from django.core.management import call_command
from django.test import Client

from authflow.directory.models import User
from tests.support.config import CALLBACK, public_app
from tests.support.console import sign_in_to_console

pytestmark = pytest.mark.django_db

THRESHOLD = 3
PASSWORD = "alice-password-123"


@pytest.fixture
def portal(tmp_path, settings):
    settings.AUTHFLOW_LOCKOUT_THRESHOLD = THRESHOLD
    path = tmp_path / "config.yaml"
    path.write_text("applications:\n" + public_app("portal", "{1: [BasicAuthenticator]}", """
        var onLoginRequest = function (context) { executeStep(1); };
    """) + textwrap.dedent(f"""
        users:
          - {{username: alice, password: "{PASSWORD}"}}
          - {{username: bob, password: "bob-password-123"}}
    """))
    call_command("apply", "-f", str(path), stdout=io.StringIO())


class SignInPage:
    """One browser at the password page of a login, trying passwords one after the other."""

    def __init__(self):
        self.client = Client(raise_request_exception=False)
        page = self.client.get("/o/authorize/", {
            "client_id": "portal", "response_type": "code", "scope": "openid", "redirect_uri": CALLBACK,
            "state": "s", "code_challenge": "E9Melhoa2OwvFrEMTJguCQaoWrCXFnwS4VCgf5qE_Hg",
            "code_challenge_method": "S256"}, follow=True)
        self.url = page.redirect_chain[-1][0]
        self._read(page)

    def _read(self, page):
        text = page.content.decode()
        assert 'name="password"' in text, text
        self.fields = dict(re.findall(r'name="(form_token|position)" value="([^"]*)"', text))
        error = re.search(r'role="alert">([^<]*)<', text)
        self.error = error.group(1) if error else None

    def attempt(self, username, password):
        """Send the form; the message the page then shows, and how long the answer took (seconds)."""
        started = time.perf_counter()
        response = self.client.post(self.url, {**self.fields, "username": username, "password": password})
        elapsed = time.perf_counter() - started
        assert response.status_code == 302, response.status_code
        if response.headers["Location"].startswith("/o/authorize/"):  # signed in: back to the application
            done = self.client.get(response.headers["Location"])
            assert "code=" in done.headers["Location"], done.headers["Location"]
            return "signed in", elapsed
        self._read(self.client.get(response.headers["Location"]))
        return self.error, elapsed


@pytest.mark.usefixtures("portal")
def test_known_and_unknown_usernames_get_the_same_messages_and_are_locked_alike():
    said = {}
    for username in ("alice", "nobody"):
        page = SignInPage()
        said[username] = [page.attempt(username, "wrong-password")[0] for _ in range(THRESHOLD + 2)]
        said[username].append(page.attempt(username, PASSWORD)[0])  # alice's password: no help while locked
    assert said["alice"] == said["nobody"], said
    assert said["alice"][:THRESHOLD] == ["The username or password is not correct."] * THRESHOLD
    assert all("locked" in message for message in said["alice"][THRESHOLD:]), said["alice"]
    # Another account is not affected, and alice signs in once her lock is lifted.
    assert SignInPage().attempt("bob", "bob-password-123")[0] == "signed in"
    User.objects.filter(username="alice").update(locked_until=None, failed_login_attempts=0)
    assert SignInPage().attempt("alice", PASSWORD)[0] == "signed in"


@pytest.mark.usefixtures("portal")
def test_a_locked_account_answers_in_the_same_time_as_an_unknown_username():
    """Timing classes, not a benchmark: each answer costs one Argon2 computation (about 150 ms), or not."""
    medians = {}
    for username in ("alice", "nobody"):
        page = SignInPage()
        before = [page.attempt(username, "wrong-password")[1] for _ in range(THRESHOLD)]
        after = [page.attempt(username, "wrong-password")[1] for _ in range(5)]
        medians[username] = statistics.median(before)
        medians[username + " locked"] = statistics.median(after)
    reference = medians["alice"]
    for case, median in medians.items():
        assert 0.5 * reference <= median <= 2 * reference, {k: round(v * 1000) for k, v in medians.items()}


@pytest.mark.usefixtures("portal")
def test_failed_sign_ins_and_lockouts_are_logged_with_the_flow_and_never_the_password(caplog):
    caplog.set_level(logging.INFO, logger="authflow")
    page = SignInPage()
    for _ in range(THRESHOLD + 1):
        page.attempt("alice", "secret-Wrong-Password")
    page.attempt("nobody-secret-name", "secret-Wrong-Password")
    records = [r for r in caplog.records if r.name == "authflow.lockout"]
    messages = [r.getMessage() for r in records]
    assert messages == ["sign-in failed"] * THRESHOLD + ["account locked", "sign-in refused: account locked",
                                                          "sign-in failed"], messages
    flow_id = page.url.rstrip("/").rsplit("/", 1)[1]
    assert all(r.flow_id == flow_id for r in records[:-1])
    assert [getattr(r, "user", None) for r in records] == ["alice"] * (THRESHOLD + 2) + [None]
    assert records[THRESHOLD].failed_attempts == THRESHOLD and records[THRESHOLD].locked_until
    for record in caplog.records:
        line = str(vars(record))
        assert "secret-Wrong-Password" not in line and "nobody-secret-name" not in line


@pytest.mark.usefixtures("portal")
def test_administrators_see_locked_accounts_and_unlock_one_by_setting_its_failed_attempts_to_zero(caplog):
    page = SignInPage()
    for _ in range(THRESHOLD):
        page.attempt("alice", "wrong-password")
    alice = User.objects.get(username="alice")
    assert alice.account_locked
    console = Client()
    sign_in_to_console(console, User.objects.create_superuser("root", "root@example.com", "root-password-123"))
    assert listed(console, locked="yes") == ["alice"]
    assert listed(console, locked="no") == ["bob", "root"]
    page = console.get(f"/admin/directory/user/{alice.pk}/change/").content.decode()
    assert "Set the failed sign-ins to 0 to unlock the account." in page and 'name="locked_until_0"' in page
    changed = console.post("/admin/directory/user/", {
        "form-TOTAL_FORMS": "1", "form-INITIAL_FORMS": "1", "form-0-id": str(alice.pk),
        "form-0-failed_login_attempts": "0", "_save": "Save"})
    assert changed.status_code == 302
    alice.refresh_from_db()
    assert not alice.account_locked and alice.failed_login_attempts == 0
    unlocked = [r for r in caplog.records if r.getMessage() == "account unlocked"]
    assert [(r.user, r.by) for r in unlocked] == [("alice", "root")]
    assert listed(console, locked="yes") == []
    assert SignInPage().attempt("alice", PASSWORD)[0] == "signed in"


def listed(console, **filters):
    """The usernames the admin console's user list shows."""
    page = console.get("/admin/directory/user/", filters).content.decode()
    return sorted(re.findall(r'<a href="/admin/directory/user/\d+/change/[^"]*">([^<]+)</a>', page))
