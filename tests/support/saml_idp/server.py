"""A SAML 2.0 identity provider for tests, built on pysaml2's own IdP (saml2.server.Server), not on this project.

    python server.py CONFIG.json

CONFIG: {"port", "base", "sp_metadata_url", "key_file", "cert_file", "users": {name: {"password", "attributes"}}}.
It serves its metadata at /metadata, takes AuthnRequests over HTTP-Redirect at /sso (checking their signature
with the key in the SP's metadata), shows a sign-in form and answers with a signed Response over HTTP-POST.
/test/mode?audience=...&clock_offset_minutes=... changes what the next responses say (wrong audience, expired).
Single logout over HTTP-Redirect at /slo: an SP's signed LogoutRequest ends the user's session here and gets a
signed LogoutResponse; /test/idp-logout?username=... sends the SP an IdP-initiated LogoutRequest (a redirect),
whose LogoutResponse comes back to /slo.  /test/last-logout says what the last logout messages were.
"""
import json
import re
import shutil
import sys
import time
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import requests
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAMEID_FORMAT_PERSISTENT, NameID
from saml2.server import Server
from saml2.sigver import verify_redirect_signature
from saml2.xmldsig import DIGEST_SHA1, DIGEST_SHA256, SIG_RSA_SHA1, SIG_RSA_SHA256

from saml2.assertion import Policy

CONFIG = json.loads(open(sys.argv[1]).read())
MODE = {"audience": None, "clock_offset_minutes": 0, "sha1": False, "unsigned_logout": False}
LAST = {}
LAST_LOGOUT = {}
# username -> the SessionIndex of their session here (what a LogoutRequest names)
SESSIONS = {}
_conditions = Policy.conditions


def _conditions_for_mode(self, sp_entity_id):
    """pysaml2's own conditions, for the audience and from the clock the test asked for (misaddressed, expired)."""
    conditions = _conditions(self, MODE["audience"] or sp_entity_id)
    if MODE["clock_offset_minutes"]:
        now = time.time() + 60 * MODE["clock_offset_minutes"]
        conditions.not_before = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
        conditions.not_on_or_after = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 5 * 60))
    return conditions


Policy.conditions = _conditions_for_mode


