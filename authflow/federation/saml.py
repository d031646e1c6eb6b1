"""SAML 2.0 service provider: the signed AuthnRequest out (HTTP-Redirect), and pysaml2's checks on the Response.

pysaml2 (with Debian's xmlsec1) checks the response and assertion signatures against the IdP's metadata
(the assertion must be signed), the audience (this SP's entity id), the destination and the subject
confirmation's recipient (this provider's ACS URL), InResponseTo (the request this browser was sent with;
unsolicited responses are refused) and the time conditions with SKEW_SECONDS of clock skew.  On top of
that an assertion id is accepted once (kept until its NotOnOrAfter): a replayed assertion is refused.

xmlsec1 reads keys from files: the SP key is written, decrypted, to a private temporary file for the
duration of one call and removed right after.

pysaml2 (with xmlschema) costs a web worker about 16 MB, so each function imports what it uses of it: the
first time a SAML provider is used, not when the login pages are imported.
"""
from __future__ import annotations

import base64
import binascii
import calendar
import contextlib
import hashlib
import logging
import os
import shutil
import tempfile
import time
from urllib.parse import urlencode

from django.core.cache import cache
from django.urls import reverse

from .oidc import ProviderError

logger = logging.getLogger("authflow.federation")

SKEW_SECONDS = 60
METADATA_TTL_SECONDS = 3600
TIMEOUT_SECONDS = 10
MAX_METADATA_BYTES = 1_000_000
MAX_RESPONSE_CHARS = 200_000
# How long an assertion id is remembered when it names no NotOnOrAfter.
DEFAULT_REPLAY_SECONDS = 3600
# Signature and digest algorithms refused whatever pysaml2 and xmlsec1 would accept: SHA-1 and MD5.
WEAK_ALGORITHMS = {"http://www.w3.org/2000/09/xmldsig#rsa-sha1", "http://www.w3.org/2000/09/xmldsig#dsa-sha1",
                   "http://www.w3.org/2000/09/xmldsig#sha1", "http://www.w3.org/2000/09/xmldsig#hmac-sha1",
                   "http://www.w3.org/2001/04/xmldsig-more#rsa-md5", "http://www.w3.org/2001/04/xmldsig-more#md5"}
_DS = "{http://www.w3.org/2000/09/xmldsig#}"


def metadata_url(request, provider) -> str:
    return request.build_absolute_uri(reverse("federation-saml-metadata", args=[provider.name]))


def acs_url(request, provider) -> str:
    return request.build_absolute_uri(reverse("federation-saml-acs", args=[provider.name]))


def slo_url(request, provider) -> str:
    return request.build_absolute_uri(reverse("federation-saml-slo", args=[provider.name]))


def idp_metadata(provider) -> str:
    """The IdP's metadata XML: inline, or fetched from its URL (cached for a while)."""
    if provider.saml_metadata_xml:
        return provider.saml_metadata_xml
    key = "authflow:federation:saml-metadata:" + hashlib.sha256(provider.saml_metadata_url.encode()).hexdigest()
    document = cache.get(key)
    if document is not None:
        return document
    import requests  # imported by a provider's first use, not by every worker

    try:
        response = requests.get(provider.saml_metadata_url, timeout=TIMEOUT_SECONDS)
    except requests.RequestException:
        raise ProviderError("the identity provider's metadata could not be fetched") from None
    if response.status_code != 200 or len(response.content) > MAX_METADATA_BYTES:
        raise ProviderError(f"the identity provider's metadata URL answered {response.status_code}")
    document = response.text
    cache.set(key, document, METADATA_TTL_SECONDS)
    return document


@contextlib.contextmanager
def _client(request, provider, *, with_idp: bool = True):
    from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
    from saml2.client import Saml2Client
    from saml2.config import SPConfig

    xmlsec = shutil.which("xmlsec1")
    if xmlsec is None:
        raise ProviderError("SAML is not available on this server (xmlsec1 is not installed)")
    with tempfile.TemporaryDirectory(prefix="authflow-saml-") as folder:
        key_file, cert_file = os.path.join(folder, "sp.key"), os.path.join(folder, "sp.crt")
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(provider.sp_key_pem())
        with open(cert_file, "w") as handle:
            handle.write(provider.sp_certificate)
        settings = {
            "entityid": metadata_url(request, provider),
            "xmlsec_binary": xmlsec,
            "key_file": key_file, "cert_file": cert_file,
            "accepted_time_diff": SKEW_SECONDS,
            "service": {"sp": {
                "endpoints": {"assertion_consumer_service": [(acs_url(request, provider), BINDING_HTTP_POST)],
                              "single_logout_service": [(slo_url(request, provider), BINDING_HTTP_REDIRECT)]},
                "authn_requests_signed": True,
                "logout_requests_signed": True,
                "want_assertions_signed": True,
                "want_response_signed": False,  # verified when present; the assertion's is required
                "allow_unsolicited": False,
                "name_id_format": [provider.saml_nameid_format] if provider.saml_nameid_format else [],
            }},
        }
        if with_idp:
            settings["metadata"] = {"inline": [idp_metadata(provider)]}
        config = SPConfig()
        try:
            config.load(settings)
        except Exception as exc:  # pysaml2 raises many kinds for metadata it cannot read
            logger.warning("SAML metadata refused", extra={"idp": provider.name, "error": type(exc).__name__})
            raise ProviderError("the identity provider's metadata could not be read") from None
        yield Saml2Client(config=config)


