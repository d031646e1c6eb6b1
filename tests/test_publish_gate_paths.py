"""The publish gate holds on every path that changes a login script's live version: the API and the console
(tested in test_api_saved_scenarios / test_console_saved_scenarios), and the Django admin's publish action,
its "add a version, published" form and the script's own change form, which must not reach around it."""
import pytest

from authflow.api.models import AuditEntry
from sequences.api import publish_version, rerun_for_version, save_version
from sequences.models import Sequence
from tests.support.scenarios import V1, V2, save_scenario_then_forget_the_second_factor

pytestmark = pytest.mark.django_db


@pytest.fixture
def portal(admin_user):
    v1, _ = save_version("portal", V1)
    save_scenario_then_forget_the_second_factor(v1.sequence, admin_user)
    return v1.sequence


def live(name="portal") -> int | None:
    version = Sequence.objects.get(name=name).published_version()
    return version.number if version else None


def test_the_admins_publish_action_refuses_a_version_failing_a_saved_scenario(admin_client, portal):
    v2 = portal.versions.get(number=2)
    answer = admin_client.post("/admin/sequences/sequenceversion/", {"action": "publish", "_selected_action": [v2.pk]},
                               follow=True)
    assert answer.status_code == 200
    assert live() == 1, "the admin's action published a version failing a saved scenario"
    assert "admins pass a second factor" in answer.content.decode()
    assert not AuditEntry.objects.filter(action="publish").exists()


def test_the_admins_publish_action_still_publishes_a_passing_version(admin_client, portal):
    v3, _ = save_version("portal", V1 + "\n// same decision\n", publish=False)
    rerun_for_version(v3)
    answer = admin_client.post("/admin/sequences/sequenceversion/", {"action": "publish", "_selected_action": [v3.pk]})
    assert answer.status_code == 302 and live() == 3


def test_adding_a_published_version_in_the_admin_is_gated_too(admin_client, portal):
    answer = admin_client.post("/admin/sequences/sequenceversion/add/",
                               {"sequence": portal.pk, "source": V2 + "// again\n", "published": "on"}, follow=True)
    assert answer.status_code == 200
    assert live() == 1, "a version failing a saved scenario went live through the admin's add form"
    added = portal.versions.order_by("-number").first()
    assert added.number == 3 and not added.published
    # the new version was checked against the saved scenarios like one saved through the API
    assert [r.passed for r in added.scenario_results.all()] == [False]


def test_the_scripts_change_form_does_not_set_the_live_version(admin_client, portal):
    other, _ = save_version("other-app", "var onLoginRequest = function (context) { executeStep(1); };")
    answer = admin_client.post(f"/admin/sequences/sequence/{portal.pk}/change/", {
        "name": "portal", "kind": "script", "description": "", "live_version": other.pk,
        "versions-TOTAL_FORMS": "0", "versions-INITIAL_FORMS": "0", "versions-MIN_NUM_FORMS": "0",
        "versions-MAX_NUM_FORMS": "1000"})
    assert answer.status_code in (200, 302)
    portal.refresh_from_db()
    assert portal.live_version_id == portal.versions.get(number=1).pk, \
        "the change form pointed the script's live version elsewhere (another application's script)"


def _apply(tmp_path, source):
    from django.core.management import call_command

    script = "\n".join("      " + line for line in source.splitlines())
    path = tmp_path / "config.yaml"
    path.write_text("applications:\n  - name: portal\n    client_id: portal\n    client_type: public\n"
                    "    redirect_uris: [\"http://127.0.0.1:9000/callback\"]\n"
                    "    steps: {1: [BasicAuthenticator], 2: [totp]}\n    script: |\n" + script + "\n")
    call_command("apply", "-f", str(path))


def test_apply_refuses_a_script_failing_a_saved_scenario_and_changes_nothing(portal, tmp_path):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="admins pass a second factor"):
        _apply(tmp_path, V2 + "// from the configuration file\n")
    assert live() == 1 and portal.versions.count() == 2  # nothing half-written: no version 3
    _apply(tmp_path, V1 + "// from the configuration file\n")  # a passing text goes live as before
    assert live() == 3


def test_the_admin_cannot_delete_a_version_which_would_change_or_empty_the_live_one(admin_client, portal):
    v1 = portal.versions.get(number=1)
    answer = admin_client.post(f"/admin/sequences/sequenceversion/{v1.pk}/delete/", {"post": "yes"})
    assert answer.status_code == 403
    answer = admin_client.post("/admin/sequences/sequenceversion/", {"action": "delete_selected",
                                                                    "_selected_action": [v1.pk], "post": "yes"})
    assert live() == 1 and portal.versions.filter(number=1).exists()


def test_the_admin_cannot_rename_a_library_or_change_a_kind_which_would_change_what_scripts_run(admin_client, portal):
    """Scripts load libraries by name: renaming one (or another to its name) changes what every application's
    script runs, unpublished and unaudited."""
    library, _ = save_version("helpers", "var helper = function () { return 1; };", kind="library")
    decoy, _ = save_version("decoy", "var helper = function () { return 2; };", kind="library")
    sequence = library.sequence
    answer = admin_client.post(f"/admin/sequences/sequence/{decoy.sequence.pk}/change/", {
        "name": "helpers-taken", "kind": "script", "description": "",
        "versions-TOTAL_FORMS": "0", "versions-INITIAL_FORMS": "0", "versions-MIN_NUM_FORMS": "0",
        "versions-MAX_NUM_FORMS": "1000"})
    assert answer.status_code in (200, 302)
    decoy.sequence.refresh_from_db()
    assert (decoy.sequence.name, decoy.sequence.kind) == ("decoy", "library")
    sequence.refresh_from_db()
    assert sequence.name == "helpers"
