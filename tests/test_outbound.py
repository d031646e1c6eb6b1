"""Asynchronous calls in real logins: httpGet, httpPost, callAnalytics and publishToAnalytics.

A real HTTP server on 127.0.0.1 (tests/support/http_server.py) answers the calls,
a real Celery worker on Redis makes them (tests/support/worker.py), and the
login is driven over HTTP like a browser: the password, then the waiting page,
whose status the test polls as waiting.js does, then the flow page again.
The scripts end every login with fail() naming the handler that ran and the
data it got, so the application's callback says what the script saw.
"""
import hashlib
import hmac
import io
import json
import secrets
import textwrap
import time
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from django.core.management import call_command
from django.db import connection

from authflow.flows.models import EffectRecord, LoginFlow
from authflow.outbound.models import AllowedEndpoint, OutboundCall
from tests.support.browser import Browser
from tests.support.config import CALLBACK, public_app
from tests.support.http_server import ScriptedServer
from tests.support.servers import ServerProcess, free_port, server_env, signing_key
from tests.support.worker import CALL_DEADLINE_MARGIN_SECONDS, CALL_TIMEOUT_SECONDS, mail_worker, worker  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "alice-password-123"
REPORT = """
var report = function (outcome) {
    return function (context, data) {
        fail({errorCode: 'access_denied', errorMessage: outcome + ' ' + JSON.stringify(data)});
    };
};
var handlers = {onSuccess: report('success'), onFail: report('fail'), onTimeout: report('timeout')};
"""


@pytest.fixture(scope="module")
def http_server():
    server = ScriptedServer().start()
    yield server
    server.stop()


@pytest.fixture
def remote(http_server):
    http_server.reset()
    yield http_server
    http_server.release()  # nothing stays parked at /gate


@pytest.fixture
def site(live_server, worker, remote, settings, tmp_path):  # noqa: F811
    """configure(call) sets up the application "risk": a password, then `call` (JavaScript, in step 1's onSuccess,
    with `user`, `report` and `handlers` in scope).  Scripts may call the HTTP server's /api/ only."""
    AllowedEndpoint.objects.create(url=remote.url("/api"), description="the test's HTTP server")
    settings.AUTHFLOW_ANALYTICS_URL = remote.url("/events/analytics")

    def configure(call: str, name: str = "risk", steps: str = "{1: [BasicAuthenticator]}"):
        script = REPORT + textwrap.dedent("""
            var onLoginRequest = function (context) {
                executeStep(1, {onSuccess: function (context) {
                    var user = context.currentKnownSubject;
            %s
                }});
            };""") % textwrap.indent(textwrap.dedent(call).strip(), " " * 8)
        path = tmp_path / f"{name}.yaml"
        path.write_text("applications:\n" + public_app(name, steps, script) + textwrap.dedent(f"""
            users:
              - {{username: alice, password: "{PASSWORD}", email: alice@example.com}}
            """))
        call_command("apply", "-f", str(path), stdout=io.StringIO())

    return live_server.url, configure


def begin(base, client_id="risk"):
    browser = Browser(base, stop_at=CALLBACK)
    client = OAuth2Session(client_id, None, scope="openid", redirect_uri=CALLBACK, code_challenge_method="S256",
                           token_endpoint=base + "/o/token/")
    uri, _ = client.create_authorization_url(base + "/o/authorize/", code_verifier=secrets.token_urlsafe(48))
    page = browser.get(uri)
    assert "password" in page.text, page.text[:500]
    return browser


def password(browser):
    return browser.submit({"username": "alice", "password": PASSWORD})


def flow_of(browser) -> LoginFlow:
    return LoginFlow.objects.get(pk=urlsplit(browser.page.url).path.split("/")[3])


def status(browser, flow_id=None):
    flow_id = flow_id or flow_of(browser).pk
    return browser.session.get(f"{browser.base_url}/login/flow/{flow_id}/status/", timeout=30)


