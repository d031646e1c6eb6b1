"""Scripts that kill V8 or outrun their limit, through a real server with several workers (gunicorn).

The attacker's application ("mallory") picks its attack from the login_hint;
the bank is another application whose users must keep signing in meanwhile.
"""
import io
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.core.management import call_command
from django.db import connection

from authflow.flows.models import LoginFlow
from tests.support.browser import Browser
from tests.support.servers import ServerProcess, server_env, signing_key

pytestmark = pytest.mark.django_db(transaction=True)

CALLBACK = "http://127.0.0.1:9/callback"
CONFIG = textwrap.dedent(f"""
    applications:
      - name: mallory
        client_id: mallory
        client_type: public
        redirect_uris: ["{CALLBACK}"]
        steps: {{1: [BasicAuthenticator]}}
        script: |
          var attacks = {{
              crash: function () {{ new Array(3e8).fill(1); }},
              stall: function () {{ new Array(1e8).fill(1); }},
              loop: function () {{ for (;;) {{}} }},
          }};
          var onLoginRequest = function (context) {{
              attacks[context.request.params.login_hint[0]]();
              executeStep(1);
          }};
      - name: bank
        client_id: bank
        client_type: public
        redirect_uris: ["{CALLBACK}"]
        steps: {{1: [BasicAuthenticator]}}
        script: |
          var onLoginRequest = function (context) {{
              executeStep(1, {{onSuccess: function (context) {{
                  Log.info('bank: ' + context.currentKnownSubject.username);
              }}}});
          }};
    users:
      - {{username: bob, password: "bob-password-123", email: bob@example.com}}
""")


def authorize_url(server, client_id, login_hint=""):
    query = (f"response_type=code&client_id={client_id}&redirect_uri={CALLBACK}&scope=openid&state=s1"
             f"&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256")
    if login_hint:
        query += f"&login_hint={login_hint}"
    return f"{server.url}/o/authorize/?{query}"


def attack(server, kind):
    started = time.monotonic()
    page = Browser(server.url, stop_at=CALLBACK).get(authorize_url(server, "mallory", kind))
    return page, time.monotonic() - started


def bank_login(server):
    """bob signs in to the bank: the code reaches the application."""
    browser = Browser(server.url, stop_at=CALLBACK)
    page = browser.get(authorize_url(server, "bank"))
    assert page.status_code == 200 and 'name="password"' in page.text, (page.status_code, page.text[:500])
    done = browser.submit({"username": "bob", "password": "bob-password-123"})
    assert done.callback, (done.status_code, done.text[:500])
    assert parse_qs(urlsplit(done.callback).query).get("code"), done.callback


@pytest.fixture
def gunicorn(transactional_db, tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG)
    call_command("apply", "-f", str(path), stdout=io.StringIO())
    started = []

    def start(**env):
        server = ServerProcess("gunicorn", server_env(connection.settings_dict, signing_key(), **env), tmp_path,
                               workers=2, threads=4)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


def test_a_script_that_makes_v8_abort_fails_its_login_and_the_server_carries_on(gunicorn):
    # A time limit long enough for V8 to abort on its own (fatal out of memory) before the deadline.
    server = gunicorn(AUTHFLOW_SCRIPT_TIMEOUT_MS="8000")
    bank_login(server)
    workers = server.worker_pids()
    assert len(workers) == 2
    for _ in range(2):
        page, _ = attack(server, "crash")
        assert page.status_code == 503 and "sign-in script failed" in page.text
        flow = LoginFlow.objects.filter(application__name="mallory").latest("created_at")
        assert flow.result["kind"] == "memory" and flow.result["message"] == "the script used more than 64 MB of memory"
        assert server.process.poll() is None and server.worker_pids() == workers  # no server process died
        bank_login(server)


def test_scripts_that_outrun_their_limit_do_not_stall_other_logins(gunicorn):
    server = gunicorn()
    bank_login(server)  # the workers are up and have a sandbox each
    workers = server.worker_pids()
    finished = threading.Event()
    with ThreadPoolExecutor(max_workers=8) as pool:
        attacks = [pool.submit(attack, server, kind) for kind in ["stall", "loop"] * 4]
        time.sleep(0.2)  # the attacks are under way
        started = time.monotonic()
        bank_login(server)
        innocent = time.monotonic() - started
        finished.set()
        results = [future.result() for future in attacks]
    for page, _ in results:
        assert page.status_code == 503 and "sign-in script failed" in page.text
    # Each attack costs at most twice its 250 ms limit of sandbox time, whatever it does; before
    # sandboxes, eight of them held an unrelated login for 55 s.
    assert innocent < 10, f"an unrelated login took {innocent:.1f} s while scripts outran their limit"
    assert server.worker_pids() == workers
    requests.get(server.url + "/o/.well-known/openid-configuration", timeout=5).raise_for_status()
