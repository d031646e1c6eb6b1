"""Malformed, forged and out-of-place requests to every endpoint: a clear 4xx page or a redirect, never a 500.

Each request is one a browser, an application or an attacker can send; the
assertion is on what they get back (the status class, and for the login
pages a page that says what went wrong), and that the flow they aimed at
is unchanged.
"""
import base64
import io
import re
import textwrap
import uuid

import pytest
from django.core.management import call_command
from django.test import Client

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