def wait_until_moved(browser, timeout=20.0):
    """Poll the status as waiting.js does; then load the flow page, as it does.

    A worker quicker than the browser's redirect to the waiting page leaves nothing to wait for: the page the
    browser is on already comes after the call (tests that must see the waiting page hold the call at /gate).
    """
    page = browser.page
    if page.callback or "Checking your sign-in" not in page.text:
        return page
    assert page.status_code == 200
    flow_id = flow_of(browser).pk
    deadline = time.monotonic() + timeout
    while True:
        answer = status(browser, flow_id)
        assert answer.status_code == 200 and answer.headers["Content-Type"] == "application/json"
        if not answer.json()["waiting"]:
            break
        assert time.monotonic() < deadline, f"the flow still waits after {timeout:.0f}s"
        time.sleep(0.1)
    return browser.get(f"/login/flow/{flow_id}/")


def reported(done):
    """What the script's handler saw: ("success" | "fail" | "timeout", data)."""
    assert done.callback, f"no callback; the page says: {done.text[:1000]}"
    description = parse_qs(urlsplit(done.callback).query)["error_description"][0]
    outcome, _, data = description.partition(" ")
    return outcome, json.loads(data)


def call_through(browser, timeout=20.0):
    """The password, the waiting page, and what the handler saw once the worker answered."""
    password(browser)
    return reported(wait_until_moved(browser, timeout))


# ------------------------------------------------------------------ success

def test_a_call_waits_for_the_worker_and_its_json_reaches_on_success(site, remote):
    base, configure = site
    configure("httpGet('%s', {Accept: 'application/json', 'X-Request': 'r-1'}, handlers);"
              % remote.url("/api/gate?score=80"))
    browser = begin(base)
    waiting = password(browser)
    assert waiting.status_code == 200 and "Checking your sign-in" in waiting.text
    assert 'http-equiv="refresh"' in waiting.text and "js/waiting.js" in waiting.text
    flow = flow_of(browser)
    assert flow.pending["type"] == "call" and flow.pending["function"] == "httpGet"
    seen = remote.wait_for(lambda r: r.path == "/api/gate")  # the worker made the call; the server holds it
    assert seen.method == "GET" and seen.query == {"score": ["80"]}
    assert seen.headers["X-Request"] == "r-1" and seen.headers["Accept"] == "application/json"
    assert OutboundCall.objects.get(flow=flow).status == "pending"
    remote.release()
    assert reported(wait_until_moved(browser)) == ("success", {"released": True})
    call = OutboundCall.objects.get(flow=flow)
    assert (call.status, call.outcome, call.http_status, call.answered_by, call.delivered) == (
        "done", "success", 200, "worker", True)
    assert call.url == remote.url("/api/gate?score=80") and call.method == "GET"


def test_a_post_sends_json_with_basic_auth_and_a_form_when_the_script_says_so(site, remote):
    base, configure = site
    expected = "Basic YWNjb3VudDpwYXNzLXdvcmQ="  # account:pass-word
    configure("""
        httpPost('%s', {user: user.username, n: 2}, {}, {type: 'basicauth', properties: {username: 'account',
                 password: 'pass-word'}}, {
            onSuccess: function (context, data) {
                httpPost('%s', {user: user.username, tags: ['a', 'b']},
                         {'Content-Type': 'application/x-www-form-urlencoded'}, handlers);
            },
            onFail: report('fail'), onTimeout: report('timeout')
        });""" % (remote.url("/api/echo?expect=" + expected.replace(" ", "%20")), remote.url("/api/echo")))
    outcome, data = call_through(begin(base))
    first, second = remote.requests(lambda r: r.path == "/api/echo")
    assert first.method == "POST" and first.json() == {"user": "alice", "n": 2}
    assert first.headers["Authorization"] == expected and first.headers["Content-Type"] == "application/json"
    # the second call was queued by the worker that resumed the flow with the first one's outcome
    assert (outcome, data["form"], data["json"]) == ("success", {"user": ["alice"], "tags": ["a", "b"]}, None)
    assert "Authorization" not in second.headers


# ------------------------------------------------------------------ failures

@pytest.mark.parametrize("path, expected", [
    ("/api/error?status=500", ("fail", {"status": 500, "error": "HTTP 500"})),
    ("/api/error?status=404", ("fail", {"status": 404, "error": "HTTP 404"})),
    ("/api/not-json", ("fail", {"status": 200, "error": "the response is not JSON"})),
    ("/api/big?bytes=100000", ("fail", {"status": 200, "error": "the response is too large"})),
    ("/api/empty", ("success", {})),
])
def test_what_the_server_answers_decides_the_handler_and_its_data(site, remote, path, expected):
    base, configure = site
    configure("httpGet('%s', handlers);" % remote.url(path))
    assert call_through(begin(base)) == expected
    assert remote.requests(lambda r: r.path == urlsplit(path).path)


