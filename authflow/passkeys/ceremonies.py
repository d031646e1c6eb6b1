"""The WebAuthn ceremonies on plain values: options to send, responses to verify (python-fido2 does the checking).

Nothing here knows about requests or models, like fido2's own server.py: a
`RelyingParty` (its id, name and the exact origins allowed to answer), the
state a *_options function returned (to keep server-side until the answer
comes), the browser's response as parsed JSON, and for a sign-in the stored
credential it claims to be.  What the caller gets back is plain values too.

Every way a response can be wrong raises:

- `Malformed`: it cannot be read (not JSON, wrong types, missing fields,
  not base64url, broken CBOR).  Nothing was checked; the caller asks again.
- `Refused`: it was read and does not prove what it must: made for another
  origin or challenge, for another relying party id, without user presence
  or (when required) verification, a bad signature, a user handle that is
  not the credential's, or a signature counter that did not increase (a
  cloned authenticator).  `reason` is a short code for the logs; str() is
  the message for the user.

The checks that name a reason (type, origin, cross-origin, challenge, RP id
hash) run here first, so the user gets a precise message; fido2's
register_complete/authenticate_complete then run every check again and
have the last word.  Origins are compared exactly: fido2's default (any
subdomain of the RP id) is replaced, and no origin outside
`RelyingParty.origins` is ever accepted.
"""
from __future__ import annotations

