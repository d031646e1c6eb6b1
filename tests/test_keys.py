"""Secrets at rest: encryption bound to a purpose, keyed digests, and key rotation."""
import base64
import os

import pytest

from authflow import keys


def new_key():
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def test_a_value_decrypts_only_for_its_purpose_and_unchanged(settings):
    settings.AUTHFLOW_ENCRYPTION_KEYS = new_key()
    sealed = keys.encrypt(b"JBSWY3DPEHPK3PXP", purpose="totp-seed")
    assert b"JBSWY3DPEHPK3PXP" not in sealed.encode() and keys.encrypt(b"x", purpose="p") != keys.encrypt(b"x", purpose="p")
    assert keys.decrypt(sealed, purpose="totp-seed") == b"JBSWY3DPEHPK3PXP"
    with pytest.raises(keys.InvalidValue):
        keys.decrypt(sealed, purpose="cookie")
    tampered = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    with pytest.raises(keys.InvalidValue):
        keys.decrypt(tampered, purpose="totp-seed")
    with pytest.raises(keys.InvalidValue):
        keys.decrypt("not a value", purpose="totp-seed")


def test_rotation_keeps_old_values_readable_until_their_key_is_dropped(settings):
    old, new = new_key(), new_key()
    settings.AUTHFLOW_ENCRYPTION_KEYS = old
    sealed, digest = keys.encrypt(b"secret", purpose="p"), keys.mac(b"123456", purpose="code")
    settings.AUTHFLOW_ENCRYPTION_KEYS = f"{new},{old}"
    assert keys.decrypt(sealed, purpose="p") == b"secret"
    assert keys.mac_matches(b"123456", digest, purpose="code") and not keys.mac_matches(b"123457", digest, purpose="code")
    fresh = keys.encrypt(b"secret", purpose="p")
    assert fresh.split(":")[1] != sealed.split(":")[1]  # made with the new key
    settings.AUTHFLOW_ENCRYPTION_KEYS = new
    with pytest.raises(keys.InvalidValue):
        keys.decrypt(sealed, purpose="p")
    assert not keys.mac_matches(b"123456", digest, purpose="code")
    assert keys.decrypt(fresh, purpose="p") == b"secret"


def test_a_key_of_the_wrong_size_is_refused(settings):
    settings.AUTHFLOW_ENCRYPTION_KEYS = base64.urlsafe_b64encode(b"short").decode()
    with pytest.raises(ValueError, match="32 bytes"):
        keys.encrypt(b"x", purpose="p")


def test_a_flows_secrets_open_for_replay_and_not_after_their_key_is_dropped(settings):
    from authflow.flows import sealing
    from sequences.api import FlowState, prompt_answer, step_answer

    settings.AUTHFLOW_ENCRYPTION_KEYS = old = new_key()
    answer = prompt_answer("genericForm", "success", {"pin": ["1234"], "colour": ["red"]}, secret=["pin"])
    state = FlowState.start("portal", {})
    state.journal["answers"] = [step_answer(1, "success", user="a"), answer]
    cookie = 'cookie:{"name":"device","value":"raw"}'
    state.journal["lookups"] = {cookie: "device-of-alice", 'usersByClaims:{"claims":{}}': []}
    stored = sealing.stored(state)
    assert "1234" not in repr(stored) and "device-of-alice" not in repr(stored)
    assert stored["journal"]["answers"][1]["params"] == {"colour": ["red"]}
    opened = sealing.opened(stored)
    assert opened.journal["answers"][1]["params"] == answer["params"]
    assert opened.journal["lookups"][cookie] == "device-of-alice"
    assert sealing.stored(opened)["journal"]["answers"][1]["params"] == {"colour": ["red"]}
    settings.AUTHFLOW_ENCRYPTION_KEYS = f"{new_key()},{old}"  # rotated: still readable
    assert sealing.opened(stored).journal["answers"][1]["params"]["pin"] == ["1234"]
    settings.AUTHFLOW_ENCRYPTION_KEYS = new_key()  # dropped
    with pytest.raises(sealing.SealedUnreadable):
        sealing.opened(stored)
