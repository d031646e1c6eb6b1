"""What the saved-scenario tests share (the API's, the console's, the publish gate's): a login script that asks
administrators for a second factor, an edit that forgets it, and the saved scenario that tells the two apart."""
from __future__ import annotations

# v1: administrators pass a second factor
V1 = """var onLoginRequest = function (context) {
    executeStep(1, {onSuccess: function (context) {
        if (hasRole(context.currentKnownSubject, 'admin')) {
            executeStep(2);
        }
    }});
};
"""
# v2: an edit that forgets the administrators' second factor (fails the saved scenario)
V2 = """var onLoginRequest = function (context) {
    executeStep(1);
};
"""
SCENARIO_NAME = "admins pass a second factor"
ADMIN_EXPECT = {"status": "success", "subject": "alice", "steps": [1, 2]}


def admin_scenario(application: str) -> dict:
    """alice, an administrator, passes step 1 then step 2 (totp) at `application`."""
    return {
        "application": {"name": application, "steps": {"1": ["BasicAuthenticator"], "2": ["totp"]}},
        "users": {"alice": {"roles": ["admin"]}},
        "outcomes": [{"step": 1, "result": "success", "user": "alice"},
                     {"step": 2, "result": "success", "user": "alice", "authenticator": "totp"}],
    }


def save_scenario_then_forget_the_second_factor(sequence, author) -> None:
    """On `sequence`, live on V1 as version 1: the saved scenario, then version 2 (V2), each version's result run."""
    from sequences.api import rerun_for_version
    from sequences.models import SavedScenario, SequenceVersion

    SavedScenario.objects.create(sequence=sequence, name=SCENARIO_NAME, scenario=admin_scenario("shop"),
                                 expect=dict(ADMIN_EXPECT))
    v2 = SequenceVersion.objects.create(sequence=sequence, number=2, source=V2, author=author)
    rerun_for_version(sequence.versions.get(number=1))
    rerun_for_version(v2)
