"""Keys the server manages, for secrets it must keep at rest (TOTP seeds, ...) and values it hands out.

AUTHFLOW_ENCRYPTION_KEYS holds one or more base64 keys of 32 bytes, newest
first: values are encrypted with the first and decrypted with whichever
key made them (each value names its key), so a key is rotated by putting a
new one in front and dropping the old one once nothing uses it.  Without
the setting, one key is derived from SECRET_KEY (fine for the embedded
default; production sets its own so that changing SECRET_KEY loses nothing).

Every value is bound to a `purpose`: a TOTP seed cannot be decrypted as
anything else, and a value moved from one column to another does not open.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

VERSION = "v1"


class InvalidValue(ValueError):
    """A value that does not decrypt: changed, made for another purpose, or made with a key that is gone."""


def _key_id(key: bytes) -> str:
    return hashlib.sha256(b"authflow key id" + key).hexdigest()[:8]


@lru_cache(maxsize=8)
def _keys(configured: str, secret_key: str) -> tuple[tuple[str, bytes], ...]:
    if configured:
        raw = [base64.urlsafe_b64decode(k.strip() + "=" * (-len(k.strip()) % 4)) for k in configured.split(",") if k.strip()]
        for key in raw:
            if len(key) != 32:
                raise ValueError("each AUTHFLOW_ENCRYPTION_KEYS entry must be 32 bytes, base64-encoded")
    else:
        raw = [HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"authflow encryption key").derive(
            secret_key.encode())]
    return tuple((_key_id(key), key) for key in raw)


def keys() -> tuple[tuple[str, bytes], ...]:
    """(key id, key) pairs, the encrypting key first."""
    return _keys(getattr(settings, "AUTHFLOW_ENCRYPTION_KEYS", ""), settings.SECRET_KEY)


def encrypt(data: bytes, *, purpose: str) -> str:
    key_id, key = keys()[0]
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, data, purpose.encode())
    return f"{VERSION}:{key_id}:" + base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")


def decrypt(value: str, *, purpose: str) -> bytes:
    try:
        version, key_id, body = value.split(":", 2)
        blob = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (ValueError, AttributeError):
        raise InvalidValue("not an encrypted value") from None
    if version != VERSION:
        raise InvalidValue(f"unknown format {version!r}")
    for candidate_id, key in keys():
        if hmac.compare_digest(candidate_id, key_id):
            try:
                return AESGCM(key).decrypt(blob[:12], blob[12:], purpose.encode())
            except Exception:  # noqa: BLE001 - cryptography's InvalidTag and short input alike
                raise InvalidValue("the value was changed or is for another purpose") from None
    raise InvalidValue("made with a key that is no longer configured")


def seal_json(value, *, purpose: str) -> str:
    """`value` as JSON, encrypted (for task payloads and sealed journal entries)."""
    return encrypt(json.dumps(value).encode(), purpose=purpose)


def open_json(sealed: str, *, purpose: str):
    """What seal_json sealed; InvalidValue when it does not decrypt."""
    return json.loads(decrypt(sealed, purpose=purpose))


def mac(data: bytes, *, purpose: str) -> str:
    """A keyed digest for values kept only to be compared (codes): "<key id>:<HMAC-SHA256>"."""
    key_id, key = keys()[0]
    return f"{key_id}:" + _hmac(key, data, purpose)


def mac_matches(data: bytes, stored: str, *, purpose: str) -> bool:
    """Whether `data` is what `stored` (from mac()) was made of, in constant time."""
    key_id, _, digest = stored.partition(":")
    for candidate_id, key in keys():
        if hmac.compare_digest(candidate_id, key_id):
            return hmac.compare_digest(digest, _hmac(key, data, purpose))
    return False


def _hmac(key: bytes, data: bytes, purpose: str) -> str:
    return hmac.new(key, purpose.encode() + b"\0" + data, hashlib.sha256).hexdigest()
