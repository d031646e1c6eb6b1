"""An application's authorization request starts its login in the same request, and stores the request once."""
import io
import re
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.core.management import call_command

from authflow.flows.models import LoginFlow
from tests.support.config import CALLBACK, public_app

pytestmark = pytest.mark.django_db

SCRIPT = "var onLoginRequest = function (context) { executeStep(1); };"
USERS = '\nusers:\n  - {username: alice, password: "alice-password-123"}\n'
REQUEST = {"response_type": "code", "client_id": "portal", "redirect_uri": CALLBACK, "scope": "openid",
           "state": "s-123", "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
           "code_challenge_method": "S256", "prompt": "login"}


@pytest.fixture
def portal(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("applications:\n" + public_app("portal", "{1: [BasicAuthenticator]}", SCRIPT) + USERS)
    call_command("apply", "-f", str(path), stdout=io.StringIO())


def sign_in(client, page_url):
    page = client.get(page_url)
    token = re.search(r'name="form_token" value="([^"]+)"', page.content.decode()).group(1)
    position = re.search(r'name="position" value="([^"]+)"', page.content.decode()).group(1)
    return client.post(page_url, {"form_token": token, "position": position,
                                  "username": "alice", "password": "alice-password-123"})


def test_the_authorization_request_answers_with_the_login_page_address_at_once(client, portal):
    authorize = "/o/authorize/?" + urlencode(REQUEST)
    response = client.get(authorize)
    assert response.status_code == 302 and re.fullmatch(r"/login/flow/[^/]+/", response["Location"])
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    flow = LoginFlow.objects.get()
    assert flow.return_to == {"protocol": "oidc", "request": authorize}  # the request once, nothing derived
    # Signed in: back to the same request without `prompt` (answered), where the code is issued.
    done = sign_in(client, response["Location"])
    resume = done["Location"]
    assert urlsplit(resume).path == "/o/authorize/" and "prompt" not in parse_qs(urlsplit(resume).query)
    code = client.get(resume)
    query = parse_qs(urlsplit(code["Location"]).query)
    assert code["Location"].startswith(CALLBACK) and query["state"] == ["s-123"] and query["code"]


def test_a_login_stored_before_the_request_was_kept_once_still_finishes(client, portal):
    """Flows started by the previous release (the request and what it derived, stored apart) resume."""
    authorize = "/o/authorize/?" + urlencode(REQUEST)
    page = client.get(authorize)["Location"]
    flow = LoginFlow.objects.get()
    resume = "/o/authorize/?" + urlencode({k: v for k, v in REQUEST.items() if k != "prompt"})
    flow.return_to = {"protocol": "oidc", "next": resume, "restart": authorize, "redirect_uri": CALLBACK,
                      "state": "s-123", "client_id": "portal"}
    flow.save(update_fields=["return_to"])
    done = sign_in(client, page)
    assert done["Location"] == resume
    assert client.get(resume)["Location"].startswith(CALLBACK + "?code=")


def test_a_refusal_goes_to_the_registered_redirect_uri_with_the_state(client, tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("applications:\n" + public_app("portal", "{1: [BasicAuthenticator]}", """
        var onLoginRequest = function (context) { fail({errorCode: 'access_denied', errorMessage: 'Closed today'}); };
    """) + USERS)
    call_command("apply", "-f", str(path), stdout=io.StringIO())
    response = client.get("/o/authorize/?" + urlencode(REQUEST))
    target = urlsplit(response["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == CALLBACK
    assert parse_qs(target.query) == {"error": ["access_denied"], "error_description": ["Closed today"], "state": ["s-123"]}


def test_each_authorization_request_starts_on_the_script_version_live_at_that_moment(client, portal, tmp_path):
    first = client.get("/o/authorize/?" + urlencode(REQUEST))
    # The application's live version is read with the application: a version published in between is seen.
    path = tmp_path / "changed.yaml"
    path.write_text("applications:\n" + public_app("portal", "{1: [BasicAuthenticator]}", SCRIPT + "\n// v2")
                    + USERS)
    call_command("apply", "-f", str(path), stdout=io.StringIO())
    second = client.get("/o/authorize/?" + urlencode(REQUEST))
    started = [LoginFlow.objects.get(pk=response["Location"].split("/")[3]) for response in (first, second)]
    assert [flow.sequence_version.number for flow in started] == [1, 2]
    assert "// v2" in started[1].sequence_version.source
