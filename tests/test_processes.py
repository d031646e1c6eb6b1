"""Resumability across server processes: real `runserver` processes on one PostgreSQL database.

A login's durable state is its journal in the database, so any process can take the
next round trip: a login started on one server finishes on another, and one whose
server is killed (SIGKILL) between two steps finishes on the restarted server.
Scale-out as deployed: two gunicorn nodes (several workers each) sharing PostgreSQL and
Redis, with a Celery worker sending the login's email code.
The tests drive the login over HTTP like a browser and redeem the code like a client.
"""
import io
import re
import secrets
import textwrap
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from django.core.management import call_command
from django.db import connection
from joserfc import jwt
from joserfc.jwk import KeySet

from authflow.directory.claims import read_claims
from authflow.directory.models import User
from authflow.flows.models import EffectRecord, LoginFlow
from tests.support.browser import Browser
from tests.support.servers import ServerProcess, server_env, signing_key
from tests.support.worker import mail_worker, mailer  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db(transaction=True)

CALLBACK = "http://127.0.0.1:9/callback"
SECRET = "portal-secret-0123456789"
GIVEN_NAME = "http://wso2.org/claims/givenname"
TICKET = "http://example.com/claims/ticket"
# Two interactive round trips: the password, then a prompt.  `user` and `ticket` are
# captured by step 1's onSuccess and used after the prompt was answered; the ticket is
# random (journaled), shown on the prompt page and stored with the answer.
CONFIG = textwrap.dedent(f"""
    applications:
      - name: portal
        client_id: portal
        client_secret: {SECRET}
        redirect_uris: ["{CALLBACK}"]
        steps: {{1: [BasicAuthenticator]}}
        script: |
          var onLoginRequest = function (context) {{
              executeStep(1, {{onSuccess: function (context) {{
                  var user = context.currentKnownSubject;
                  var ticket = 'T' + Math.floor(Math.random() * 1000000000);
                  prompt('genericForm', {{title: 'Choose a nickname', message: 'Your ticket is ' + ticket + '.',
                                          inputs: [{{id: 'nickname', label: 'Nickname'}}]}}, {{
                      onSuccess: function (context) {{
                          user.localClaims['{GIVEN_NAME}'] = context.request.params.nickname[0];
                          user.localClaims['{TICKET}'] = ticket;
                      }}
                  }});
              }}}});
          }};
    users:
      - {{username: alice, password: "alice-password-123", email: alice@example.com, first_name: Alice}}
""")


@pytest.fixture
def servers(transactional_db, tmp_path):
    """A factory of server processes sharing the test database and one signing key; all stopped at teardown."""
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG)
    call_command("apply", "-f", str(path), stdout=io.StringIO())
    env = server_env(connection.settings_dict, signing_key())
    started = []

    def make(*names):
        procs = [ServerProcess(name, env, tmp_path) for name in names]
        started.extend(procs)
        for proc in procs:  # start them side by side, then wait for each
            proc.spawn()
        for proc in procs:
            proc.wait_ready()
        return procs

    yield make
    for proc in started:
        proc.stop()


def discover(server):
    return requests.get(server.url + "/o/.well-known/openid-configuration", timeout=10).json()


def client_for(discovery):
    return OAuth2Session("portal", SECRET, scope="openid profile email", redirect_uri=CALLBACK,
                         code_challenge_method="S256", token_endpoint=discovery["token_endpoint"])


def begin(server, discovery):
    """The application sends the browser to `server`'s authorization endpoint: the password page."""
    browser = Browser(server.url, stop_at=CALLBACK)
    client = client_for(discovery)
    verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
    uri, state = client.create_authorization_url(discovery["authorization_endpoint"], code_verifier=verifier,
                                                 nonce=nonce)
    page = browser.get(uri)
    assert page.status_code == 200 and 'name="password"' in page.text, page.text
    return browser, verifier, nonce, state


def ticket_on(page):
    match = re.search(r"Your ticket is (T\d+)\.", page.text)
    assert page.status_code == 200 and "Choose a nickname" in page.text and match, page.text
    return match.group(1)


def flow_path(page):
    path = urlsplit(page.url).path
    assert path.startswith("/login/flow/"), page.url
    return path


def validated_id_token(token, jwks, issuer, nonce):
    decoded = jwt.decode(token["id_token"], KeySet.import_key_set(jwks), algorithms=["RS256"])  # the signature
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": "portal"},
        nonce={"essential": True, "value": nonce},
        exp={"essential": True},
    ).validate(decoded.claims)  # and exp, nbf, iat
    return decoded.claims


