"""Saved scenarios through the management API: saved with a login script, rerun on each new version, and the
publish gate: a version failing one is refused (409) unless the request overrides, which the audit log records."""
import pytest

from authflow.api.models import AuditEntry
from sequences.models import Sequence
from tests.support.api import api_client
from tests.support.scenarios import ADMIN_EXPECT, SCENARIO_NAME, V1, V2, admin_scenario

pytestmark = pytest.mark.django_db

ADMIN_SCENARIO = admin_scenario("portal")


@pytest.fixture
def writer():
    return api_client("sequences:read", "sequences:write", name="writer")


@pytest.fixture
def reader():
    return api_client("sequences:read", name="reader")


def etag(client, name="portal"):
    return client.get(f"/api/v1/sequences/{name}/")["ETag"]


def add_version(client, source, name="portal"):
    answer = client.post(f"/api/v1/sequences/{name}/versions/", {"source": source}, format="json",
                         HTTP_IF_MATCH=etag(client, name))
    assert answer.status_code == 201, answer.content
    return answer.json()["number"]


def publish(client, number, **extra):
    return client.post("/api/v1/sequences/portal/publish/", {"version": number, **extra}, format="json",
                       HTTP_IF_MATCH=etag(client))


@pytest.fixture
def portal(writer):
    assert writer.post("/api/v1/sequences/", {"name": "portal"}, format="json").status_code == 201
    add_version(writer, V1)
    assert publish(writer, 1).status_code == 200
    return Sequence.objects.get(name="portal")


def save(client, name=SCENARIO_NAME, scenario=None, expect=None):
    return client.post("/api/v1/sequences/portal/scenarios/",
                       {"name": name, "scenario": scenario or ADMIN_SCENARIO, "expect": expect or ADMIN_EXPECT},
                       format="json")


def results(client, scenario_id):
    answer = client.get(f"/api/v1/sequences/portal/scenarios/{scenario_id}/")
    return {r["version"]: r["passed"] for r in answer.json()["results"]}


def test_save_list_run_and_delete_a_scenario(writer, reader, portal):
    answer = save(writer)
    assert answer.status_code == 201, answer.content
    saved = answer.json()
    assert saved["results"] == [{"version": 1, "passed": True, "status": "success", "reasons": []}]
    assert saved["author"] is None and saved["expect"] == ADMIN_EXPECT

    listed = reader.get("/api/v1/sequences/portal/scenarios/").json()
    assert [s["name"] for s in listed["results"]] == ["admins pass a second factor"]

    run = reader.post(f"/api/v1/sequences/portal/scenarios/{saved['id']}/run/", {"version": 1}, format="json")
    assert run.status_code == 200 and run.json()["passed"] is True and run.json()["scenario"] == saved["name"]
    assert reader.post(f"/api/v1/sequences/portal/scenarios/{saved['id']}/run/", {"version": 9},
                       format="json").json()["errors"][0]["field"] == "version"

    assert reader.delete(f"/api/v1/sequences/portal/scenarios/{saved['id']}/").status_code == 403
    assert writer.delete(f"/api/v1/sequences/portal/scenarios/{saved['id']}/").status_code == 204
    assert writer.get(f"/api/v1/sequences/portal/scenarios/{saved['id']}/").status_code == 404
    assert list(AuditEntry.objects.filter(target_type="saved_scenario").values_list("action", flat=True)) == [
        "delete", "create"]


@pytest.mark.parametrize("body, field", [
    ({"name": "x", "scenario": {"outcomes": []}, "expect": {"status": "success"}}, "scenario"),
    ({"name": "x", "scenario": ADMIN_SCENARIO, "expect": {"status": "maybe"}}, "expect"),
    ({"name": "x", "scenario": ADMIN_SCENARIO, "expect": {"status": "success", "steps": ["one"]}}, "expect"),
    ({"name": "x", "scenario": ADMIN_SCENARIO, "expect": {"status": "success", "colour": "red"}}, "expect"),
    ({"name": "", "scenario": ADMIN_SCENARIO, "expect": ADMIN_EXPECT}, "name"),
    ({"scenario": ADMIN_SCENARIO, "expect": ADMIN_EXPECT}, "name"),
])
def test_a_bad_scenario_or_expectation_is_refused_naming_the_field(writer, portal, body, field):
    answer = writer.post("/api/v1/sequences/portal/scenarios/", body, format="json")
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["field"] == field
    assert not portal.saved_scenarios.exists()


def test_a_name_is_unique_within_the_script(writer, portal):
    assert save(writer).status_code == 201
    again = save(writer)
    assert again.status_code == 409 and again.json()["errors"][0]["field"] == "name"


def test_a_script_keeps_a_bounded_number_of_scenarios(writer, portal, monkeypatch):
    from sequences import api as sequences_api

    monkeypatch.setattr(sequences_api, "MAX_SAVED_SCENARIOS", 1)
    assert save(writer).status_code == 201
    refused = save(writer, name="another")
    assert refused.status_code == 409 and "at most 1 saved scenarios" in refused.json()["errors"][0]["message"]
    assert portal.saved_scenarios.count() == 1


def test_each_new_version_reruns_the_saved_scenarios(writer, portal):
    saved = save(writer).json()
    add_version(writer, V2)
    add_version(writer, V1 + "// unchanged decision\n")
    assert results(writer, saved["id"]) == {1: True, 2: False, 3: True}
    failing = writer.get(f"/api/v1/sequences/portal/scenarios/{saved['id']}/").json()["results"][1]
    assert failing["version"] == 2 and failing["status"] == "success"
    assert failing["reasons"] == ["the steps run were [1], expected [1, 2]"]


def test_publishing_a_failing_version_is_refused_unless_overridden_and_the_override_is_audited(writer, portal):
    save(writer)
    add_version(writer, V2)
    refused = publish(writer, 2)
    assert refused.status_code == 409
    error = refused.json()["errors"][0]
    assert error["field"] == "override" and "admins pass a second factor" in error["message"]
    portal.refresh_from_db()
    assert portal.live_version.number == 1  # nothing changed
    assert not AuditEntry.objects.filter(action="override").exists()

    assert publish(writer, 2, override=True).status_code == 200
    portal.refresh_from_db()
    assert portal.live_version.number == 2
    override = AuditEntry.objects.get(action="override")
    assert override.actor == "client:writer" and override.detail == {
        "version": 2, "failing": ["admins pass a second factor"]}
    published = AuditEntry.objects.filter(action="publish").first()
    assert published.detail["failing_scenarios"] == ["admins pass a second factor"]

    # rolling back to the version that passes needs no override
    assert publish(writer, 1).status_code == 200


def test_a_version_the_scenario_never_ran_on_is_checked_when_it_is_published(writer, portal):
    add_version(writer, V2)  # v2, before the scenario existed
    add_version(writer, V1 + "// again\n")  # v3, the latest
    saved = save(writer).json()
    assert results(writer, saved["id"]) == {1: True, 3: True}  # the live and the latest version
    refused = publish(writer, 2)
    assert refused.status_code == 409 and "admins pass a second factor" in refused.json()["errors"][0]["message"]
