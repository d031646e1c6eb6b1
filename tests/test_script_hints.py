"""Script warnings and the script API's names (for the console editor's lint and completion), and version notes:
through the management API as the editor calls it, and in the console's pages."""
import re
from html import unescape

import pytest

from authflow.applications.models import Application
from sequences.api import publish_version, script_warnings
from sequences.models import Sequence, SequenceVersion
from tests.support.api import api_client
from tests.support.console import staff  # noqa: F401  (a fixture)

pytestmark = pytest.mark.django_db

V1 = """var onLoginRequest = function (context) {
    executeStep(1);
};
"""
WITH_MISTAKES = """var onLoginRequest = function (context) {
    executeStep(1, {onSuccess: function (context) {
        if (hasRoel(context.currentKnownSubject, 'admin')) {
            executeStep(3);
        }
        helper(context);
    }});
};
function helper(context) { Log.info(parseInt('1', 10) + JSON.stringify(context.request.ip)); Log.infos('x'); }
"""


@pytest.fixture
def portal(admin_user):
    sequence = Sequence.objects.create(name="portal")
    publish_version(SequenceVersion.objects.create(sequence=sequence, number=1, source=V1, author=admin_user))
    Application.objects.create(name="shop", client_id="shop", sequence=sequence,
                               steps={"1": [{"authenticator": "BasicAuthenticator", "idp": "LOCAL"}],
                                      "2": [{"authenticator": "totp", "idp": "LOCAL"}]})
    return sequence


def test_unknown_functions_and_unconfigured_steps_are_warned_at_their_line():
    warnings = script_warnings(WITH_MISTAKES, applications={"shop": {"1": [], "2": []}})
    assert [(w.line, w.column, w.message) for w in warnings] == [
        (3, 13, "hasRoel is not a function of the script API nor defined in this script"),
        (4, 25, "step 3 is not configured for application shop (its steps: 1, 2)"),
        (9, 98, "Log.infos is not a function of the script API nor defined in this script"),
    ]
    # the script's own functions, builtins and the API are not warned about; nor is a script that does not parse
    assert script_warnings(V1, applications={"shop": {"1": []}}) == []
    assert script_warnings("var onLoginRequest = function (context) { exectueStep(1) ") == []


def test_the_check_endpoint_answers_errors_and_warnings_against_the_applications_steps(portal):
    reader = api_client("sequences:read")
    answer = reader.post("/api/v1/sequences/portal/check/", {"source": WITH_MISTAKES}, format="json")
    assert answer.status_code == 200
    body = answer.json()
    assert body["errors"] == []
    assert [(w["line"], w["message"].split(" is ")[0]) for w in body["warnings"]] == [
        (3, "hasRoel"), (4, "step 3"), (9, "Log.infos")]
    broken = reader.post("/api/v1/sequences/portal/check/", {"source": "var onLoginRequest = ;"}, format="json")
    assert broken.json()["errors"][0]["line"] == 1 and broken.json()["warnings"] == []
    assert SequenceVersion.objects.filter(sequence=portal).count() == 1  # checking saves nothing
    assert reader.post("/api/v1/sequences/none/check/", {"source": V1}, format="json").status_code == 404
    assert reader.post("/api/v1/sequences/portal/check/", {"source": ["x"]}, format="json").status_code == 400


def test_the_script_api_list_is_the_runtimes_own():
    listing = api_client("sequences:read").get("/api/v1/script-api/").json()
    assert {"executeStep", "hasRole", "prompt", "sendError", "httpGet", "Log"} <= set(listing["functions"])
    assert "hasRoel" not in listing["functions"]
    assert {"info", "error"} <= set(listing["members"]["Log"])
    assert {"currentKnownSubject", "request", "steps", "serviceProviderName"} <= set(listing["context"][""])
    assert {"ip", "headers", "params", "cookies"} == set(listing["context"]["request"])
    assert {"subject", "idp", "authenticator"} <= set(listing["context"]["steps[]"])
    assert {"username", "roles", "claims", "localClaims", "userStoreDomain"} <= set(listing["context"]["user"])


def test_saving_a_version_answers_its_warnings_and_keeps_its_note(portal):
    writer = api_client("sequences:read", "sequences:write")
    etag = writer.get("/api/v1/sequences/portal/")["ETag"]
    answer = writer.post("/api/v1/sequences/portal/versions/", {"source": WITH_MISTAKES, "note": "  admins: step 3 "},
                         format="json", HTTP_IF_MATCH=etag)
    assert answer.status_code == 201
    assert [w["line"] for w in answer.json()["warnings"]] == [3, 4, 9]
    assert answer.json()["note"] == "admins: step 3"
    assert writer.get("/api/v1/sequences/portal/versions/2/").json()["note"] == "admins: step 3"
    too_long = writer.post("/api/v1/sequences/portal/versions/", {"source": V1, "note": "x" * 501}, format="json",
                           HTTP_IF_MATCH=answer["ETag"])
    assert too_long.status_code == 400 and too_long.json()["errors"][0]["field"] == "note"


def test_the_editor_saves_the_note_shows_it_in_the_versions_list_and_warns_after_saving(staff, portal):
    page = staff.get("/console/scripts/portal/edit/")
    html = page.content.decode()
    assert 'id="note"' in html and 'data-check-url="/api/v1/sequences/portal/check/"' in html
    etag = unescape(re.search(r'name="etag" value="([^"]*)"', html).group(1))
    answer = staff.post("/console/scripts/portal/edit/", {"csrfmiddlewaretoken": staff.cookies["csrftoken"].value,
                                                         "etag": etag, "source": WITH_MISTAKES,
                                                         "note": "Ask admins for step 3"}, follow=True)
    text = re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", answer.content.decode())))
    assert "Saved version 2 of portal" in text
    assert "Line 4: step 3 is not configured for application shop" in text
    assert re.search(r"v2 draft admin \S+ \S+ Ask admins for step 3", text)
    assert SequenceVersion.objects.get(sequence=portal, number=2).note == "Ask admins for step 3"