def test_a_server_that_refuses_the_connection_is_a_failure(site, remote):
    base, configure = site
    closed = f"http://127.0.0.1:{free_port()}/api"
    AllowedEndpoint.objects.create(url=closed)
    configure("httpGet('%s/score', handlers);" % closed)
    assert call_through(begin(base)) == ("fail", {"error": "could not connect"})


# ------------------------------------------------------------------ timeouts

@pytest.mark.parametrize("path", ["/api/slow?seconds=30", "/api/hang"], ids=["slow", "never-answers"])
def test_a_server_slower_than_the_timeout_or_silent_gives_on_timeout(site, remote, path):
    base, configure = site
    configure("httpGet('%s', handlers);" % remote.url(path))
    browser = begin(base)
    started = time.monotonic()
    assert call_through(browser) == ("timeout", {"error": "timed out"})
    elapsed = time.monotonic() - started
    assert CALL_TIMEOUT_SECONDS - 0.5 < elapsed < CALL_TIMEOUT_SECONDS + CALL_DEADLINE_MARGIN_SECONDS + 2
    assert remote.requests(lambda r: r.path == urlsplit(path).path)
    call = OutboundCall.objects.get()
    assert (call.outcome, call.answered_by, call.http_status) == ("timeout", "worker", None)


def test_without_a_script_timeout_handler_a_timeout_goes_to_on_fail(site, remote):
    base, configure = site
    configure("httpGet('%s', {onSuccess: report('success'), onFail: report('fail')});" % remote.url("/api/hang"))
    assert call_through(begin(base)) == ("fail", {"error": "timed out"})


@pytest.mark.parametrize("noticed_by", ["status", "page"])
def test_when_no_worker_answers_the_deadline_does(site, remote, settings, noticed_by):
    """The worker is down (nothing consumes the call's queue): whoever looks after the deadline answers timeout."""
    from authflow.celery import app

    base, configure = site
    settings.AUTHFLOW_CALL_QUEUE = f"authflow-test-nobody-{uuid.uuid4().hex[:8]}"
    configure("httpGet('%s', handlers);" % remote.url("/api/score?score=1"))
    browser = begin(base)
    try:
        waiting = password(browser)
        assert "Checking your sign-in" in waiting.text
        flow = flow_of(browser)
        call = OutboundCall.objects.get(flow=flow)
        assert status(browser).json() == {"position": flow.pending["position"], "waiting": True}
        if noticed_by == "status":
            done = wait_until_moved(browser, timeout=CALL_TIMEOUT_SECONDS + CALL_DEADLINE_MARGIN_SECONDS + 10)
        else:  # no JavaScript: the page reloads itself (<meta http-equiv="refresh">)
            deadline = time.monotonic() + CALL_TIMEOUT_SECONDS + CALL_DEADLINE_MARGIN_SECONDS + 10
            while "Checking your sign-in" in (done := browser.get(f"/login/flow/{flow.pk}/")).text:
                assert time.monotonic() < deadline, "the page still waits after the deadline"
                time.sleep(0.2)
        assert reported(done) == ("timeout", {"error": "timed out"})
        call.refresh_from_db()
        assert (call.outcome, call.answered_by, call.delivered) == ("timeout", "deadline", True)
        assert call.finished_at >= call.deadline
        assert remote.requests() == []
    finally:
        with app.connection_for_write() as conn:
            conn.default_channel.queue_purge(settings.AUTHFLOW_CALL_QUEUE)


# ------------------------------------------------------------------ the allow-list