def sp_metadata(request, provider) -> str:
    from saml2.metadata import create_metadata_string

    with _client(request, provider, with_idp=False) as client:
        return create_metadata_string(None, client.config, sign=False).decode()


# Query parameters of the HTTP-Redirect binding (and its signature): never set by a script.
RESERVED_QUERY = {"SAMLRequest", "SAMLResponse", "RelayState", "SigAlg", "Signature"}
_TRUE = {"true", "1", "yes"}


def request_options(params: dict) -> tuple[dict, dict]:
    """A step's authenticatorParams as a SAML AuthnRequest takes them: (its attributes, extra query parameters).

    ForceAuthn (or prompt=login) and IsPassive (or prompt=none) set the request's flags, AuthnContextClassRef
    asks for an authentication context; other text parameters (login_hint, which some IdPs read, ...) go in
    the redirect's query string beside the signed ones, which they cannot replace.
    """
    from saml2.saml import AuthnContextClassRef
    from saml2.samlp import RequestedAuthnContext

    attributes, query = {}, {}
    for name, value in (params or {}).items():
        if isinstance(value, bool):
            value = "true" if value else "false"
        if not isinstance(value, (str, int)) or name in RESERVED_QUERY:
            continue
        value = str(value)[:2000]
        if name == "ForceAuthn" or (name == "prompt" and value == "login"):
            if value.lower() in _TRUE or name == "prompt":
                attributes["force_authn"] = "true"
        elif name == "IsPassive" or (name == "prompt" and value == "none"):
            if value.lower() in _TRUE or name == "prompt":
                attributes["is_passive"] = "true"
        elif name == "AuthnContextClassRef":
            attributes["requested_authn_context"] = RequestedAuthnContext(
                authn_context_class_ref=[AuthnContextClassRef(text=value)], comparison="exact")
        elif name != "prompt":
            query[name] = value
    return attributes, query


def authn_request(request, provider, relay_state: str, params: dict | None = None) -> tuple[str, str]:
    """(the request's id, the IdP URL carrying the signed AuthnRequest over HTTP-Redirect)."""
    from saml2 import BINDING_HTTP_REDIRECT
    from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

    attributes, query = request_options(params or {})
    with _client(request, provider) as client:
        entity_id = provider.saml_entity_id or _only_idp(client)
        try:
            request_id, info = client.prepare_for_authenticate(
                entityid=entity_id, relay_state=relay_state, binding=BINDING_HTTP_REDIRECT, sign=True,
                nameid_format=provider.saml_nameid_format or None,
                sigalg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA256, **attributes)
        except Exception as exc:
            logger.warning("SAML request not built", extra={"idp": provider.name, "error": type(exc).__name__})
            raise ProviderError("the identity provider's metadata names no usable sign-in endpoint") from None
    location = dict(info["headers"])["Location"]
    if query:
        location += ("&" if "?" in location else "?") + urlencode(query)
    return request_id, location


def _only_idp(client) -> str:
    idps = list(client.metadata.identity_providers())
    if len(idps) != 1:
        raise ProviderError("the identity provider's metadata names several IdPs; set entity_id")
    return idps[0]