from django.utils.translation import gettext_noop
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import constant_time
from fido2.cose import CoseKey
from fido2.server import Fido2Server
from fido2.utils import websafe_decode, websafe_encode
from fido2.webauthn import (
    AttestationConveyancePreference,
    AttestedCredentialData,
    AuthenticationResponse,
    AuthenticatorTransport,
    CollectedClientData,
    PublicKeyCredentialDescriptor,
    PublicKeyCredentialRpEntity,
    PublicKeyCredentialType,
    PublicKeyCredentialUserEntity,
    RegistrationResponse,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

# How long a browser may take to answer (the options' timeout); the server keeps the state a little longer.
TIMEOUT_SECONDS = 240
# A response larger than this is not a WebAuthn response.
MAX_RESPONSE_CHARS = 64 * 1024

REQUIRED = UserVerificationRequirement.REQUIRED
PREFERRED = UserVerificationRequirement.PREFERRED
DISCOURAGED = UserVerificationRequirement.DISCOURAGED

_TRANSPORTS = {t.value for t in AuthenticatorTransport}

NOT_READABLE = gettext_noop("The browser's answer could not be read. Try again.")
FOR_ANOTHER_SITE = gettext_noop("The passkey answered for another website, so it was refused. Sign in from this site's own address.")
FOR_ANOTHER_REQUEST = gettext_noop("The passkey answered another sign-in request, so it was refused. Try again.")
NOT_VERIFIED = gettext_noop("The passkey's answer could not be verified, so it was refused.")
NEEDS_VERIFICATION = gettext_noop("Your passkey did not check that it is you (with a PIN, fingerprint or face), "
                                  "which signing in without a password requires.")
CLONED = gettext_noop("This security key's signature counter went backwards, which happens when a key has been copied. "
                      "It was refused: sign in another way, and remove it from your account if you do not trust it.")
WRONG_USER = gettext_noop("This passkey belongs to another account, so it was refused.")
UNSUPPORTED_KEY = gettext_noop("This passkey or security key uses a kind of key this site cannot check. Try another one.")


class Malformed(ValueError):
    """A response that cannot be read."""

    def __init__(self, detail: str):
        super().__init__(NOT_READABLE)
        self.detail = detail  # for the logs


class Refused(Exception):
    """A response that was read and does not prove what it must."""

    def __init__(self, reason: str, message: str, **details):
        super().__init__(message)
        self.reason = reason
        self.details = details  # for the logs


@dataclass(frozen=True)
class RelyingParty:
    id: str  # a domain: the browser refuses IP addresses
    name: str
    origins: tuple[str, ...]  # exactly these may answer (scheme://host[:port])

    def allows(self, origin: str) -> bool:
        return isinstance(origin, str) and origin in self.origins

    def server(self) -> Fido2Server:
        server = Fido2Server(PublicKeyCredentialRpEntity(id=self.id, name=self.name),
                             attestation=AttestationConveyancePreference.NONE, verify_origin=self.allows)
        server.timeout = TIMEOUT_SECONDS * 1000
        return server


@dataclass(frozen=True)
class NewCredential:
    """A verified registration, ready to store."""

    credential_id: bytes
    credential_data: bytes  # AttestedCredentialData: AAGUID, credential id, COSE public key
    user_handle: bytes  # the user.id it was created for
    sign_count: int
    aaguid: str
    transports: list[str]
    discoverable: bool  # the browser reported a discoverable (resident) credential: usable without a username
    user_verified: bool
    attachment: str  # "platform", "cross-platform" or "" (the browser did not say)


@dataclass(frozen=True)
class StoredCredential:
    """A credential as the server keeps it."""

    credential_id: bytes
    credential_data: bytes
    sign_count: int
    user_handle: bytes


@dataclass(frozen=True)
class Claim:
    """What an assertion says before it is verified: which credential, and (discoverable ones) which user."""

    credential_id: bytes
    user_handle: bytes | None


@dataclass(frozen=True)
class Assertion:
    """A verified sign-in."""

    sign_count: int
    user_verified: bool


def parse_json(raw: Any) -> dict:
    """The posted response (a JSON text) as a dict; raises Malformed."""
    if not isinstance(raw, str) or not raw.strip():
        raise Malformed("no response")
    if len(raw) > MAX_RESPONSE_CHARS:
        raise Malformed("response too large")
    try:
        value = json.loads(raw)
    except ValueError:
        raise Malformed("not JSON") from None
    if not isinstance(value, dict):
        raise Malformed("not a JSON object")
    return value


# ---------------------------------------------------------------- registration

def registration_options(rp: RelyingParty, *, user_handle: bytes, username: str, display_name: str,
                         exclude: Sequence[bytes] = (), user_verification=PREFERRED,
                         resident_key=ResidentKeyRequirement.PREFERRED) -> tuple[dict, dict]:
    """(publicKey options for navigator.credentials.create as JSON, the state to keep for verify_registration).

    Discoverable credentials are preferred (so the passkey can sign in without
    a username) and the credProps extension asks the browser whether it got one.
    """
    options, state = rp.server().register_begin(
        PublicKeyCredentialUserEntity(id=user_handle, name=username, display_name=display_name or username),
        credentials=[_descriptor(c) for c in exclude],
        resident_key_requirement=resident_key,
        user_verification=user_verification,
        extensions={"credProps": True},
    )
    return _json(options)["publicKey"], dict(_state(state), user_handle=websafe_encode(user_handle))


def verify_registration(rp: RelyingParty, state: Mapping, response: Mapping) -> NewCredential:
    registration = _parse(RegistrationResponse, response)
    client_data = registration.response.client_data
    auth_data = registration.response.attestation_object.auth_data
    _check_client_data(rp, state, client_data, CollectedClientData.TYPE.CREATE)
    _check_rp_id(rp, auth_data.rp_id_hash)
    try:
        auth_data = rp.server().register_complete(dict(state), registration)
    except ValueError as exc:
        raise _refusal(str(exc)) from None
    except Exception:  # noqa: BLE001 - e.g. no attested credential data at all
        raise Refused("verification", NOT_VERIFIED) from None
    credential = auth_data.credential_data
    if credential is None or not constant_time.bytes_eq(credential.credential_id, registration.raw_id):
        raise Refused("credential-id", NOT_VERIFIED)
    if not _usable(credential.public_key):
        raise Refused("public-key", UNSUPPORTED_KEY)
    extensions = response.get("clientExtensionResults")
    props = extensions.get("credProps") if isinstance(extensions, Mapping) else None
    transports = (response.get("response") or {}).get("transports")
    attachment = response.get("authenticatorAttachment")
    return NewCredential(
        credential_id=bytes(credential.credential_id),
        credential_data=bytes(credential),
        user_handle=websafe_decode(state["user_handle"]),
        sign_count=auth_data.counter,
        aaguid=str(credential.aaguid),
        transports=sorted({t for t in transports if isinstance(t, str) and t in _TRANSPORTS})
        if isinstance(transports, list) else [],
        discoverable=isinstance(props, Mapping) and props.get("rk") is True,
        user_verified=auth_data.is_user_verified(),
        attachment=attachment if attachment in ("platform", "cross-platform") else "",
    )


# ---------------------------------------------------------------- authentication

def authentication_options(rp: RelyingParty, *, allow: Sequence[tuple[bytes, Sequence[str]]] | None,
                           user_verification=PREFERRED) -> tuple[dict, dict]:
    """(publicKey options for navigator.credentials.get as JSON, the state to keep for verify_assertion).

    `allow` None: any discoverable credential of this relying party (the user
    is not known yet); otherwise the (credential id, transports) allowed.
    """
    credentials = None if allow is None else [_descriptor(cid, transports) for cid, transports in allow]
    options, state = rp.server().authenticate_begin(credentials, user_verification=user_verification)
    return _json(options)["publicKey"], _state(state)


def read_assertion(response: Mapping) -> Claim:
    """Which credential (and user handle) an assertion names, to find the stored credential; raises Malformed."""
    assertion = _parse(AuthenticationResponse, response)
    return Claim(credential_id=bytes(assertion.raw_id),
                 user_handle=bytes(assertion.response.user_handle) if assertion.response.user_handle else None)


def verify_assertion(rp: RelyingParty, state: Mapping, stored: StoredCredential, response: Mapping) -> Assertion:
    """Verify a sign-in with `stored`, including its signature counter; the new count to store.

    A counter that does not increase, when either the stored or the presented
    one is not zero, means two authenticators hold the same key (a cloned
    key): refused (reason "cloned").  Authenticators without a counter always
    send 0, and are accepted with 0 stored.
    """
    assertion = _parse(AuthenticationResponse, response)
    client_data = assertion.response.client_data
    auth_data = assertion.response.authenticator_data
    _check_client_data(rp, state, client_data, CollectedClientData.TYPE.GET)
    _check_rp_id(rp, auth_data.rp_id_hash)
    if not constant_time.bytes_eq(bytes(assertion.raw_id), stored.credential_id):
        raise Refused("credential-id", NOT_VERIFIED)
    handle = assertion.response.user_handle
    if handle and not constant_time.bytes_eq(bytes(handle), stored.user_handle):
        raise Refused("user-handle", WRONG_USER)
    try:
        rp.server().authenticate_complete(dict(state), [AttestedCredentialData(stored.credential_data)], assertion)
    except ValueError as exc:
        raise _refusal(str(exc)) from None
    except Exception:  # noqa: BLE001 - a stored key fido2 cannot use: refused, never a 500
        raise Refused("public-key", NOT_VERIFIED) from None
    if not signature_counter_increases(stored.sign_count, auth_data.counter):
        raise Refused("cloned", CLONED, stored_count=stored.sign_count, presented_count=auth_data.counter)
    return Assertion(sign_count=auth_data.counter, user_verified=auth_data.is_user_verified())


def signature_counter_increases(stored: int, presented: int) -> bool:
    """The sign count rule, for a caller storing the new count conditionally."""
    return not (stored or presented) or presented > stored


# ---------------------------------------------------------------- helpers

def _usable(public_key: CoseKey) -> bool:
    """Whether fido2 can check signatures with this key: a supported algorithm, and a well-formed key."""
    if public_key.ALGORITHM not in CoseKey.supported_algorithms():
        return False
    try:
        public_key.verify(b"probe", b"")
    except InvalidSignature:
        return True  # the key was loaded, only the (empty) signature is wrong
    except Exception:  # noqa: BLE001 - missing parameters, a point not on its curve, an unsupported curve...
        return False
    return False


def _descriptor(credential_id: bytes, transports: Sequence[str] | None = None) -> PublicKeyCredentialDescriptor:
    known = [t for t in (transports or []) if t in _TRANSPORTS]
    return PublicKeyCredentialDescriptor(type=PublicKeyCredentialType.PUBLIC_KEY, id=bytes(credential_id),
                                         transports=known or None)


def _json(options) -> dict:
    """fido2's options as JSON-ready values (bytes as base64url), as the browser's parse*FromJSON take them."""
    return json.loads(json.dumps(dict(options)))


def _state(state: Mapping) -> dict:
    return {"challenge": str(state["challenge"]),
            "user_verification": str(state["user_verification"]) if state.get("user_verification") else None}


def _parse(kind, response: Mapping):
    if not isinstance(response, Mapping):
        raise Malformed("not a JSON object")
    inner = response.get("response")
    if not isinstance(inner, Mapping) or not isinstance(response.get("rawId"), str):
        raise Malformed("missing rawId or response")
    if response.get("type", "public-key") != "public-key":
        raise Malformed("not a public-key credential")
    try:
        return kind.from_dict(response)
    except Exception as exc:  # noqa: BLE001 - fido2 and its CBOR parser raise many kinds on bad input
        raise Malformed(f"{type(exc).__name__}: {exc}"[:200]) from None


def _check_client_data(rp: RelyingParty, state: Mapping, client_data: CollectedClientData, expected_type) -> None:
    if client_data.type != expected_type:
        raise Refused("type", NOT_VERIFIED)
    if not rp.allows(client_data.origin):
        raise Refused("origin", FOR_ANOTHER_SITE)
    if client_data.cross_origin is True or client_data._data.get("topOrigin") not in (None, client_data.origin):
        raise Refused("cross-origin", FOR_ANOTHER_SITE)
    try:
        expected = websafe_decode(state["challenge"])
    except (KeyError, TypeError, ValueError):
        raise Refused("challenge", FOR_ANOTHER_REQUEST) from None
    if not constant_time.bytes_eq(expected, client_data.challenge):
        raise Refused("challenge", FOR_ANOTHER_REQUEST)


def _check_rp_id(rp: RelyingParty, rp_id_hash: bytes) -> None:
    expected = PublicKeyCredentialRpEntity(id=rp.id, name=rp.name).id_hash or b""
    if not constant_time.bytes_eq(expected, bytes(rp_id_hash)):
        raise Refused("rp-id", FOR_ANOTHER_SITE)


def _refusal(message: str) -> Refused:
    """fido2's own verdict (after the checks above passed) as a Refused."""
    lowered = message.lower()
    if "user verification" in lowered:
        return Refused("user-verification", NEEDS_VERIFICATION)
    if "user present" in lowered:
        return Refused("user-presence", NOT_VERIFIED)
    if "signature" in lowered:
        return Refused("signature", NOT_VERIFIED)
    return Refused("verification", NOT_VERIFIED)
