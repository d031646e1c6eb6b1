"""A software WebAuthn authenticator for HTTP-level tests: an EC P-256 key, "none" attestation, real signatures.

It answers the options a page gives (the JSON of navigator.credentials.create/get)
with the JSON a browser would post, and can be told to lie: another origin,
another challenge, a counter going backwards, no user verification.
"""
from __future__ import annotations

import json
import os
import re
from html import unescape

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from fido2 import cbor
from fido2.cose import ES256
from fido2.utils import sha256, websafe_decode, websafe_encode
from fido2.webauthn import AttestationObject, AttestedCredentialData, AuthenticatorData, CollectedClientData

FLAG = AuthenticatorData.FLAG
AAGUID = bytes.fromhex("5af1a2c0c0ffee00c0ffee00c0ffee00")

_OPTIONS = re.compile(r'<script id="passkey-options" type="application/json">(.*?)</script>', re.DOTALL)


def page_options(html: str) -> dict:
    """The WebAuthn options a passkey page carries ({"mode": "create"|"get", "publicKey": {...}})."""
    match = _OPTIONS.search(html)
    assert match, "the page has no passkey options"
    return json.loads(unescape(match.group(1)))


class SoftAuthenticator:
    def __init__(self, origin: str, rp_id: str = "localhost", *, counter: int = 0, user_verified: bool = True):
        self.origin = origin
        self.rp_id = rp_id
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(32)
        self.counter = counter  # the next signature uses counter + 1 (0 stays 0: an authenticator without one)
        self.user_verified = user_verified
        self.user_handle: bytes | None = None

    @property
    def credential_data(self) -> AttestedCredentialData:
        return AttestedCredentialData.create(AAGUID, self.credential_id,
                                             ES256.from_cryptography_key(self.key.public_key()))

    def _flags(self, user_verified: bool | None) -> FLAG:
        flags = FLAG.UP
        if self.user_verified if user_verified is None else user_verified:
            flags |= FLAG.UV
        return flags

    def create(self, public_key: dict, *, origin: str | None = None, challenge: bytes | None = None,
               rp_id: str | None = None, resident: bool = True, cose_key: dict | None = None,
               attested: bool = True) -> dict:
        """A registration response (RegistrationResponseJSON) to `public_key` (the creation options).

        `cose_key` replaces the public key sent (e.g. one nobody can check); `attested=False` sends no
        credential at all.
        """
        self.user_handle = websafe_decode(public_key["user"]["id"])
        client_data = CollectedClientData.create(
            "webauthn.create", challenge if challenge is not None else websafe_decode(public_key["challenge"]),
            origin or self.origin)
        credential_data = self.credential_data
        if cose_key is not None:
            credential_data = (AAGUID + len(self.credential_id).to_bytes(2, "big") + self.credential_id
                               + cbor.encode(cose_key))
        flags = self._flags(None) | (FLAG.AT if attested else 0)
        auth_data = AuthenticatorData.create(sha256((rp_id or public_key["rp"]["id"]).encode()), flags,
                                             self.counter, credential_data if attested else b"")
        attestation = AttestationObject.create("none", auth_data, {})
        return {
            "id": websafe_encode(self.credential_id), "rawId": websafe_encode(self.credential_id), "type": "public-key",
            "authenticatorAttachment": "cross-platform",
            "response": {"clientDataJSON": websafe_encode(client_data),
                         "attestationObject": websafe_encode(attestation), "transports": ["usb"]},
            "clientExtensionResults": {"credProps": {"rk": resident}},
        }

    def get(self, public_key: dict, *, origin: str | None = None, challenge: bytes | None = None,
            counter: int | None = None, user_verified: bool | None = None, credential_id: bytes | None = None,
            user_handle: bytes | None = None) -> dict:
        """An assertion (AuthenticationResponseJSON) to `public_key` (the request options), signed with the key."""
        if counter is None:
            counter = self.counter + 1 if self.counter else 0
        self.counter = counter
        client_data = CollectedClientData.create(
            "webauthn.get", challenge if challenge is not None else websafe_decode(public_key["challenge"]),
            origin or self.origin)
        auth_data = AuthenticatorData.create(sha256((public_key.get("rpId") or self.rp_id).encode()),
                                             self._flags(user_verified), counter)
        signature = self.key.sign(bytes(auth_data) + client_data.hash, ec.ECDSA(hashes.SHA256()))
        credential_id = credential_id or self.credential_id
        handle = user_handle if user_handle is not None else self.user_handle
        response = {"clientDataJSON": websafe_encode(client_data), "authenticatorData": websafe_encode(auth_data),
                    "signature": websafe_encode(signature)}
        if handle:
            response["userHandle"] = websafe_encode(handle)
        return {"id": websafe_encode(credential_id), "rawId": websafe_encode(credential_id), "type": "public-key",
                "authenticatorAttachment": "cross-platform", "response": response, "clientExtensionResults": {}}
