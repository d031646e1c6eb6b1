"""httpGet/httpPost with the reference API's authConfig types, and callChoreo, in real logins.

The fixture scripts (tests/scripts/wso2/http_*.js) call https://risk.example.com; here that
origin is the local HTTP peer (tests/support/http_server.py), whose /token is an OAuth 2.0
token endpoint and whose /protected admits only the credentials the test says.  A real
Celery worker makes the calls (tests/support/worker.py); the login runs over HTTP.
"""
import io
import json
import textwrap
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command

from authflow.flows.models import LoginFlow
from authflow.outbound.models import AllowedEndpoint, OutboundCall
from authflow.vault.models import Secret
from tests.support.config import public_app
from tests.test_outbound import PASSWORD, begin, flow_of, http_server, password, remote, wait_until_moved  # noqa: F401
from tests.support.worker import mail_worker, worker  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)

SCRIPTS = Path(__file__).parent / "scripts" / "wso2"
EXAMPLE_ORIGIN = "https://risk.example.com"


def fixture_script(name: str, remote) -> str:
    return (SCRIPTS / name).read_text().replace(EXAMPLE_ORIGIN, remote.base)


def put_secret(name: str, value: str) -> None:
    secret = Secret(name=name)
    secret.set_value(value)
    secret.save()


@pytest.fixture
def site(live_server, worker, remote, tmp_path):  # noqa: F811
    """install(script) applies the application "risk" (a password, then an authenticator app) with `script`;
    scripts may call the HTTP peer's /api/ only (tests add /oauth2 when they mean it)."""
    AllowedEndpoint.objects.create(url=remote.url("/api"), description="the risk service")

    def install(script: str, roles: str = "[]", claims: str = "{}"):
        path = tmp_path / "risk.yaml"
        path.write_text("roles: [admin]\napplications:\n"
                        + public_app("risk", "{1: [BasicAuthenticator], 2: [totp]}", script)
                        + textwrap.dedent(f"""
                            users:
                              - {{username: alice, password: "{PASSWORD}", email: alice@example.com, roles: {roles},
                                 claims: {claims}}}
                            """))
        call_command("apply", "-f", str(path), stdout=io.StringIO())

    return live_server.url, install


def login(base):
    """The password, then whatever the call led to: ("signed in" | "step 2" | "failed", detail)."""
    browser = begin(base)
    password(browser)
    done = wait_until_moved(browser)
    if done.callback:
        query = parse_qs(urlsplit(done.callback).query)
        if "code" in query:
            return "signed in", None
        return "failed", query.get("error_description", [""])[0]
    pending = LoginFlow.objects.get(pk=flow_of(browser).pk).pending
    assert pending["type"] == "step", done.text[:1000]
    return f"step {pending['step']}", None


def protected_requests(remote):
    return remote.requests(lambda r: r.path == "/api/protected")


# ------------------------------------------------------------------ basic

def test_basic_auth_config_sends_the_reference_properties_as_http_basic(site, remote):
    base, install = site
    install(fixture_script("http_basic_risk.js", remote))
    remote.accept("Authorization", "Basic cmlzay1jbGllbnQ6cmlzay1jbGllbnQtcGFzc3dvcmQ=")  # risk-client:risk-client-password
    assert login(base) == ("signed in", None)  # the service admitted the call; the address is not a risky one
    (seen,) = protected_requests(remote)
    assert seen.method == "POST" and seen.json() == {"user": "alice", "ip": "127.0.0.1"}


def test_basic_auth_config_refused_by_the_service_takes_the_scripts_on_fail(site, remote):
    base, install = site
    install(fixture_script("http_basic_risk.js", remote))
    remote.accept("Authorization", "Basic c29tZW9uZS1lbHNl")  # not what the script sends
    assert login(base) == ("failed", "risk service: HTTP 401")


# ------------------------------------------------------------------ bearer and apikey

def test_bearer_then_apikey_with_its_own_header_name(site, remote):
    base, install = site
    install(fixture_script("http_bearer_apikey.js", remote))
    remote.accept("Authorization", "Bearer profile-service-token")
    remote.accept("X-Audit-Key", "audit-key-1")
    assert login(base) == ("signed in", None)
    first, second = protected_requests(remote)
    assert first.headers["Authorization"] == "Bearer profile-service-token" and "X-Audit-Key" not in first.headers
    assert second.headers["X-Audit-Key"] == "audit-key-1" and "Authorization" not in second.headers
    assert second.json() == {"event": "login", "user": "alice"}


def test_an_api_key_in_the_wrong_header_is_refused_by_the_service(site, remote):
    base, install = site
    install(fixture_script("http_bearer_apikey.js", remote))
    remote.accept("Authorization", "Bearer profile-service-token")
    remote.accept("X-Api-Key", "audit-key-1")  # the service wants it elsewhere than the script puts it
    assert login(base) == ("failed", "audit: HTTP 401")