def parse_response(request, provider, saml_response: str, request_id: str) -> tuple[dict, str]:
    """The claims of a valid Response to `request_id`: sub (the NameID) and the attributes (first value),
    and the SessionIndex of its authentication statement (what single logout names), or ""."""
    from saml2 import BINDING_HTTP_POST

    if not saml_response or len(saml_response) > MAX_RESPONSE_CHARS:
        raise ProviderError("the identity provider sent no usable SAML response")
    _refuse_weak_signatures(saml_response)
    with _client(request, provider) as client:
        try:
            response = client.parse_authn_request_response(saml_response, BINDING_HTTP_POST,
                                                           outstanding={request_id: "login"})
        except Exception as exc:  # pysaml2 signals every refusal with its own exception type
            reason = _reason(exc)
            logger.warning("SAML response refused", extra={"idp": provider.name, "error": type(exc).__name__,
                                                           "reason": reason})
            raise ProviderError(f"the SAML response was refused: {reason}") from None
        expected_issuer = provider.saml_entity_id or _only_idp(client)
    if response is None or response.assertion is None:
        raise ProviderError("the SAML response was refused: it holds no valid assertion")
    # Metadata may name several entities (a federation's): only the IdP the request went to may answer.
    if response.issuer() != expected_issuer:
        raise ProviderError("the SAML response was refused: it was issued by another provider")
    _accept_once(provider, response.assertion)
    name_id = response.name_id
    if name_id is None or not name_id.text or len(name_id.text) > 255:
        raise ProviderError("the SAML assertion names no subject")
    claims = {"sub": name_id.text.strip(), "nameid_format": name_id.format or ""}
    for attribute, values in (response.ava or {}).items():
        if values and attribute not in claims:
            # The role attribute keeps all its values (each may map to a role); the others their first.
            many = attribute == provider.role_claim and len(values) > 1
            claims[attribute] = [str(v)[:1000] for v in values[:100]] if many else values[0]
    statements = response.assertion.authn_statement or []
    session_index = (statements[0].session_index or "") if statements else ""
    return claims, session_index if len(session_index) <= 255 else ""


def logout_request(request, provider, *, name_id: str, nameid_format: str, session_index: str,
                   relay_state: str) -> tuple[str, str] | None:
    """(the request's id, the IdP URL carrying a signed LogoutRequest over HTTP-Redirect), or None when the
    IdP's metadata names no HTTP-Redirect single logout service."""
    from saml2 import BINDING_HTTP_REDIRECT
    from saml2.saml import NameID
    from saml2.xmldsig import SIG_RSA_SHA256

    with _client(request, provider) as client:
        entity_id = provider.saml_entity_id or _only_idp(client)
        try:
            services = client.metadata.single_logout_service(entity_id, BINDING_HTTP_REDIRECT, "idpsso")
            if not services:
                return None
            destination = services[0]["location"]
            request_id, message = client.create_logout_request(
                destination, entity_id, name_id=NameID(text=name_id, format=nameid_format or None),
                session_indexes=[session_index] if session_index else None, sign=False)
            info = client.apply_binding(BINDING_HTTP_REDIRECT, str(message), destination, relay_state, sign=True,
                                        sigalg=SIG_RSA_SHA256)
        except Exception as exc:  # pysaml2 raises many kinds for metadata it cannot use
            logger.warning("SAML logout request not built", extra={"idp": provider.name,
                                                                   "error": type(exc).__name__})
            raise ProviderError("the identity provider's metadata names no usable logout endpoint") from None
    return request_id, dict(info["headers"])["Location"]


def check_logout_response(request, provider, params: dict, request_id: str) -> None:
    """Refuse (ProviderError) a LogoutResponse that is not the IdP's signed, successful answer to `request_id`."""
    from saml2 import BINDING_HTTP_REDIRECT

    with _client(request, provider) as client:
        entity_id = provider.saml_entity_id or _only_idp(client)
        _verify_redirect_signature(client, entity_id, params, "SAMLResponse")
        try:
            response = client.parse_logout_request_response(params["SAMLResponse"], BINDING_HTTP_REDIRECT)
        except Exception as exc:
            raise ProviderError(f"the logout response was refused: {_reason(exc)}") from None
    if response is None:
        raise ProviderError("the logout response was refused: it is not valid")
    if response.issuer() != entity_id:
        raise ProviderError("the logout response was refused: it was issued by another provider")
    if response.response.in_response_to != request_id:
        raise ProviderError("the logout response was refused: it does not answer this sign-out's request")


