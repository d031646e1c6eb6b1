"""Scripts in the style of the reference's templates take the reference's decision, on the main path and
the alternative one (through the simulate harness: the real engine in its sandbox).

The role, group, age, user store, login attempts, new device, passkey enrollment, OTP limits and HTTP
call templates are tested with the features they exercise (test_wso2_compat_api, test_user_store_scripts,
test_wso2_attempts_and_passkeys, test_otp_limits, test_outbound_auth, test_simulate_parity); these are the
network, assurance level, concurrent sessions and sign-in option templates.

They are the console gallery's own files (authflow/console_pages/gallery_templates/), read through the gallery:
what an administrator starts from is what these tests hold to the reference's decisions.
"""
import pytest

from authflow.console_pages import gallery
from tests.support.scripts import events, logs, ok, run


def template(name):
    return gallery.template(name).source


def steps_run(trace):
    return [e["step"] for e in events(trace, "step")]


def request_from(ip, **params):
    return {"ip": ip, "headers": {"User-Agent": "pytest"}, "params": {k: [v] for k, v in params.items()}, "cookies": {}}


@pytest.mark.parametrize("ip", ["192.0.2.7", "198.51.100.200"])
def test_network_template_asks_only_a_password_in_the_office(ip):
    trace = run(template("ip_range"), [ok(1)], request=request_from(ip))
    assert steps_run(trace) == [1] and trace["status"] == "success" and logs(trace) == []


@pytest.mark.parametrize("ip", ["203.0.113.9", "198.51.100.100", "not-an-address"])
def test_network_template_steps_up_elsewhere(ip):
    trace = run(template("ip_range"), [ok(1), ok(2, authenticator="totp")], request=request_from(ip))
    assert steps_run(trace) == [1, 2] and trace["status"] == "success"
    assert logs(trace) == [f"Sign-in from {ip}, outside the office networks: second factor."]


@pytest.mark.parametrize("acr_values, level, steps, outcomes", [
    ("LOA3", "LOA3", [1, 3], [ok(1), ok(3, authenticator="FIDOAuthenticator")]),
    ("urn:other LOA2", "LOA2", [1, 2], [ok(1), ok(2, authenticator="totp")]),
    ("LOA1", "LOA1", [1], [ok(1)]),
])
def test_assurance_level_template_runs_the_steps_of_the_requested_level(acr_values, level, steps, outcomes):
    trace = run(template("acr"), outcomes, request=request_from("203.0.113.9", acr_values=acr_values))
    assert steps_run(trace) == steps and trace["status"] == "success"
    assert logs(trace)[0].endswith(f"running {level}")


def test_assurance_level_template_falls_back_to_a_password_when_nothing_it_supports_is_asked():
    trace = run(template("acr"), [ok(1)], request=request_from("203.0.113.9", acr_values="urn:unknown"))
    assert steps_run(trace) == [1] and logs(trace) == ['Requested ["urn:unknown"], running the default']


def sessions(*ids_and_last_access):
    return [{"id": sid, "loginTime": "2026-04-01T08:00:00Z", "lastAccessTime": last, "userAgent": "Mozilla/5.0"}
            for sid, last in ids_and_last_access]


def users_with_sessions(alice_sessions):
    return {"alice": {"roles": [], "groups": [], "claims": {}, "sessions": alice_sessions}}


def test_sessions_template_leaves_a_user_under_the_limit_alone():
    trace = run(template("concurrent_sessions"), [ok(1)],
                users=users_with_sessions(sessions(("s-laptop", "2026-04-30T09:00:00Z"))))
    assert trace["status"] == "success" and events(trace, "effect") == [] and logs(trace) == []


def test_sessions_template_ends_the_sessions_used_longest_ago_over_the_limit():
    trace = run(template("concurrent_sessions"), [ok(1)], users=users_with_sessions(sessions(
        ("s-phone", "2026-04-30T09:00:00Z"), ("s-old-tablet", "2026-03-01T09:00:00Z"),
        ("s-laptop", "2026-04-29T09:00:00Z"))))
    assert trace["status"] == "success"
    assert [e["args"] for e in events(trace, "effect")] == [["alice", "s-old-tablet"], ["alice", "s-laptop"]]


SIGN_IN_OPTIONS = {"1": ["BasicAuthenticator", "FIDOAuthenticator"], "2": ["totp"]}


def test_sign_in_option_template_a_passkey_is_enough():
    trace = run(template("sign_in_option"), [ok(1, authenticator="FIDOAuthenticator")], steps=SIGN_IN_OPTIONS)
    assert steps_run(trace) == [1] and trace["status"] == "success"
    assert logs(trace) == ["Passkey sign-in: no second factor."]


def test_sign_in_option_template_a_password_asks_administrators_for_more():
    admin = run(template("sign_in_option"), [ok(1, authenticator="BasicAuthenticator"),
                                             ok(2, authenticator="totp")], steps=SIGN_IN_OPTIONS)
    assert steps_run(admin) == [1, 2] and admin["status"] == "success"
    user = run(template("sign_in_option"), [ok(1, "bob", authenticator="BasicAuthenticator")], steps=SIGN_IN_OPTIONS)
    assert steps_run(user) == [1] and user["status"] == "success"
