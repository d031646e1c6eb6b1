"""The console's new API endpoints (saved scenarios, their run, the outline, the trace and the re-run) given bad
input: malformed JSON, a deeply nested body, a huge body, wrong types: a clear 400 (or 413), never a 500, and
nothing written."""
import pytest
from django.conf import settings

from sequences.api import save_version
from sequences.models import SavedScenario
from tests.support.api import api_client

pytestmark = pytest.mark.django_db

SCENARIO = {"application": {"name": "portal", "steps": {"1": ["BasicAuthenticator"]}}, "users": {"alice": {}},
            "outcomes": [{"step": 1, "result": "success", "user": "alice"}]}


@pytest.fixture
def writer():
    save_version("portal", "var onLoginRequest = function (context) { executeStep(1); };")
    return api_client("sequences:read", "sequences:write", "flows:read", name="writer")


def _raw(client, url, body: bytes):
    return client.post(url, body, content_type="application/json")


@pytest.mark.parametrize("body", [
    b"{", b"[]", b"null", b'"x"', b"{\"name\": 1}", b"\xff\xfe", b"[" * 5000 + b"]" * 5000,
    b'{"name": "n", "scenario": ' + b'{"a":' * 3000 + b"1" + b"}" * 3000 + b', "expect": {"status": "success"}}',
    b'{"name": "n", "scenario": ' + b'{"a":' * 900 + b"1" + b"}" * 900 + b', "expect": {"status": "success"}}',
    b'{"name": "n", "scenario": {"users": ' + b"[" * 900 + b"]" * 900 + b'}, "expect": {"status": "success"}}',
    b'{"name": "n", "scenario": {"outcomes": "x"}, "expect": {"status": "success"}}',
    b'{"name": "n\\u0000", "scenario": {}, "expect": {"status": "success"}}',
    b'{"name": "n", "scenario": {}, "expect": {"status": ["success"]}}',
])
def test_a_bad_scenario_body_is_a_400_and_saves_nothing(writer, body):
    answer = _raw(writer, "/api/v1/sequences/portal/scenarios/", body)
    assert answer.status_code == 400, (body[:60], answer.status_code, answer.content[:300])
    assert answer.json()["errors"]
    assert not SavedScenario.objects.exists()


def test_a_huge_scenario_body_is_refused_before_it_is_read(writer):
    huge = b'{"name": "n", "scenario": {"x": "' + b"x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1) + b'"}}'
    assert _raw(writer, "/api/v1/sequences/portal/scenarios/", huge).status_code == 413
    assert not SavedScenario.objects.exists()


@pytest.mark.parametrize("body", [b"{", b"[]", b'{"version": "x"}', b'{"version": 0}', b'{"version": 99}',
                                  b'{"version": 99999999999999999999}', b"[" * 5000 + b"]" * 5000])
def test_a_bad_run_body_is_a_400(writer, body):
    saved = SavedScenario.objects.create(sequence=save_version("portal", "var onLoginRequest = function (c) "
                                                                         "{ executeStep(1); };")[0].sequence,
                                         name="n", scenario=SCENARIO, expect={"status": "success"})
    answer = _raw(writer, f"/api/v1/sequences/portal/scenarios/{saved.pk}/run/", body)
    assert answer.status_code == 400, (body[:60], answer.content[:300])


@pytest.mark.parametrize("url, status", [
    ("/api/v1/sequences/portal/scenarios/999999/", 404), ("/api/v1/sequences/nope/scenarios/", 404),
    ("/api/v1/sequences/portal/versions/999999/outline/", 404), ("/api/v1/sequences/nope/versions/1/outline/", 404),
    ("/api/v1/flows/00000000-0000-0000-0000-000000000000/rerun/?version=1", 404)])
def test_unknown_ids_are_a_404(writer, url, status):
    assert writer.get(url).status_code == status