# ------------------------------------------------------------------ clientcredential

@pytest.fixture
def oauth(remote):
    """The risk application's client at the peer's token endpoint, which the allow-list names."""
    client = "risk-app"
    secret = "risk-secret-" + uuid.uuid4().hex  # a fresh secret: no token cached by another test applies
    remote.add_client(client, secret)
    put_secret("riskAppSecret", secret)
    AllowedEndpoint.objects.create(url=remote.url("/oauth2/token"), description="the risk service's token endpoint")
    return client, secret


def token_requests(remote):
    return remote.requests(lambda r: r.path == "/oauth2/token")


def test_clientcredential_gets_a_token_and_the_service_admits_it(site, remote, oauth):
    base, install = site
    install(fixture_script("http_clientcredential_risk.js", remote))
    assert login(base) == ("signed in", None)
    (asked,) = token_requests(remote)
    assert parse_qs(asked.body.decode()) == {"grant_type": ["client_credentials"], "scope": ["risk:read"]}
    (seen,) = protected_requests(remote)
    assert seen.headers["Authorization"].startswith("Bearer ") and seen.query == {"user": ["alice"]}


def test_clientcredential_alternative_path_an_admin_steps_up(site, remote, oauth):
    base, install = site
    install(fixture_script("http_clientcredential_risk.js", remote), roles="[admin]")
    assert login(base) == ("step 2", None)


def test_a_token_is_reused_by_the_next_login_and_fetched_again_after_a_401(site, remote, oauth):
    base, install = site
    install(fixture_script("http_clientcredential_risk.js", remote))
    assert login(base) == ("signed in", None)
    assert login(base) == ("signed in", None)
    assert len(token_requests(remote)) == 1  # the second login used the cached token
    first, second = protected_requests(remote)
    assert first.headers["Authorization"] == second.headers["Authorization"]
    remote.revoke_tokens()  # the service no longer takes that token: one new token, one more try
    assert login(base) == ("signed in", None)
    assert len(token_requests(remote)) == 2
    refused, admitted = protected_requests(remote)[2:]
    assert refused.headers["Authorization"] == first.headers["Authorization"]
    assert admitted.headers["Authorization"] != first.headers["Authorization"]


def test_a_wrong_client_secret_gets_no_token_and_never_the_cached_one(site, remote, oauth):
    base, install = site
    install(fixture_script("http_clientcredential_risk.js", remote))
    assert login(base) == ("signed in", None)  # a token for the right secret is now cached
    Secret.objects.filter(name="riskAppSecret").delete()
    put_secret("riskAppSecret", "a-wrong-secret")
    assert login(base) == ("failed", "risk service: could not get an access token")
    assert len(protected_requests(remote)) == 1


def test_a_token_endpoint_not_on_the_allow_list_fails_at_once(site, remote):
    base, install = site
    remote.add_client("risk-app", "risk-secret")
    put_secret("riskAppSecret", "risk-secret")
    install(fixture_script("http_clientcredential_risk.js", remote))
    assert login(base) == ("failed", "risk service: not allowed")
    call = OutboundCall.objects.get()
    assert (call.outcome, call.answered_by) == ("fail", "at once")
    assert "token endpoint is not on the allow-list" in call.detail
    assert remote.requests() == []


def test_client_secrets_and_tokens_are_never_stored_or_logged(site, remote, oauth, worker, caplog):  # noqa: F811
    base, install = site
    _, secret = oauth
    install(fixture_script("http_clientcredential_risk.js", remote))
    assert login(base) == ("signed in", None)
    token = protected_requests(remote)[0].headers["Authorization"].split(" ", 1)[1]
    flow = LoginFlow.objects.get()
    stored = json.dumps([flow.pending, flow.state, flow.result])
    stored += json.dumps([[c.url, c.detail] for c in OutboundCall.objects.all()])
    logs = worker.output(limit=10**7) + "".join(r.getMessage() + str(vars(r)) for r in caplog.records)
    for value in (secret, token):
        assert value not in stored and value not in logs


# ------------------------------------------------------------------ callChoreo

@pytest.fixture
def choreo(remote, settings):
    client, secret = "choreo-app", "choreo-secret-" + uuid.uuid4().hex
    remote.add_client(client, secret)
    put_secret("choreoAppSecret", secret)
    settings.AUTHFLOW_CHOREO_TOKEN_ENDPOINT = remote.url("/choreo/oauth2/token")  # the operator's: not allow-listed
    return client, secret


