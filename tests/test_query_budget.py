"""How many SQL queries each request of a login makes: a ceiling per request, so that a change that adds
queries to the hot path fails here rather than slowing every sign-in down unnoticed (issue 18).

The ceilings are today's counts; lower them when a change saves queries.  The token request is made
without the browser's cookies, as an application's server makes it.
"""
import io
import re
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.support.config import CALLBACK, public_app

pytestmark = pytest.mark.django_db

SCRIPT = "var onLoginRequest = function (context) { executeStep(1); };"
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
REQUEST = {"response_type": "code", "redirect_uri": CALLBACK, "scope": "openid", "state": "s-1",
           "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "code_challenge_method": "S256"}

# Password login: authorization request (starts the flow), the sign-in page, the password, the
# authorization request again (the code), the token.  Single sign-on: the second application's
# authorization request (its flow runs, the session answers step 1, the code is issued).
# (Counted inside the test's transaction: each atomic block adds a SAVEPOINT and its RELEASE.)
CEILINGS = {"authorize": 4, "page": 1, "password": 17, "code": 9, "token": 11,
            "sso authorize": 15}


@pytest.fixture
def applications(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("applications:\n" + public_app("portal", "{1: [BasicAuthenticator]}", SCRIPT)
                    + public_app("wiki", "{1: [BasicAuthenticator]}", SCRIPT)
                    + '\nusers:\n  - {username: alice, password: "alice-password-123"}\n')
    call_command("apply", "-f", str(path), stdout=io.StringIO())


class Counter:
    def __init__(self):
        self.counts = {}

    def __call__(self, label, request):
        with CaptureQueriesContext(connection) as queries:
            response = request()
        self.counts[label] = len(queries.captured_queries)
        return response


def test_each_request_of_a_login_stays_within_its_query_ceiling(client, applications):
    count = Counter()
    started = count("authorize", lambda: client.get("/o/authorize/?" + urlencode({**REQUEST, "client_id": "portal"})))
    page_url = started["Location"]
    html = count("page", lambda: client.get(page_url)).content.decode()
    form = {name: re.search(rf'name="{name}" value="([^"]+)"', html).group(1) for name in ("form_token", "position")}
    signed_in = count("password", lambda: client.post(page_url, {**form, "username": "alice",
                                                                 "password": "alice-password-123"}))
    issued = count("code", lambda: client.get(signed_in["Location"]))
    code = parse_qs(urlsplit(issued["Location"]).query)["code"][0]
    token = count("token", lambda: Client().post("/o/token/", {
        "grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK, "client_id": "portal",
        "code_verifier": VERIFIER}))
    assert token.status_code == 200 and token.json()["id_token"]

    sso = count("sso authorize", lambda: client.get("/o/authorize/?" + urlencode({**REQUEST, "client_id": "wiki"})))
    # No page and no second request: the session answered the step, and the code comes with this response.
    assert sso["Location"].startswith(CALLBACK + "?code=")

    over = {label: f"{n} > {CEILINGS[label]}" for label, n in count.counts.items() if n > CEILINGS[label]}
    assert not over, f"queries per request over their ceiling: {over} (all: {count.counts})"