@pytest.mark.parametrize("url, reason", [
    ("{base}/private/score", "the URL is not on the allow-list"),
    ("{base}/apix/score", "the URL is not on the allow-list"),
    ("{base}/api/../private/score", "the URL is not on the allow-list"),
    ("{base}/api/%2e%2e/private/score", "encoded dots, slashes or backslashes in the path are not allowed"),
    ("http://localhost:{port}/api/score", "the URL is not on the allow-list"),
    ("https://127.0.0.1:{port}/api/score", "the URL is not on the allow-list"),
    ("http://user:secret@127.0.0.1:{port}/api/score",
     "credentials in the URL are not allowed (use authConfig or a header)"),
    ("http://169.254.169.254/latest/meta-data/", "the URL is not on the allow-list"),
    ("file:///etc/passwd", "only http and https URLs can be called"),
], ids=["other-path", "prefix-is-not-a-segment", "dot-segments", "encoded-dots", "other-host-name", "other-scheme",
        "credentials", "metadata-address", "not-http"])
def test_a_url_not_on_the_allow_list_fails_at_once_without_any_request(site, remote, url, reason):
    base, configure = site
    url = url.format(base=remote.base, port=remote.port)
    configure("httpGet('%s', handlers);" % url)
    done = password(begin(base))  # no waiting page: onFail ran in the same request
    assert reported(done) == ("fail", {"error": "not allowed", "reason": reason})
    call = OutboundCall.objects.get()
    assert (call.status, call.outcome, call.answered_by) == ("done", "fail", "at once")
    time.sleep(0.3)  # a request made anyway would have reached the server by now
    assert remote.requests() == []


def test_an_allowed_host_name_that_resolves_to_an_internal_address_is_not_reached(site, remote):
    """localhost is on the allow-list by name, but resolves to 127.0.0.1: the worker refuses to connect."""
    base, configure = site
    AllowedEndpoint.objects.create(url=f"http://localhost:{remote.port}/api")
    configure("httpGet('http://localhost:%d/api/score', handlers);" % remote.port)
    assert call_through(begin(base)) == ("fail", {"error": "the host resolves to an internal address"})
    assert remote.requests() == []
    call = OutboundCall.objects.get()
    assert (call.outcome, call.answered_by, call.detail) == ("fail", "worker", "the host resolves to an internal address")


def test_a_header_a_script_may_not_set_or_a_bad_auth_config_fails_at_once(site, remote):
    base, configure = site
    configure("httpGet('%s', {Host: 'internal.example'}, handlers);" % remote.url("/api/score"))
    assert reported(password(begin(base))) == ("fail", {"error": "this header cannot be sent", "header": "Host"})
    for value in ["'a\\r\\nX-Injected: 1'", "'caf\\u00e9 \\u2603'"]:
        configure("httpGet('%s', {'X-Name': %s}, handlers);" % (remote.url("/api/score"), value))
        assert reported(password(begin(base))) == ("fail", {"error": "invalid header value", "header": "X-Name"})
    configure("httpGet('%s', {}, {type: 'oauth1', properties: {}}, handlers);" % remote.url("/api/score"))
    assert reported(password(begin(base))) == ("fail", {"error": "unsupported authConfig type", "type": "oauth1",
                                                        "supported": ["apikey", "basic", "bearer",
                                                                      "clientcredential"]})
    configure("httpGet('%s', {}, {type: 'clientcredential', properties: {}}, handlers);" % remote.url("/api/score"))
    assert reported(password(begin(base))) == ("fail", {
        "error": "authConfig is missing properties", "type": "clientcredential",
        "required": ["consumerKey", "consumerSecret", "tokenEndpoint"]})
    assert remote.requests() == []


def test_a_redirect_is_followed_inside_the_allow_list_only(site, remote):
    base, configure = site
    configure("httpGet('%s', handlers);" % remote.url("/api/redirect?to=/api/score%3Fscore%3D7"))
    assert call_through(begin(base)) == ("success", {"score": 7})
    remote.reset()
    configure("httpGet('%s', handlers);" % remote.url("/api/redirect?to=/private/score"))
    assert call_through(begin(base)) == ("fail", {"status": 302, "error": "redirect not allowed"})
    assert [r.path for r in remote.requests()] == ["/api/redirect"]


def test_a_script_that_keeps_calling_ends_with_an_error_naming_the_limit(site, remote, settings):
    base, configure = site
    settings.AUTHFLOW_CALL_MAX_PER_FLOW = 5
    configure("""
        for (var i = 0; i < 50; i++) { httpGet('%s', {onFail: function (context, data) {}}); }
        """ % remote.url("/private/score"))
    page = password(begin(base))
    assert page.status_code == 503 and "sign-in script failed" in page.text
    assert LoginFlow.objects.get().result["message"].startswith("the script made more than 5 asynchronous calls")
    assert OutboundCall.objects.count() == 5