@pytest.mark.parametrize("country, expected", [("LK", ("signed in", None)), ("FR", ("step 2", None))])
def test_call_choreo_posts_the_payload_with_a_client_credentials_token(site, remote, choreo, country, expected):
    base, install = site
    install(fixture_script("http_choreo_risk.js", remote),
            claims='{"http://wso2.org/claims/country": "%s"}' % country)
    browser = begin(base)
    password(browser)
    done = wait_until_moved(browser)
    if expected[0] == "signed in":
        assert "code" in parse_qs(urlsplit(done.callback).query)
    else:
        assert LoginFlow.objects.get(pk=flow_of(browser).pk).pending["step"] == 2
    (asked,) = remote.requests(lambda r: r.path == "/choreo/oauth2/token")
    assert parse_qs(asked.body.decode()) == {"grant_type": ["client_credentials"]}
    (seen,) = protected_requests(remote)
    assert seen.method == "POST" and seen.json() == {"user": "alice", "country": country}
    assert seen.headers["Content-Type"] == "application/json"


def test_call_choreo_without_its_secret_or_its_setting_fails_at_once(site, remote, settings):
    base, install = site
    install(fixture_script("http_choreo_risk.js", remote))
    settings.AUTHFLOW_CHOREO_TOKEN_ENDPOINT = remote.url("/choreo/oauth2/token")
    assert login(base) == ("failed", "choreo: no such secret")
    settings.AUTHFLOW_CHOREO_TOKEN_ENDPOINT = ""
    assert login(base) == ("failed", "choreo: Choreo is not configured")
    assert remote.requests() == []


# ------------------------------------------------------------------ the worker's side of client credentials

def cc_request(remote, path="/api/protected", token_path="/oauth2/token", client=None, secret="s"):
    client = client or "c-" + uuid.uuid4().hex  # a client of its own: no token another test cached applies
    return {"function": "httpGet", "method": "GET", "url": remote.url(path), "headers": {},
            "clientCredential": {"tokenEndpoint": remote.url(token_path), "consumerKey": client,
                                 "consumerSecret": secret}}


def make(request, timeout=3.0):
    from authflow.outbound import credentials

    return credentials.perform(request, timeout=timeout, max_bytes=65536)


@pytest.mark.parametrize("token_path, expected", [
    ("/oauth2/token", ("fail", {"error": "could not get an access token", "status": 401})),  # unknown client
    ("/oauth2/not-json", ("fail", {"error": "could not get an access token", "status": 200})),
    ("/oauth2/error?status=503", ("fail", {"error": "could not get an access token", "status": 503})),
    ("/oauth2/slow?seconds=5", ("timeout", {"error": "timed out"})),
], ids=["unknown-client", "not-json", "token-endpoint-down", "token-endpoint-slow"])
def test_no_token_is_the_calls_failure_or_timeout_and_the_api_is_not_called(remote, token_path, expected):
    outcome = make(cc_request(remote, token_path=token_path), timeout=1.5)
    assert (outcome.result, outcome.data) == expected
    assert protected_requests(remote) == []


def test_a_401_after_a_fresh_token_is_the_calls_outcome(remote):
    client = "refused-" + uuid.uuid4().hex
    remote.add_client(client, "s")
    outcome = make(cc_request(remote, path="/api/error?status=401", client=client))
    assert (outcome.result, outcome.data) == ("fail", {"status": 401, "error": "HTTP 401"})
    assert len(token_requests(remote)) == 2 and len(remote.requests(lambda r: r.path == "/api/error")) == 2


def test_a_token_about_to_expire_is_not_cached(remote):
    client = "short-" + uuid.uuid4().hex
    remote.add_client(client, "s")
    remote.token_lifetime = 20  # less than the margin: each call asks for a token
    try:
        for _ in range(2):
            assert make(cc_request(remote, client=client)).result == "success"
    finally:
        remote.token_lifetime = 3600
    assert len(token_requests(remote)) == 2
    remote.reset()
    remote.add_client(client, "s")
    for _ in range(2):
        assert make(cc_request(remote, client=client)).data["authorized"] is True
    assert len(token_requests(remote)) == 1


def test_stored_commands_keep_no_connection_or_payload_of_call_choreo():
    from authflow.outbound.calls import stored_command

    command = {"type": "call", "function": "callChoreo", "method": "POST", "url": "https://x.example/api",
               "connection": {"consumerKey": "k", "consumerSecret": "s"}, "payload": {"user": "alice"}, "position": 2}
    assert stored_command(command) == {"type": "call", "function": "callChoreo", "method": "POST",
                                       "url": "https://x.example/api", "position": 2}


def test_a_cached_token_is_sealed_in_the_shared_cache(remote):
    import os

    import redis

    client = "sealed-" + uuid.uuid4().hex
    remote.add_client(client, "s")
    assert make(cc_request(remote, client=client)).result == "success"
    token = protected_requests(remote)[0].headers["Authorization"].split(" ", 1)[1]
    store = redis.Redis.from_url(os.environ["AUTHFLOW_CACHE_URL"])
    keys = store.keys("*authflow:outbound:token:*")
    assert keys, "no token was cached"
    values = b"".join(store.get(key) or b"" for key in keys)
    assert token.encode() not in values and client.encode() not in b"".join(keys)