def effects_of(flow):
    return [(e.index, e.name, e.args) for e in EffectRecord.objects.filter(flow=flow).order_by("index")]


def test_a_login_started_on_one_server_finishes_on_another(servers):
    a, b = servers("a", "b")
    at_a, at_b = discover(a), discover(b)
    # One deployment: both processes publish the same signing key.
    jwks_a = requests.get(at_a["jwks_uri"], timeout=10).json()
    assert jwks_a == requests.get(at_b["jwks_uri"], timeout=10).json() and jwks_a["keys"]

    # The application knows server A only; the browser starts there and passes step 1 there.
    browser, verifier, nonce, state = begin(a, at_a)
    prompt_page = browser.submit({"username": "alice", "password": "alice-password-123"})
    assert prompt_page.url.startswith(a.url)
    ticket = ticket_on(prompt_page)
    path = flow_path(prompt_page)
    # Server B shows the same prompt (the same ticket) for that login ...
    assert ticket_on(browser.session.get(b.url + path, timeout=10)) == ticket
    # ... and takes the answer to the form server A rendered: it replays the script and finishes.
    done = browser.submit({"nickname": "Ally"}, url=b.url + path)
    assert done.callback and done.url.startswith(b.url + "/o/authorize"), (done.status_code, done.text)
    query = parse_qs(urlsplit(done.callback).query)
    assert query["state"] == [state] and "error" not in query and query["code"]

    # B issued the code; the application redeems it at A, the only server it knows.
    client = client_for(at_a)
    token = client.fetch_token(authorization_response=done.callback, code_verifier=verifier)
    # The ID token's issuer is derived from the host of the request that made the token (the token
    # endpoint's, port included; django-oauth-toolkit without OIDC_ISS_ENDPOINT), so it is A's issuer,
    # the one the application discovered. Behind one host name both processes have one issuer; here
    # the two ports make two issuers that differ by the port only.
    assert at_a["issuer"] != at_b["issuer"] and at_a["issuer"].replace(str(a.port), str(b.port)) == at_b["issuer"]
    # Signed with the shared key: B's published keys verify it as well as A's.
    claims = validated_id_token(token, requests.get(at_b["jwks_uri"], timeout=10).json(), at_a["issuer"], nonce)
    assert claims == validated_id_token(token, jwks_a, at_a["issuer"], nonce)
    # The nickname typed on B reached the script, the directory and the tokens.
    assert claims["preferred_username"] == "alice" and claims["given_name"] == "Ally"
    assert client.get(at_b["userinfo_endpoint"], timeout=10).json()["given_name"] == "Ally"  # A's token, at B

    # The closure values captured on A (the user, the random ticket shown on A's page) were used on B.
    user = User.objects.get(username="alice")
    assert user.first_name == "Ally" and read_claims(user)[TICKET] == ticket
    flow = LoginFlow.objects.get()
    assert flow.status == LoginFlow.Status.SUCCEEDED and flow.subject == "alice"
    assert effects_of(flow) == [(0, "setLocalClaim", ["alice", GIVEN_NAME, "Ally"]),
                                (1, "setLocalClaim", ["alice", TICKET, ticket])]


def test_a_login_finishes_after_its_server_was_killed_and_restarted(servers):
    (a,) = servers("a")
    discovery = discover(a)
    jwks = requests.get(discovery["jwks_uri"], timeout=10).json()
    browser, verifier, nonce, state = begin(a, discovery)
    prompt_page = browser.submit({"username": "alice", "password": "alice-password-123"})
    ticket = ticket_on(prompt_page)
    path = flow_path(prompt_page)

    # Between the two steps the server process dies (SIGKILL: nothing is flushed or closed).
    killed = a.pid
    a.kill()
    with pytest.raises(requests.ConnectionError):
        browser.session.get(a.url + path, timeout=5)
    a.start()  # a new process on the same port
    assert a.pid != killed

    # The user reloads the page: the same prompt, the same ticket.
    assert ticket_on(browser.get(path)) == ticket
    done = browser.submit({"nickname": "Kit"})
    assert done.callback, (done.status_code, done.text)
    query = parse_qs(urlsplit(done.callback).query)
    assert query["state"] == [state] and "error" not in query
    token = client_for(discovery).fetch_token(authorization_response=done.callback, code_verifier=verifier)
    # The keys fetched before the crash still verify tokens of the new process.
    assert requests.get(discovery["jwks_uri"], timeout=10).json() == jwks
    claims = validated_id_token(token, jwks, discovery["issuer"], nonce)
    assert claims["preferred_username"] == "alice" and claims["given_name"] == "Kit"

    flow = LoginFlow.objects.get()
    assert flow.status == LoginFlow.Status.SUCCEEDED and flow.subject == "alice"
    user = User.objects.get(username="alice")
    assert user.first_name == "Kit" and read_claims(user)[TICKET] == ticket
    # Each claim write applied exactly once ...
    expected = [(0, "setLocalClaim", ["alice", GIVEN_NAME, "Kit"]), (1, "setLocalClaim", ["alice", TICKET, ticket])]
    assert effects_of(flow) == expected
    # ... and the answer sent again (a double submit) changes nothing.
    browser.page = prompt_page
    again = browser.submit({"nickname": "Kat"})
    assert again.status_code == 409 and "already finished" in again.text
    assert effects_of(flow) == expected and User.objects.get(username="alice").first_name == "Kit"