# ------------------------------------------------------------------ secrets

def test_header_values_and_auth_secrets_are_sent_but_never_stored_or_logged(site, remote, worker, caplog):  # noqa: F811
    base, configure = site
    bearer, api_key = "bearer-" + "s3cr3t-" + "42", "api-" + "k3y-" + "17"  # as the script builds them
    configure("""
        var bearer = ['bearer', 's3cr3t', '42'].join('-');
        var key = ['api', 'k3y', '17'].join('-');
        httpGet('%s', {Authorization: 'Bearer ' + bearer}, {
            onSuccess: function (context, data) {
                httpPost('%s', {}, {}, {type: 'apikey', properties: {apiKey: key, headerName: 'X-Api-Key'}}, {
                    onSuccess: function (context, data) { report('success')(context, {method: data.method}); },
                    onFail: report('fail'), onTimeout: report('timeout')
                });
            },
            onFail: report('fail'), onTimeout: report('timeout')
        });""" % (remote.url("/api/gate"), remote.url("/api/echo")))
    browser = begin(base)
    password(browser)
    seen = remote.wait_for(lambda r: r.path == "/api/gate")  # the call is under way: look at what is stored
    assert seen.headers["Authorization"] == f"Bearer {bearer}"
    flow = flow_of(browser)
    assert flow.pending == {"type": "call", "function": "httpGet", "method": "GET", "url": remote.url("/api/gate"),
                            "position": 1}
    stored_while_waiting = json.dumps([flow.pending, flow.state])
    remote.release()
    assert reported(wait_until_moved(browser)) == ("success", {"method": "POST"})
    assert remote.wait_for(lambda r: r.path == "/api/echo").headers["X-Api-Key"] == api_key
    flow.refresh_from_db()
    stored = [stored_while_waiting, json.dumps([flow.pending, flow.state, flow.result])]
    stored += [json.dumps([c.url, c.detail, c.function, c.method]) for c in OutboundCall.objects.all()]
    stored += [json.dumps([e.args, e.result]) for e in EffectRecord.objects.all()]
    for secret in (bearer, api_key):
        assert not [s for s in stored if secret in s]
        assert not [r for r in caplog.records if secret in r.getMessage() or secret in str(vars(r))]
        assert secret not in worker.output(limit=10**7)


# ------------------------------------------------------------------ analytics

def test_call_analytics_posts_metadata_and_payload_and_answers_with_the_endpoint_json(site, remote):
    base, configure = site
    configure("callAnalytics({Application: 'risk', InputStream: 'logins'}, {user: user.username, decision: 'deny'}, "
              "handlers);")
    assert call_through(begin(base)) == ("success", {"decision": "deny", "seen": 1})
    event = remote.wait_for(lambda r: r.path == "/events/analytics")
    assert event.method == "POST" and event.headers["Content-Type"] == "application/json"
    assert event.json() == {"metadata": {"Application": "risk", "InputStream": "logins"},
                            "payload": {"user": "alice", "decision": "deny"}}
    assert OutboundCall.objects.get().url == remote.url("/events/analytics")


def test_publish_to_analytics_posts_once_however_often_the_script_replays(site, remote):
    from authflow.outbound import analytics

    base, configure = site
    configure("""
        var sent = publishToAnalytics({Application: 'risk', InputStream: 'logins'}, {user: user.username});
        httpGet('%s', {onSuccess: function (context, data) {
            prompt('genericForm', {title: 'Published: ' + sent, inputs: [{id: 'note', label: 'Note'}]}, {
                onSuccess: function (context) { report('published')(context, sent); }
            });
        }});""" % remote.url("/api/score?score=3"))
    browser = begin(base)
    password(browser)
    page = wait_until_moved(browser)
    assert "Published: true" in page.text, page.text
    outcome, data = reported(browser.submit({"note": "hello"}))
    assert outcome == "published" and data is True
    # Everything queued before it has been posted once this marker arrives (one worker, one queue, in order).
    assert analytics.publish({"Application": "marker"}, {})
    remote.wait_for(lambda r: r.path == "/events/analytics" and r.json()["metadata"] == {"Application": "marker"})
    events = [r.json() for r in remote.requests(lambda r: r.path == "/events/analytics")]
    assert events == [{"metadata": {"Application": "risk", "InputStream": "logins"}, "payload": {"user": "alice"}},
                      {"metadata": {"Application": "marker"}, "payload": {}}]
    assert EffectRecord.objects.filter(name="publishToAnalytics").count() == 1