def answer_logout_request(request, provider, params: dict, end_sessions) -> str:
    """An IdP-initiated LogoutRequest: check it, call end_sessions(name_id, session_indexes), and return the IdP
    URL carrying this SP's signed LogoutResponse (HTTP-Redirect, the request's RelayState echoed)."""
    from saml2 import BINDING_HTTP_REDIRECT
    from saml2.xmldsig import SIG_RSA_SHA256

    with _client(request, provider) as client:
        entity_id = provider.saml_entity_id or _only_idp(client)
        _verify_redirect_signature(client, entity_id, params, "SAMLRequest")
        try:
            parsed = client.parse_logout_request(params["SAMLRequest"], BINDING_HTTP_REDIRECT)
        except Exception as exc:
            raise ProviderError(f"the logout request was refused: {_reason(exc)}") from None
        message = parsed.message if parsed is not None else None
        if message is None or message.issuer is None or message.issuer.text != entity_id:
            raise ProviderError("the logout request was refused: it was issued by another provider")
        if message.name_id is None or not message.name_id.text:
            raise ProviderError("the logout request names no subject")
        end_sessions(message.name_id.text.strip(), [i.text for i in message.session_index or [] if i.text])
        try:
            response = client.create_logout_response(message, [BINDING_HTTP_REDIRECT], sign=False)
            info = client.apply_binding(BINDING_HTTP_REDIRECT, str(response), response.destination,
                                        params.get("RelayState", ""), response=True, sign=True,
                                        sigalg=SIG_RSA_SHA256)
        except Exception as exc:  # an IdP whose metadata names no HTTP-Redirect logout service to answer to
            logger.warning("SAML logout response not built", extra={"idp": provider.name,
                                                                    "error": type(exc).__name__})
            raise ProviderError("the sessions ended, but the identity provider's metadata names no logout "
                                "endpoint to answer to") from None
    return dict(info["headers"])["Location"]


def _verify_redirect_signature(client, entity_id: str, params: dict, kind: str) -> None:
    """HTTP-Redirect messages carry their signature in the query: required, by a signing key of the IdP."""
    from saml2.sigver import verify_redirect_signature

    if not params.get(kind) or len(params[kind]) > MAX_RESPONSE_CHARS:
        raise ProviderError("the identity provider sent no usable SAML message")
    if not params.get("Signature") or not params.get("SigAlg"):
        raise ProviderError("the SAML message is not signed")
    if params["SigAlg"] in WEAK_ALGORITHMS:
        raise ProviderError("the SAML message is signed with SHA-1 or MD5")
    signed = {k: params[k] for k in (kind, "RelayState", "SigAlg", "Signature") if k in params}
    certs = client.metadata.certs(entity_id, "idpsso", "signing")
    for _, cert in certs:
        try:
            if verify_redirect_signature(signed, client.sec.sec_backend, cert=cert):
                return
        except Exception:  # an unknown algorithm, a signature that is not base64
            continue
    raise ProviderError("the SAML message's signature does not verify")


def _refuse_weak_signatures(saml_response: str) -> None:
    """Refuse a response signed or digested with SHA-1 or MD5 (parsed safely: no entities, no DTDs)."""
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    try:
        root = fromstring(base64.b64decode(saml_response, validate=False))
    except (binascii.Error, ValueError, DefusedXmlException, SyntaxError):
        raise ProviderError("the identity provider sent a SAML response that is not XML") from None
    for tag in ("SignatureMethod", "DigestMethod"):
        for element in root.iter(_DS + tag):
            if element.get("Algorithm") in WEAK_ALGORITHMS:
                raise ProviderError("the SAML response was refused: it is signed with SHA-1 or MD5")


_REASONS = {
    "SignatureError": "its signature does not verify",
    "IncorrectlySigned": "its signature does not verify",
    "MissingSignature": "it is not signed",
    "SigverError": "its signature does not verify",
    "ResponseLifetimeExceed": "it has expired",
    "ToEarly": "it is not valid yet",
    "UnsolicitedResponse": "it does not answer this sign-in's request",
    "StatusError": "the identity provider refused the sign-in",
    "VerificationError": "its conditions, destination or recipient are not this sign-in's",
    "NotValid": "it is not valid now",
}


def _reason(exc: Exception) -> str:
    if "AudienceRestriction" in str(exc):  # pysaml2 raises a bare Exception for it
        return "it is for another service (audience)"
    return _REASONS.get(type(exc).__name__, "it did not pass the checks")


def _accept_once(provider, assertion) -> None:
    """Remember the assertion id until the assertion expires; refuse an id seen before (replay)."""
    from saml2.time_util import str_to_time

    until = None
    conditions = assertion.conditions
    if conditions is not None and conditions.not_on_or_after:
        until = calendar.timegm(str_to_time(conditions.not_on_or_after))
    ttl = int(until - time.time()) + SKEW_SECONDS if until else DEFAULT_REPLAY_SECONDS
    key = f"authflow:federation:saml-assertion:{provider.name}:" + hashlib.sha256(
        (assertion.id or "").encode()).hexdigest()
    if not assertion.id or not cache.add(key, 1, max(ttl, 1)):
        raise ProviderError("the SAML response was refused: its assertion was already used (replay)")