def server() -> Server:
    sp_metadata = requests.get(CONFIG["sp_metadata_url"], timeout=10).text
    config = IdPConfig()
    config.load({
        "entityid": CONFIG["base"] + "/metadata",
        "xmlsec_binary": shutil.which("xmlsec1"),
        "key_file": CONFIG["key_file"], "cert_file": CONFIG["cert_file"],
        "metadata": {"inline": [sp_metadata]},
        "service": {"idp": {
            "endpoints": {"single_sign_on_service": [(CONFIG["base"] + "/sso", BINDING_HTTP_REDIRECT)],
                          "single_logout_service": [(CONFIG["base"] + "/slo", BINDING_HTTP_REDIRECT)]},
            "name_id_format": [NAMEID_FORMAT_PERSISTENT],
            "policy": {"default": {"lifetime": {"minutes": 15},
                                   "attribute_restrictions": None, "name_form": "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"}},
        }},
    })
    return Server(config=config)


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _redirect(self, location):
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _signed_by_sp(self, idp, query, issuer):
        certs = idp.metadata.certs(issuer, "spsso", "signing")
        return bool(query.get("Signature")) and any(
            verify_redirect_signature(dict(query), idp.sec.sec_backend, cert=cert[1]) for cert in certs)

    def _slo(self, query):
        idp = server()
        if "SAMLRequest" in query:  # the SP signs its user out here
            request = idp.parse_logout_request(query["SAMLRequest"], BINDING_HTTP_REDIRECT).message
            signed = self._signed_by_sp(idp, query, request.issuer.text)
            LAST_LOGOUT.clear()
            LAST_LOGOUT.update({"request_from_sp": True, "signed": signed, "name_id": request.name_id.text,
                                "session_indexes": [i.text for i in request.session_index or []]})
            if not signed:
                return self._send(400, "unsigned LogoutRequest refused")
            SESSIONS.pop(request.name_id.text, None)
            response = idp.create_logout_response(request, [BINDING_HTTP_REDIRECT], sign=False)
            info = idp.apply_binding(BINDING_HTTP_REDIRECT, str(response), response.destination,
                                     query.get("RelayState", ""), response=True,
                                     sign=not MODE["unsigned_logout"], sigalg=SIG_RSA_SHA256)
            return self._redirect(dict(info["headers"])["Location"])
        # The SP's answer to our LogoutRequest.
        response = idp.parse_logout_request_response(query["SAMLResponse"], BINDING_HTTP_REDIRECT)
        LAST_LOGOUT.update({"response_from_sp": True, "in_response_to": response.response.in_response_to,
                            "status": response.response.status.status_code.value,
                            "response_signed": self._signed_by_sp(idp, query, response.issuer())})
        return self._send(200, "<h1>Test IdP: signed out</h1>")

    def _idp_logout(self, query):
        idp = server()
        sp_entity = CONFIG["sp_metadata_url"]  # the SP's entity id is its metadata URL
        destination = idp.metadata.single_logout_service(sp_entity, BINDING_HTTP_REDIRECT, "spsso")[0]["location"]
        username = query.get("username", "")
        session_index = query.get("session_index") or SESSIONS.get(username)
        request_id, request = idp.create_logout_request(
            destination, sp_entity, name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text=username),
            session_indexes=[session_index] if session_index else None, sign=False)
        LAST_LOGOUT.clear()
        LAST_LOGOUT.update({"request_id": request_id})
        info = idp.apply_binding(BINDING_HTTP_REDIRECT, str(request), destination, query.get("relay_state", ""),
                                 sign=not MODE["unsigned_logout"], sigalg=SIG_RSA_SHA256)
        return self._redirect(dict(info["headers"])["Location"])

    def _send(self, status, body, content_type="text/html; charset=utf-8"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/metadata":
            idp = server()
            return self._send(200, create_metadata_string(None, idp.config, sign=False).decode(), "application/xml")
        if url.path == "/test/mode":
            MODE["audience"] = query.get("audience") or None
            MODE["clock_offset_minutes"] = int(query.get("clock_offset_minutes", 0))
            MODE["sha1"] = query.get("sha1") == "1"
            MODE["unsigned_logout"] = query.get("unsigned_logout") == "1"
            return self._send(200, "ok", "text/plain")
        if url.path == "/test/last-request":
            return self._send(200, json.dumps(LAST), "application/json")
        if url.path == "/test/last-logout":
            return self._send(200, json.dumps({**LAST_LOGOUT, "sessions": SESSIONS}), "application/json")
        if url.path == "/test/idp-logout":
            return self._idp_logout(query)
        if url.path == "/slo":
            return self._slo(query)
        if url.path == "/sso":
            idp = server()
            parsed = idp.parse_authn_request(query["SAMLRequest"], BINDING_HTTP_REDIRECT)
            request = parsed.message
            sp_certs = idp.metadata.certs(request.issuer.text, "spsso", "signing")
            signed = bool(query.get("Signature")) and any(
                verify_redirect_signature({k: v for k, v in query.items()}, idp.sec.sec_backend, cert=cert[1])
                for cert in sp_certs)
            LAST.clear()
            LAST.update({"id": request.id, "issuer": request.issuer.text, "signed": signed,
                         "acs": request.assertion_consumer_service_url, "relay_state": query.get("RelayState"),
                         "sig_alg": query.get("SigAlg"),
                         "nameid_format": request.name_id_policy.format if request.name_id_policy else None,
                         "force_authn": request.force_authn, "is_passive": request.is_passive,
                         "authn_context": [c.text for c in request.requested_authn_context.authn_context_class_ref]
                         if request.requested_authn_context else None,
                         "extra_query": {k: v for k, v in query.items()
                                         if k not in ("SAMLRequest", "RelayState", "SigAlg", "Signature")}})
            if not signed:
                return self._send(400, "unsigned AuthnRequest refused")
            fields = "".join(f'<input type="hidden" name="{k}" value="{escape(v)}">'
                             for k, v in {"id": request.id, "sp": request.issuer.text,
                                          "acs": request.assertion_consumer_service_url,
                                          "relay_state": query.get("RelayState", "")}.items())
            return self._send(200, f'<html><body><h1>Test IdP sign-in</h1><form method="post" action="/login">'
                                   f'{fields}<input name="username"><input name="password" type="password">'
                                   f'<button>Sign in</button></form></body></html>')
        return self._send(404, "not found", "text/plain")

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        if urlsplit(self.path).path != "/login":
            return self._send(404, "not found", "text/plain")
        user = CONFIG["users"].get(form.get("username", ""))
        if user is None or user["password"] != form.get("password"):
            return self._send(401, "wrong password")
        idp = server()
        response = idp.create_authn_response(
            identity=user["attributes"], in_response_to=form["id"], destination=form["acs"],
            sp_entity_id=form["sp"], userid=form["username"],
            name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text=form["username"]),
            authn={"class_ref": "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport",
                   "authn_auth": CONFIG["base"] + "/metadata"},
            sign_response=True, sign_assertion=True,
            sign_alg=SIG_RSA_SHA1 if MODE["sha1"] else SIG_RSA_SHA256,
            digest_alg=DIGEST_SHA1 if MODE["sha1"] else DIGEST_SHA256)
        session_index = re.search(r'SessionIndex="([^"]+)"', str(response))
        SESSIONS[form["username"]] = session_index.group(1) if session_index else None
        info = idp.apply_binding(BINDING_HTTP_POST, str(response), form["acs"], form.get("relay_state", ""),
                                 response=True)
        return self._send(200, info["data"])


ThreadingHTTPServer(("127.0.0.1", CONFIG["port"]), Handler).serve_forever()