# The scale-out test's application: a password, then a code sent by email (by the Celery worker).
EMAIL_CODE_CONFIG = textwrap.dedent(f"""
    applications:
      - name: portal
        client_id: portal
        client_secret: {SECRET}
        redirect_uris: ["{CALLBACK}"]
        steps: {{1: [BasicAuthenticator], 2: [email-otp]}}
        script: |
          var onLoginRequest = function (context) {{ executeStep(1); executeStep(2); }};
    users:
      - {{username: alice, password: "alice-password-123", email: alice@example.com, first_name: Alice}}
""")


@pytest.fixture
def nodes(transactional_db, mailer, tmp_path):
    """Two web nodes as deployed: gunicorn, 2 workers x 2 threads each, on their own ports, sharing the test
    database, Redis (cache and broker, from the environment) and the signing key; emails go to the queue
    of the session's Celery worker, which sends them to the test's SMTP server."""
    path = tmp_path / "config.yaml"
    path.write_text(EMAIL_CODE_CONFIG)
    call_command("apply", "-f", str(path), stdout=io.StringIO())
    env = server_env(connection.settings_dict, signing_key(), AUTHFLOW_MAIL_QUEUE=mailer.queue)
    assert env.get("CELERY_BROKER_URL") and env.get("AUTHFLOW_CACHE_URL"), "the nodes share Redis"
    started = [ServerProcess(name, env, tmp_path, workers=2, threads=2) for name in ("a", "b")]
    for node in started:
        node.spawn()
    try:
        for node in started:
            node.wait_ready()
        yield started
    finally:
        for node in started:
            node.stop()


def test_two_gunicorn_nodes_share_a_login_whose_email_code_the_celery_worker_sends(nodes, mailer):
    a, b = nodes
    assert len(a.worker_pids()) == 2 and len(b.worker_pids()) == 2 and not a.worker_pids() & b.worker_pids()
    at_a = discover(a)
    browser, verifier, nonce, state = begin(a, at_a)
    # Node A checks the password and issues the email code; the worker sends it (the nodes have no SMTP
    # server of their own: only the worker is pointed at the test's).
    code_page = browser.submit({"username": "alice", "password": "alice-password-123"})
    assert code_page.status_code == 200 and "Check your email" in code_page.text, code_page.text
    assert code_page.url.startswith(a.url)
    message = mailer.inbox.wait_for(lambda m: m.to == ["alice@example.com"])
    mailer.worker.wait_for_output("authflow.mail.send_message")
    path = flow_path(code_page)

    # Node B shows the same login's code page and takes the code: it finishes the login and issues the code.
    assert "Check your email" in browser.session.get(b.url + path, timeout=10).text
    done = browser.submit({"code": message.code()}, url=b.url + path)
    assert done.callback and done.url.startswith(b.url + "/o/authorize"), (done.status_code, done.text)
    query = parse_qs(urlsplit(done.callback).query)
    assert query["state"] == [state] and "error" not in query and query["code"]

    # The application redeems B's code at A: one deployment, one signing key, one session store.
    token = client_for(at_a).fetch_token(authorization_response=done.callback, code_verifier=verifier)
    claims = validated_id_token(token, requests.get(at_a["jwks_uri"], timeout=10).json(), at_a["issuer"], nonce)
    assert claims["preferred_username"] == "alice" and claims["amr"] == ["pwd", "otp", "mfa"]
    flow = LoginFlow.objects.get()
    assert flow.status == LoginFlow.Status.SUCCEEDED and flow.subject == "alice"
    assert len(mailer.inbox.matching(lambda m: m.to == ["alice@example.com"])) == 1  # sent once, by the worker