def test_without_an_analytics_endpoint_call_analytics_fails_at_once_and_publish_returns_false(site, remote,
                                                                                             settings):
    base, configure = site
    settings.AUTHFLOW_ANALYTICS_URL = ""
    configure("""
        var sent = publishToAnalytics({Application: 'risk'}, {});
        callAnalytics({Application: 'risk'}, {}, {onFail: function (context, data) {
            fail({errorCode: 'access_denied', errorMessage: 'fail ' + JSON.stringify({sent: sent, data: data})});
        }});""")
    assert reported(password(begin(base))) == ("fail", {"sent": False, "data": {"error": "analytics is not configured"}})
    assert remote.requests() == []


# ------------------------------------------------------------------ the status endpoint

def test_the_status_works_only_in_the_browser_that_started_the_flow(site, remote, settings):
    base, configure = site
    configure("httpGet('%s', handlers);" % remote.url("/api/gate"))
    browser = begin(base)
    password(browser)
    flow = flow_of(browser)
    assert status(browser).json() == {"position": 1, "waiting": True}
    other = requests.get(f"{base}/login/flow/{flow.pk}/status/", timeout=30)
    assert other.status_code == 403 and set(other.json()) == {"error"}
    assert requests.get(f"{base}/login/flow/{uuid.uuid4()}/status/", timeout=30).status_code == 404
    assert requests.get(f"{base}/login/flow/not-a-flow/status/", timeout=30).status_code == 404
    # a form posted meanwhile (a stale tab, a double submit) answers nothing: the waiting page again
    token = hmac.new(settings.SECRET_KEY.encode(), f"authflow-form:{flow.pk}:{browser.session.cookies['authflow_browser']}"
                     .encode(), hashlib.sha256).hexdigest()
    again = browser.submit({"position": "1", "form_token": token, "action": "abort"}, keep=())
    assert "Checking your sign-in" in again.text
    remote.release()
    assert reported(wait_until_moved(browser)) == ("success", {"released": True})


def test_after_the_call_a_step_that_needs_no_page_is_answered_before_the_browser_comes_back(site, remote):
    """The worker resumed the flow to a session limit step that is not reached: the status settles it."""
    base, configure = site
    configure("""
        httpGet('%s', {onSuccess: function (context, data) {
            executeStep(2, {authenticatorParams: {local: {SessionExecutor: {MaxSessionCount: '3'}}}}, {});
        }});""" % remote.url("/api/gate"), steps="{1: [BasicAuthenticator], 2: [SessionExecutor]}")
    browser = begin(base)
    password(browser)
    remote.release()
    done = wait_until_moved(browser)
    assert done.callback and "code=" in done.callback, done.text[:1000]
    answers = LoginFlow.objects.get().state["journal"]["answers"]
    assert [a["k"] for a in answers] == ["step", "call", "step"] and answers[2]["r"] == "success"


# ------------------------------------------------------------------ the embedded default

def test_the_embedded_default_makes_the_call_inline_without_a_broker(site, remote, tmp_path):
    """A server with no broker (as `make run`): the call is made inside the request, no waiting page."""
    _, configure = site
    configure("httpGet('%s', handlers);" % remote.url("/api/score?score=42"))
    env = server_env(connection.settings_dict, signing_key(), AUTHFLOW_CALL_TIMEOUT_SECONDS="3")
    for name in ("CELERY_BROKER_URL", "AUTHFLOW_CACHE_URL", "AUTHFLOW_CALL_QUEUE"):
        env.pop(name, None)
    server = ServerProcess("embedded", env, tmp_path).start()
    try:
        browser = begin(server.url)
        done = password(browser)
        assert reported(done) == ("success", {"score": 42}), server.output()
        assert OutboundCall.objects.get().answered_by == "worker"
        assert remote.requests(lambda r: r.path == "/api/score")
    finally:
        server.stop()
