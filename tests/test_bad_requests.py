"""Malformed, forged and out-of-place requests to every endpoint: a clear 4xx page or a redirect, never a 500.

Each request is one a browser, an application or an attacker can send; the
assertion is on what they get back (the status class, and for the login
pages a page that says what went wrong), and that the flow they aimed at
is unchanged.
"""
import base64
import contextlib
import io
import json
import re
import textwrap
import time
import uuid

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from authflow.flows.models import LoginFlow
from tests.support.config import CALLBACK, public_app

pytestmark = pytest.mark.django_db

LONG = "x" * 5000
SCRIPT = """
    var onLoginRequest = function (context) {
        executeStep(1, {onSuccess: function (context) {
            prompt('genericForm', {title: 'About you', inputs: [{id: 'fname', label: 'First Name'}]}, {
                onSuccess: function (context) { Log.info('answered'); }
            });
        }});
    };
"""


@pytest.fixture
def portal(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("applications:\n" + public_app("portal", "{1: [BasicAuthenticator]}", SCRIPT) + textwrap.dedent("""
        users:
          - {username: alice, password: "alice-password-123"}
    """))
    call_command("apply", "-f", str(path), stdout=io.StringIO())


def browser() -> Client:
    return Client(raise_request_exception=False, enforce_csrf_checks=True)


def authorize_query(**changes) -> dict:
    query = {"client_id": "portal", "response_type": "code", "scope": "openid", "redirect_uri": CALLBACK,
             "state": "s", "code_challenge": "E9Melhoa2OwvFrEMTJguCQaoWrCXFnwS4VCgf5qE_Hg",
             "code_challenge_method": "S256"}
    query.update(changes)
    return {k: v for k, v in query.items() if v is not None}


def started_flow():
    """A browser at the password page of a fresh flow, with the page's form fields."""
    client = browser()
    response = client.get("/o/authorize/", authorize_query(), follow=True)
    assert response.status_code == 200 and 'name="password"' in response.content.decode()
    flow = LoginFlow.objects.get()
    fields = dict(re.findall(r'name="(form_token|position)" value="([^"]*)"', response.content.decode()))
    return client, flow, fields


def assert_refused(response):
    assert 400 <= response.status_code < 500 or response.status_code in (301, 302, 303), response.status_code


GETS = [
    "/login/flow/not-a-uuid/", f"/login/flow/{uuid.uuid4()}/", f"/login/flow/{LONG}/",
    "/login/flow/not-a-uuid/status/", f"/login/flow/{uuid.uuid4()}/status/",
    "/login/magic/garbage/", f"/login/magic/{LONG}/", "/login/magic/%00%ff/",
    "/login/start/", "/login/start/?next=https://evil.example/", "/login/start/?next=//evil.example/",
    "/login/error/?errorCode=%3Cscript%3E&errorMsg=" + LONG,
    "/account/", f"/account/sessions/{uuid.uuid4()}/end/", "/account/sign-out/?next=https://evil.example/",
    "/o/token/", "/o/userinfo/",
]


@pytest.mark.parametrize("path", GETS)
def test_odd_gets_are_answered_without_a_server_error(portal, path):
    response = browser().get(path)
    assert response.status_code < 500, (path, response.status_code)
    location = response.headers.get("Location", "")
    assert "evil.example" not in location


POSTS = [
    ("/login/flow/not-a-uuid/", {"username": "alice"}),
    (f"/login/flow/{uuid.uuid4()}/", {"username": "alice"}),
    ("/o/token/", {"grant_type": "authorization_code", "code": "nope", "client_id": "portal"}),
    ("/o/token/", {"grant_type": "client_credentials"}),
    ("/o/token/", {}),
    ("/o/revoke_token/", {"token": LONG}),
    ("/o/introspect/", {"token": "nope"}),
    ("/account/sign-out/", {}),
]


@pytest.mark.parametrize("path, data", POSTS)
def test_odd_posts_are_answered_without_a_server_error(portal, path, data):
    response = browser().post(path, data)
    assert_refused(response)


def test_a_token_request_with_a_broken_basic_header_is_a_401_not_a_500(portal):
    for header in ("Basic !!!", "Basic " + base64.b64encode(b"no-colon").decode(), "Basic", "Bearer x" * 100):
        response = browser().post("/o/token/", {"grant_type": "authorization_code", "code": "x"},
                                  HTTP_AUTHORIZATION=header)
        assert 400 <= response.status_code < 500, (header, response.status_code)


@pytest.mark.parametrize("changes", [
    {"client_id": None}, {"client_id": "nobody"}, {"client_id": LONG},
    {"redirect_uri": "https://evil.example/callback"}, {"redirect_uri": CALLBACK + "/x"},
    {"response_type": "token"}, {"code_challenge": None}, {"code_challenge_method": "plain"},
    {"prompt": "bogus"}, {"max_age": "soon"}, {"max_age": "-1"}, {"acr_values": LONG},
], ids=str)
def test_a_bad_authorization_request_never_errs_or_redirects_elsewhere(portal, changes):
    response = browser().get("/o/authorize/", authorize_query(**changes), follow=False)
    assert response.status_code < 500, response.status_code
    location = response.headers.get("Location", "")
    assert "evil.example" not in location and not location.startswith(CALLBACK + "/x")
    assert not location.startswith(CALLBACK) or "error=" in location


REFUSED = {"out of date": (409, "This page is out of date"), "forged": (403, "This form expired")}


@pytest.mark.parametrize("form, outcome", [
    ({}, "failed attempt"),
    ({"position": "abc"}, "out of date"), ({"position": "-1"}, "out of date"),
    ({"position": "99999999999999999999"}, "out of date"),
    ({"form_token": "forged", "username": "alice", "password": "alice-password-123"}, "forged"),
    ({"form_token": "", "username": "alice", "password": "alice-password-123"}, "forged"),
    ({"username": ["alice", "bob"], "password": ["alice-password-123", "b"]}, "failed attempt"),
    ({"username": LONG * 10, "password": LONG * 10}, "failed attempt"),
    ({"action": "abortt"}, "failed attempt"), ({"option": "99"}, "failed attempt"), ({"option": "-3"}, "failed attempt"),
], ids=lambda f: ",".join(f) if isinstance(f, dict) else f)
def test_a_mangled_login_form_is_refused_or_counts_as_a_failed_attempt(portal, form, outcome):
    client, flow, fields = started_flow()
    before = LoginFlow.objects.values("revision", "state").get(pk=flow.pk)
    response = client.post(f"/login/flow/{flow.pk}/", {**fields, **form})
    after = LoginFlow.objects.get(pk=flow.pk)
    if outcome in REFUSED:
        status, heading = REFUSED[outcome]
        assert response.status_code == status and heading in response.content.decode()
        assert (after.revision, after.state) == (before["revision"], before["state"])
    else:
        # The same step again, with the failure recorded and said on the page; never a success.
        assert response.status_code == 302 and response.headers["Location"] == f"/login/flow/{flow.pk}/"
        assert after.revision == before["revision"] + 1 and after.pending["type"] == "step"
        answers = after.state["journal"]["answers"]
        assert [a.get("r") for a in answers] == ["fail"]
        page = client.get(response.headers["Location"]).content.decode()
        assert 'name="password"' in page and 'class="error" role="alert"' in page


def test_another_browser_cannot_see_or_move_someone_else_s_flow(portal):
    _, flow, fields = started_flow()
    stranger = browser()
    page = stranger.get(f"/login/flow/{flow.pk}/")
    status = stranger.get(f"/login/flow/{flow.pk}/status/")
    posted = stranger.post(f"/login/flow/{flow.pk}/", {**fields, "username": "alice",
                                                        "password": "alice-password-123"})
    for response in (page, status, posted):
        assert 400 <= response.status_code < 500 or response.status_code in (302, 303), response.status_code
    assert LoginFlow.objects.get(pk=flow.pk).revision == flow.revision


def test_one_address_can_start_only_so_many_logins_a_minute(portal, settings):
    settings.AUTHFLOW_FLOW_STARTS_PER_MINUTE = 3
    client = browser()
    started = [client.get("/o/authorize/", authorize_query(), follow=True).status_code for _ in range(3)]
    refused = client.get("/o/authorize/", authorize_query(), follow=True)
    assert started == [200, 200, 200] and LoginFlow.objects.count() == 3
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "60"
    assert "Too many sign-ins" in refused.content.decode() and LoginFlow.objects.count() == 3
    elsewhere = Client(REMOTE_ADDR="198.51.100.7").get("/o/authorize/", authorize_query(), follow=True)
    assert elsewhere.status_code == 200 and LoginFlow.objects.count() == 4


def test_an_address_that_keeps_failing_client_authentication_is_refused_before_the_secret_is_checked(
        tmp_path, settings):
    from authflow.applications.models import Application
    from tests.test_oidc import CONFIG as OIDC_CONFIG, SECRET

    path = tmp_path / "oidc.yaml"
    path.write_text(OIDC_CONFIG)
    call_command("apply", "-f", str(path), stdout=io.StringIO())
    assert Application.objects.filter(client_id="portal").exists()
    settings.AUTHFLOW_CLIENT_AUTH_FAILURE_LIMIT = 2

    def token_request(secret, address="203.0.113.5"):
        credentials = base64.b64encode(f"portal:{secret}".encode()).decode()
        return Client(REMOTE_ADDR=address).post("/o/token/", {"grant_type": "authorization_code", "code": "x",
                                                              "redirect_uri": CALLBACK},
                                                HTTP_AUTHORIZATION=f"Basic {credentials}")

    assert [token_request("wrong-secret").status_code for _ in range(2)] == [401, 401]
    refused = token_request(SECRET)  # even the right secret: the address is refused before any check
    assert refused.status_code == 429 and refused.json()["error"] == "temporarily_unavailable"
    # Another address is not affected; there the right secret gets past client authentication to the code.
    elsewhere = token_request(SECRET, address="198.51.100.7")
    assert elsewhere.status_code == 400 and elsewhere.json()["error"] == "invalid_grant"


DEAD_REDIS = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": "redis://127.0.0.1:9/0",  # nothing listens there
                          "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}}


def test_with_the_cache_unreachable_people_still_sign_in_and_nothing_is_a_500(portal, settings, caplog):
    settings.CACHES = DEAD_REDIS
    client, flow, fields = started_flow()
    wrong = client.post(f"/login/flow/{flow.pk}/", {**fields, "username": "alice", "password": "wrong-password"})
    assert wrong.status_code == 302  # the failure is counted on the account (in the database)
    page = client.get(wrong.headers["Location"])
    fields = dict(re.findall(r'name="(form_token|position)" value="([^"]*)"', page.content.decode()))
    right = client.post(f"/login/flow/{flow.pk}/", {**fields, "username": "alice", "password": "alice-password-123"},
                        follow=True)
    assert right.status_code == 200 and "About you" in right.content.decode()  # on to the script's prompt
    token = browser().post("/o/token/", {"grant_type": "authorization_code", "code": "x", "client_id": "portal"})
    assert 400 <= token.status_code < 500
    assert any(r.getMessage() == "rate limit not applied: the cache is unreachable" for r in caplog.records)


def test_with_the_cache_unreachable_an_email_step_sends_once_and_refuses_resends(portal, settings):
    from authflow.directory.models import User
    from authflow.mail import codes

    client, flow, _ = started_flow()
    alice = User.objects.get(username="alice")
    settings.CACHES = DEAD_REDIS
    assert codes.first_send(codes.Purpose.EMAIL_OTP, flow.pk, 0) is True
    codes.issue(codes.Purpose.EMAIL_OTP, alice, flow.pk, 0, 1)
    assert codes.first_send(codes.Purpose.EMAIL_OTP, flow.pk, 0) is False  # a reload sends nothing more
    with pytest.raises(codes.TooSoon):
        codes.note_resend(codes.Purpose.EMAIL_OTP, flow.pk, 0)


# PostgreSQL refuses NUL in text and JSON: a NUL anywhere a value is stored must be a 4xx, not a 500.
NUL = "a\x00b"
NUL_QUERIES = [
    ("/o/authorize/", authorize_query(state=NUL)),
    ("/o/authorize/", authorize_query(client_id=NUL)),
    ("/o/authorize/", authorize_query(login_hint=NUL)),
    ("/login/start/", {"next": "/account/" + NUL}),
    ("/login/start/", {"next": "/o/authorize/?client_id=portal&state=" + NUL}),
    ("/o/logout/", {"client_id": NUL, "post_logout_redirect_uri": CALLBACK}),
    ("/o/logout/", {"id_token_hint": NUL}),
    ("/login/error/", {"errorMsg": NUL}),
    ("/o/userinfo/", {NUL: "x"}),
]


@pytest.mark.parametrize("path, query", NUL_QUERIES, ids=lambda v: v if isinstance(v, str) else ",".join(v))
def test_a_nul_byte_in_a_query_is_a_400(portal, path, query):
    response = browser().get(path, query)
    assert response.status_code == 400, (path, response.status_code)


NUL_FORMS = [
    ("/o/token/", {"grant_type": "authorization_code", "code": NUL, "client_id": "portal", "redirect_uri": CALLBACK}),
    ("/o/token/", {"grant_type": "refresh_token", "refresh_token": NUL, "client_id": "portal"}),
    ("/o/token/", {"grant_type": "authorization_code", "code": "x", "client_id": NUL}),
    ("/o/revoke_token/", {"token": NUL, "client_id": "portal"}),
    ("/o/introspect/", {"token": NUL}),
    ("/o/logout/", {"client_id": NUL}),
    ("/account/sign-out/", {"next": NUL}),
]


@pytest.mark.parametrize("path, data", NUL_FORMS, ids=lambda v: v if isinstance(v, str) else ",".join(v))
def test_a_nul_byte_in_a_form_is_a_400(portal, path, data):
    response = browser().post(path, data)
    assert response.status_code == 400, (path, response.status_code)


@pytest.mark.parametrize("field", ["username", "password", "form_token", "position"])
def test_a_nul_byte_in_a_login_form_is_a_400_and_the_flow_is_unchanged(portal, field):
    client, flow, fields = started_flow()
    form = {**fields, "username": "alice", "password": "alice-password-123"}
    form[field] = form[field] + "\x00"
    response = client.post(f"/login/flow/{flow.pk}/", form)
    assert response.status_code == 400
    after = LoginFlow.objects.get(pk=flow.pk)
    assert (after.revision, after.state) == (flow.revision, flow.state)
    # The same browser signs in with the form as it was.
    done = client.post(f"/login/flow/{flow.pk}/", {**fields, "username": "alice", "password": "alice-password-123"})
    assert done.status_code == 302 and LoginFlow.objects.get(pk=flow.pk).revision == flow.revision + 1


@pytest.mark.parametrize("name", ["planted", "sessionid", "csrftoken", "authflow_browser"])
def test_a_planted_cookie_with_a_nul_byte_is_ignored_and_signing_in_still_works(portal, name):
    client = browser()
    client.cookies[name] = "x" * 20 + "\x00" + "y" * 22  # as long as the real ones
    response = client.get("/o/authorize/", authorize_query(), follow=True)
    assert response.status_code == 200 and 'name="password"' in response.content.decode()
    flow = LoginFlow.objects.get()
    fields = dict(re.findall(r'name="(form_token|position)" value="([^"]*)"', response.content.decode()))
    done = client.post(f"/login/flow/{flow.pk}/", {**fields, "username": "alice", "password": "alice-password-123"},
                       follow=True)
    assert done.status_code == 200 and "About you" in done.content.decode()


def test_a_nul_byte_in_a_header_is_a_400(portal):
    response = browser().get("/o/authorize/", authorize_query(), HTTP_USER_AGENT="evil\x00agent")
    assert response.status_code == 400


@pytest.mark.parametrize("token", ["é" * 64, "\u2603", "ü"])
def test_a_form_token_that_is_not_ascii_is_refused_as_forged(portal, token):
    client, flow, fields = started_flow()
    response = client.post(f"/login/flow/{flow.pk}/", {**fields, "form_token": token, "username": "alice",
                                                       "password": "alice-password-123"})
    assert response.status_code == 403 and "This form expired" in response.content.decode()
    assert LoginFlow.objects.get(pk=flow.pk).revision == flow.revision


@pytest.mark.parametrize("path", ["/o/token/", "/o/revoke_token/", "/o/introspect/"])
@pytest.mark.parametrize("pair", [b"portal\x00:secret\x00", b"portal%00:secret"])  # Basic credentials are URL-encoded
def test_client_credentials_with_a_nul_byte_are_refused_not_a_500(portal, path, pair):
    credentials = base64.b64encode(pair).decode()
    response = browser().post(path, {"grant_type": "authorization_code", "code": "x", "token": "x"},
                              HTTP_AUTHORIZATION=f"Basic {credentials}")
    assert 400 <= response.status_code < 500, response.status_code


# Bytes that are not UTF-8 where Django expects text: in a query string, a form body and the login form.
NOT_UTF8 = [
    ("/o/authorize/", "client_id=portal&response_type=code&state=%ff%fe&redirect_uri=" + CALLBACK),
    ("/login/start/", "next=%c3%28"),
    ("/login/error/", "errorCode=%80&errorMsg=%ed%a0%80"),
    ("/o/userinfo/", "access_token=%ff"),
]


@pytest.mark.parametrize("path, query", NOT_UTF8, ids=[p for p, _ in NOT_UTF8])
def test_a_query_that_is_not_utf8_is_answered_without_a_server_error(portal, path, query):
    response = browser().get(f"{path}?{query}")
    assert response.status_code < 500, (path, response.status_code)


@pytest.mark.parametrize("path", ["/o/token/", "/o/revoke_token/", "/o/introspect/", "/account/sign-out/"])
def test_a_form_body_that_is_not_utf8_is_answered_without_a_server_error(portal, path):
    body = b"grant_type=authorization_code&code=\xff\xfe&client_id=portal&token=\xc3\x28"
    response = browser().generic("POST", path, body, content_type="application/x-www-form-urlencoded")
    assert response.status_code < 500, (path, response.status_code)


def test_a_login_form_that_is_not_utf8_is_refused_and_the_flow_is_unchanged(portal):
    client, flow, fields = started_flow()
    body = (f"form_token={fields['form_token']}&position={fields['position']}"
            "&username=alice&password=%ff%fe%80").encode()
    response = client.generic("POST", f"/login/flow/{flow.pk}/", body, content_type="application/x-www-form-urlencoded")
    # Django reads the bad bytes as U+FFFD: a wrong password, shown as such, and the flow still at its step.
    assert response.status_code < 500
    page = client.get(f"/login/flow/{flow.pk}/", follow=True).content.decode()
    assert 'name="password"' in page and LoginFlow.objects.get(pk=flow.pk).status == flow.status


# ---------------------------------------------------------------- endpoints added since the probes above
# The language switch, signing out with federated providers (OpenID Connect back-channel logout, the answer to
# RP-initiated logout, SAML single logout), the brand logo, and the console's JSON endpoints (script check and
# API, saved scenarios, a flow's trace and re-run, brands).  Each probe reaches the view (no CSRF to stop it
# first) and gets a clear 4xx, never a 500, and the request writes nothing to the database.

@contextlib.contextmanager
def nothing_written():
    """No INSERT, UPDATE or DELETE runs inside the block."""
    with CaptureQueriesContext(connection) as queries:
        yield
    writes = [q["sql"] for q in queries.captured_queries
              if (q["sql"] or "").lstrip().split(" ", 1)[0].upper() in ("INSERT", "UPDATE", "DELETE")]
    assert not writes, writes


def assert_client_error(response, status=None):
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    assert status is None or response.status_code == status, (response.status_code, response.content[:300])


def not_utf8_post(client, path, body: bytes, content_type="application/x-www-form-urlencoded"):
    return client.generic("POST", path, body, content_type=content_type)


@pytest.fixture
def alice_signed_in(portal, tmp_path):
    """A browser signed in as alice (through an application without the portal's prompt)."""
    from tests.support.signin import SignInPage

    path = tmp_path / "plain.yaml"
    path.write_text("applications:\n" + public_app("plain", "{1: [BasicAuthenticator]}",
                                                   "var onLoginRequest = function (context) { executeStep(1); };"))
    call_command("apply", "-f", str(path), stdout=io.StringIO())
    page = SignInPage("plain")
    assert page.attempt("alice", "alice-password-123") == "signed in"
    return page.client


LANGUAGE_POSTS = [
    ("nul in the language", {"language": "de\x00"}, None),
    ("nul in next", {"language": "de", "next": "/account/\x00"}, None),
    ("unknown language", {"language": "xx"}, None),
    ("oversized language", {"language": "de" * 5000}, None),
    ("no language", {"next": "/account/"}, None),
    ("not utf-8", None, b"language=%ff%fe&next=%c3%28"),
    ("raw bytes", None, b"\xff\xfe\x00"),
]


@pytest.mark.parametrize("label, form, body", LANGUAGE_POSTS, ids=[p[0] for p in LANGUAGE_POSTS])
def test_a_bad_language_switch_is_a_400_and_the_preference_is_unchanged(alice_signed_in, label, form, body):
    from authflow.directory.models import User

    with nothing_written():
        response = (alice_signed_in.post("/language/", form) if body is None
                    else not_utf8_post(alice_signed_in, "/language/", body))
    assert_client_error(response, 400)
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    assert User.objects.get(username="alice").preferred_language in ("", None)


def test_a_language_switch_without_a_multipart_boundary_is_a_400(alice_signed_in):
    with nothing_written():
        response = alice_signed_in.generic("POST", "/language/", b"language=de", content_type="multipart/form-data")
    assert_client_error(response, 400)


def test_the_language_probes_reach_the_view_a_good_switch_saves_the_preference(alice_signed_in):
    # The probes above can fail: the same browser, with a valid form, writes the user's preference.
    from authflow.directory.models import User

    with pytest.raises(AssertionError):
        with nothing_written():
            response = alice_signed_in.post("/language/", {"language": "de", "next": "/account/"})
    assert response.status_code == 302 and User.objects.get(username="alice").preferred_language == "de"


# OpenID Connect back-channel logout: a provider whose discovery document and keys are in the cache (no network).
OP_ISSUER = "https://op.example"
BACKCHANNEL = "/federation/oidc/corp/backchannel-logout/"


@pytest.fixture
def op_key():
    from cryptography.hazmat.primitives.asymmetric import rsa
    from django.core.cache import cache
    from joserfc.jwk import RSAKey

    from authflow.federation.models import IdentityProvider

    key = RSAKey.import_key(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    IdentityProvider.objects.create(name="corp", protocol="oidc", issuer=OP_ISSUER, client_id="authflow")
    cache.set("authflow:federation:discovery:" + OP_ISSUER, {
        "issuer": OP_ISSUER, "authorization_endpoint": OP_ISSUER + "/auth", "token_endpoint": OP_ISSUER + "/token",
        "jwks_uri": OP_ISSUER + "/jwks", "end_session_endpoint": OP_ISSUER + "/session/end"}, 600)
    cache.set("authflow:federation:jwks:" + OP_ISSUER + "/jwks", {"keys": [key.as_dict(private=False, kid="k1")]},
              600)
    return key


def logout_token(key, **claims) -> str:
    from joserfc import jwt

    body = {"iss": OP_ISSUER, "aud": "authflow", "iat": int(time.time()), "jti": uuid.uuid4().hex, "sub": "ann",
            "events": {"http://schemas.openid.net/event/backchannel-logout": {}}}
    body.update(claims)
    return jwt.encode({"alg": "RS256", "kid": "k1"}, {k: v for k, v in body.items() if v is not None}, key)


@pytest.mark.parametrize("label, data", [
    ("no token", {}), ("empty token", {"logout_token": ""}), ("oversized token", {"logout_token": "e" * 20_001}),
    ("nul in the form", {"logout_token": "a.b.c\x00"}), ("not a jwt", {"logout_token": "a.b.c"}),
    ("signed sub with a nul", "sub"), ("signed sid with a nul", "sid"), ("signed by another key", "other key"),
    ("signed for another client", "audience"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_a_bad_back_channel_logout_is_a_400_and_ends_nothing(portal, op_key, label, data):
    from cryptography.hazmat.primitives.asymmetric import rsa
    from joserfc.jwk import RSAKey

    if data == "sub":
        data = {"logout_token": logout_token(op_key, sub="ann\x00")}
    elif data == "sid":
        data = {"logout_token": logout_token(op_key, sub=None, sid="s\x00id")}
    elif data == "other key":
        other = RSAKey.import_key(rsa.generate_private_key(public_exponent=65537, key_size=2048))
        data = {"logout_token": logout_token(other)}
    elif data == "audience":
        data = {"logout_token": logout_token(op_key, aud="someone-else")}
    with nothing_written():
        response = Client(raise_request_exception=False).post(BACKCHANNEL, data)
    assert_client_error(response, 400)
    if label != "nul in the form":  # that one is refused before the view, by authflow/nul_bytes.py (a page)
        assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize("body, content_type", [
    (b"logout_token=%ff%fe", "application/x-www-form-urlencoded"), (b"\xff\xfe\x00", "application/x-www-form-urlencoded"),
    (b'{"logout_token": "a.b.c"}', "application/json"), (b"logout_token=x", "multipart/form-data"),
], ids=["not utf-8", "raw bytes", "json", "no boundary"])
def test_a_back_channel_logout_body_that_is_not_a_form_is_a_400(portal, op_key, body, content_type):
    with nothing_written():
        response = not_utf8_post(Client(raise_request_exception=False), BACKCHANNEL, body, content_type)
    assert_client_error(response, 400)


def test_the_back_channel_probes_can_fail_a_valid_token_is_accepted_once(portal, op_key):
    token = logout_token(op_key)
    client = Client(raise_request_exception=False)
    with pytest.raises(AssertionError):  # it looks for sessions to end, and ends them (an UPDATE)
        with nothing_written():
            accepted = client.post(BACKCHANNEL, {"logout_token": token})
    assert accepted.status_code == 200 and accepted.json() == {"sessions_ended": 0}
    with nothing_written():
        replayed = client.post(BACKCHANNEL, {"logout_token": token})
    assert replayed.status_code == 400 and "jti replay" in replayed.json()["error_description"]


@pytest.mark.parametrize("query", [
    "", "state=%ff%fe", "state=" + "s" * 5000, "state=s%00", "state=" + "s" * 30 + "&state=" + "t" * 30,
], ids=["no state", "not utf-8", "oversized", "nul", "two states"])
def test_a_bad_answer_to_rp_initiated_logout_is_a_400(portal, op_key, query):
    with nothing_written():
        response = Client(raise_request_exception=False).get(f"/federation/oidc/corp/logged-out/?{query}")
    assert_client_error(response, 400)



@pytest.fixture
def saml_idp_config(portal, tmp_path):
    """A SAML provider whose metadata is inline (no IdP runs: no message here is signed by its key)."""
    import yaml

    from authflow.federation.saml_keys import new_sp_key_pair

    _, certificate = new_sp_key_pair("probe IdP")
    body = "".join(certificate.strip().splitlines()[1:-1])
    metadata = (
        '<?xml version="1.0"?><md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
        'entityID="https://idp.example/metadata"><md:IDPSSODescriptor '
        'protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:KeyDescriptor use="signing">'
        '<ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>'
        f'{body}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor><md:SingleLogoutService '
        'Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example/slo"/>'
        '<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" '
        'Location="https://idp.example/sso"/></md:IDPSSODescriptor></md:EntityDescriptor>')
    path = tmp_path / "saml.yaml"
    path.write_text(yaml.safe_dump({"identity_providers": [{
        "name": "corp", "display_name": "Corp", "protocol": "saml", "metadata_xml": metadata,
        "user_policy": "provision", "username_claim": "uid"}]}))
    call_command("apply", "-f", str(path), stdout=io.StringIO())


SHA256 = "SigAlg=http%3A%2F%2Fwww.w3.org%2F2001%2F04%2Fxmldsig-more%23rsa-sha256"


@pytest.mark.parametrize("query", [
    "", "RelayState=r", "SAMLRequest=%ff%fe", "SAMLRequest=a%00b", "SAMLRequest=&Signature=",
    "SAMLRequest=" + "x" * 200_001 + "&" + SHA256 + "&Signature=c2ln",
    "SAMLRequest=bm90IGRlZmxhdGVk&" + SHA256 + "&Signature=%ff%fe",
    "SAMLRequest=bm90IGRlZmxhdGVk&" + SHA256 + "&Signature=!!!not-base64!!!",
    "SAMLRequest=bm90IGRlZmxhdGVk&SigAlg=http%3A%2F%2Fwww.w3.org%2F2000%2F09%2Fxmldsig%23rsa-sha1&Signature=c2ln",
    "SAMLResponse=bm90IGRlZmxhdGVk&RelayState=" + "r" * 40, "SAMLResponse=x&RelayState=%ff%fe",
], ids=["nothing", "relay state only", "not utf-8", "nul", "empty", "oversized", "signature not utf-8",
        "signature not base64", "sha-1", "response to no sign-out", "relay state not utf-8"])
def test_a_bad_saml_logout_message_is_a_400(saml_idp_config, query):
    with nothing_written():
        response = Client(raise_request_exception=False).get(f"/federation/saml/corp/slo/?{query}")
    assert_client_error(response, 400)


def test_a_saml_logout_message_for_an_unknown_provider_or_by_post_is_refused(saml_idp_config):
    client = Client(raise_request_exception=False)
    with nothing_written():
        assert client.get("/federation/saml/nobody/slo/?SAMLRequest=x").status_code == 404
        assert client.post("/federation/saml/corp/slo/", {"SAMLRequest": "x"}).status_code == 405


@pytest.fixture
def logo_url(portal):
    from authflow.applications.models import Application
    from authflow.branding.services import page_brand
    from tests.support.api import api_client
    from tests.test_branding import data_url, png

    created = api_client("branding:write", name="brander").post(
        "/api/v1/brands/", {"application": "portal", "logo": data_url(png())}, format="json")
    assert created.status_code == 201, created.content
    url = page_brand(Application.objects.get(name="portal")).logo_url
    assert Client().get(url).status_code == 200  # the probes below change one part of a logo that is served
    return url


@pytest.mark.parametrize("change", [
    lambda url: re.sub(r"/logo/\d+-", "/logo/99999999999999999999-", url),  # beyond PostgreSQL's integer
    lambda url: re.sub(r"-[^./]+\.", "-%ff%fe.", url),
    lambda url: re.sub(r"-[^./]+\.", "-" + "d" * 5000 + ".", url),
    lambda url: re.sub(r"\.png$", ".%ff", url), lambda url: re.sub(r"\.png$", ".svg", url),
    lambda url: re.sub(r"\.png$", ".", url), lambda url: re.sub(r"\.png$", ".png%00", url),
], ids=["huge id", "digest not utf-8", "oversized digest", "extension not utf-8", "another extension",
        "no extension", "nul"])
def test_a_bad_logo_address_is_a_4xx(logo_url, change):
    with nothing_written():
        response = Client(raise_request_exception=False).get(change(logo_url))
    assert_client_error(response)
    assert response.get("Content-Type", "").split(";")[0] != "image/png"


# The console's JSON endpoints (/api/v1/), called with a bearer token as the console's pages call them.
@pytest.fixture
def console_api(portal):
    from tests.support.api import api_client

    client = api_client("sequences:read", "sequences:write", "flows:read", "branding:read", "branding:write",
                        name="console-probe")
    client.raise_request_exception = False
    return client


def post_json(client, path, body: bytes, method="post"):
    return getattr(client, method)(path, body, content_type="application/json")


TOO_LARGE = b'{"source": "' + b"x" * (3 * 1024 * 1024) + b'"}'
CHECKS = [
    ("nul in the source", b'{"source": "var a = 1;\\u0000"}', 400), ("not utf-8", b'{"source": "\xff\xfe"}', 400),
    ("source too long", b'{"source": "' + b"x" * (256 * 1024 + 1) + b'"}', 400), ("body too large", TOO_LARGE, 413),
    ("lone surrogate", b'{"source": "\\ud800"}', 400), ("a list", b'{"source": ["x"]}', 400),
    ("not json", b"source=x", 400), ("nul in a key", b'{"source": "", "\\u0000": 1}', 400),
]


@pytest.mark.parametrize("label, body, status", CHECKS, ids=[c[0] for c in CHECKS])
def test_a_bad_script_check_is_refused(console_api, label, body, status):
    with nothing_written():
        response = post_json(console_api, "/api/v1/sequences/portal/check/", body)
    assert_client_error(response, status)
    assert response.json()["errors"]


def test_the_script_api_refuses_writes_and_nul_queries(console_api):
    with nothing_written():
        assert_client_error(post_json(console_api, "/api/v1/script-api/", b'{"x": "\\u0000"}'))
        assert_client_error(console_api.get("/api/v1/script-api/?q=%00"), 400)
        assert_client_error(post_json(console_api, "/api/v1/script-api/", b"{}"), 405)


SAVED = {"application": {"name": "portal", "steps": {"1": ["BasicAuthenticator"]}}, "users": {"alice": {}},
         "outcomes": [{"step": 1, "result": "success", "user": "alice"}]}


def _scenario_body(scenario=None, expect=None, name="n") -> bytes:
    return json.dumps({"name": name, "scenario": scenario or SAVED,
                       "expect": expect or {"status": "success"}}).encode()


SCENARIOS = [
    ("nul in a user's claim", _scenario_body({**SAVED, "users": {"alice": {"claims": {"x": "a\x00b"}}}})),
    ("nul in a claim's name", _scenario_body({**SAVED, "users": {"alice": {"claims": {"x\x00": "a"}}}})),
    ("nul in the expected subject", _scenario_body(expect={"status": "success", "subject": "al\x00ice"})),
    ("nul in the expected steps", _scenario_body(expect={"status": "success", "steps": ["\x00"]})),
    ("not utf-8", _scenario_body().replace(b'"n"', b'"\xff"')),
    ("lone surrogate in the name", _scenario_body(name="\ud800")),
    ("oversized name", _scenario_body(name="n" * 101)),
]


@pytest.mark.parametrize("label, body", SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_a_bad_saved_scenario_is_a_400_and_saves_nothing(console_api, label, body):
    from sequences.models import SavedScenario

    with nothing_written():
        response = post_json(console_api, "/api/v1/sequences/portal/scenarios/", body)
    assert_client_error(response, 400)
    assert response.json()["errors"] and not SavedScenario.objects.exists()


def test_the_scenario_probes_can_fail_a_good_one_is_saved(console_api):
    from sequences.models import SavedScenario

    with pytest.raises(AssertionError):
        with nothing_written():
            response = post_json(console_api, "/api/v1/sequences/portal/scenarios/", _scenario_body())
    assert response.status_code == 201 and SavedScenario.objects.get().name == "n"


@pytest.mark.parametrize("path", [
    "sequences/portal/scenarios/99999999999999999999/", "sequences/portal/scenarios/99999999999999999999/run/",
    "sequences/portal/scenarios/%ff/", "sequences/" + "p" * 3000 + "/scenarios/",
], ids=["beyond integers", "run beyond integers", "not utf-8", "oversized name"])
def test_a_scenario_address_out_of_range_is_a_4xx(console_api, path):
    with nothing_written():
        assert_client_error(console_api.get("/api/v1/" + path))
        assert_client_error(post_json(console_api, "/api/v1/" + path, b"{}"))
        assert_client_error(console_api.delete("/api/v1/" + path))


@pytest.mark.parametrize("query", [
    "", "version=%ff", "version=%00", "version=" + "9" * 5000, "version=-1", "version=1.0", "version=%D9%A1",
    "version=99999999999999999999",
], ids=["none", "not utf-8", "nul", "oversized", "negative", "decimal", "arabic digit", "beyond integers"])
def test_a_bad_rerun_of_a_recorded_flow_is_a_400_and_changes_nothing(console_api, query):
    _, flow, _ = started_flow()
    with nothing_written():
        response = console_api.get(f"/api/v1/flows/{flow.pk}/rerun/?{query}")
    assert_client_error(response, 400)
    after = LoginFlow.objects.get(pk=flow.pk)
    assert (after.revision, after.state) == (flow.revision, flow.state)


@pytest.mark.parametrize("path", ["flows/not-a-uuid/trace/", "flows/%ff/trace/", f"flows/{uuid.uuid4()}/trace/",
                                  "flows/{flow}/trace/?x=%00", f"flows/{uuid.uuid4()}/rerun/?version=1",
                                  "flows/" + "f" * 5000 + "/rerun/"],
                         ids=["not a uuid", "not utf-8", "unknown", "nul", "rerun of an unknown flow", "oversized"])
def test_a_bad_trace_address_is_a_4xx(console_api, path):
    _, flow, _ = started_flow()
    with nothing_written():
        response = console_api.get("/api/v1/" + path.format(flow=flow.pk))
    assert_client_error(response)


BRANDS = [
    ("nul in the name", "post", "brands/", {"application": "portal", "display_name": "a\x00b"}),
    ("nul in a colour's name", "post", "brands/", {"application": "portal", "colors": {"accent\x00": "#7a1f5c"}}),
    ("nul in a link", "post", "brands/", {"application": "portal", "links": {"privacy": "https://a.example/\x00"}}),
    ("nul in the logo", "post", "brands/", {"application": "portal", "logo": "data:image/png;base64,\x00"}),
    ("logo not base64", "post", "brands/", {"application": "portal", "logo": "data:image/png;base64,%%%"}),
    ("logo not an image", "post", "brands/", {"application": "portal", "logo": "data:image/png;base64,aGVsbG8="}),
    ("oversized name", "post", "brands/", {"application": "portal", "display_name": "x" * 100_000}),
    ("colours not an object", "post", "brands/", {"application": "portal", "colors": "red"}),
    ("unknown application", "post", "brands/", {"application": "p" * 3000}),
    ("nul in the default", "put", "brands/default/", {"display_name": "a\x00"}),
    ("nul in a change", "patch", "brands/applications/portal/", {"display_name": "a\x00"}),
]


@pytest.mark.parametrize("label, method, path, body", BRANDS, ids=[b[0] for b in BRANDS])
def test_a_bad_brand_is_a_4xx_and_saves_nothing(console_api, label, method, path, body):
    from authflow.branding.models import Brand

    with nothing_written():
        response = post_json(console_api, "/api/v1/" + path, json.dumps(body).encode(), method)
    assert_client_error(response)
    assert response.status_code != 404 or method != "post"
    assert not Brand.objects.exists()


@pytest.mark.parametrize("body, status", [(b'{"application": "portal", "display_name": "\xff"}', 400),
                                          (b'{"application": "portal", "logo": "' + b"A" * (3 * 1024 * 1024) + b'"}',
                                           413), (b"application=portal", 400)],
                         ids=["not utf-8", "too large", "not json"])
def test_a_brand_body_that_is_not_json_is_refused(console_api, body, status):
    from authflow.branding.models import Brand

    with nothing_written():
        response = post_json(console_api, "/api/v1/brands/", body)
    assert_client_error(response, status)
    assert not Brand.objects.exists()
