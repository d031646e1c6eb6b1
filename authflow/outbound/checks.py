"""Whether a script's call may be made, and the request it becomes: the one check the server and simulate share.

    request_for(command, is_allowed=..., secret=...) -> the request to make, or raises Refused

`is_allowed(address)` says whether the allow-list covers a normalised URL
(the server: the enabled AllowedEndpoint rows; `manage.py simulate`: the
scenario's allowedEndpoints); `secret(name)` reads a named secret (the
vault; the scenario's secrets), for callChoreo's consumerKeyAlias and
consumerSecretAlias.  Nothing here touches the database or the network, so
a call simulate accepts is one the server accepts, and one it refuses is
refused on the server with the same data.

authConfig, as the reference API names its types and properties:

    basic             username, password               Authorization: Basic base64(username:password)
    bearer            token                            Authorization: Bearer token
    apikey            apiKey, headerName (X-API-KEY)   headerName: apiKey
    clientcredential  consumerKey, consumerSecret,     Authorization: Bearer <a token the worker gets from
                      tokenEndpoint, scope (optional)  tokenEndpoint with the client credentials grant>

The token endpoint is called by the server on the script's behalf, so it
must be on the allow-list like the URL itself.  A request that carries
client credentials keeps them under "clientCredential" until the worker
turns them into a token (credentials.py); every request travels sealed.
"""
from __future__ import annotations

import base64
import json
from collections.abc import Callable

from django.conf import settings

from authflow.net import is_header_name

from . import allowlist

# The functions whose request is checked here, and their method.
FUNCTIONS = {"httpGet": "GET", "httpPost": "POST", "callChoreo": "POST"}
# authConfig types and the properties each needs (type names are matched without regard to case).
AUTH_TYPES = {
    "basic": ("username", "password"),
    "bearer": ("token",),
    "apikey": ("apiKey",),
    "clientcredential": ("consumerKey", "consumerSecret", "tokenEndpoint"),
}
# Earlier spellings this server accepted, kept so that published scripts using them still run.
AUTH_TYPE_ALIASES = {"basicauth": "basic", "bearertoken": "bearer"}
DEFAULT_API_KEY_HEADER = "X-API-KEY"
# Headers a script may not set: they would change where or how the request goes.
FORBIDDEN_HEADERS = {
    "host", "content-length", "transfer-encoding", "connection", "keep-alive", "te", "trailer", "upgrade",
    "proxy-authorization", "proxy-connection", "expect", "accept-encoding",
}
MAX_HEADERS = 32
MAX_HEADER_VALUE = 8192
MAX_BODY_BYTES = 64 * 1024
MAX_SCOPE_LENGTH = 1024


class Refused(Exception):
    """A call that is answered at once with r="fail" and `data` (the script's onFail gets it)."""

    def __init__(self, data: dict, detail: str, url: str = ""):
        super().__init__(detail)
        self.data = data
        self.detail = detail
        self.url = url


def request_for(command: dict, *, is_allowed: Callable[[allowlist.Address], bool],
                secret: Callable[[str], str | None] = lambda name: None) -> dict:
    """What the worker sends for the call `command`: {"function", "method", "url", "headers", "body"|"form"?,
    "clientCredential"?}; Refused when the server answers it fail at once."""
    function = command.get("function")
    if function not in FUNCTIONS:
        raise Refused({"error": "unknown function"}, "unknown function")
    address = _allowed_address(command.get("url"), is_allowed)
    if function == "callChoreo":
        return _choreo_request(command, address, is_allowed, secret)
    headers = _headers(command.get("headers"), address.url)
    request = {"function": function, "method": FUNCTIONS[function], "url": address.url, "headers": headers}
    credential = _apply_auth(headers, command.get("authConfig"), address.url, is_allowed)
    if credential:
        request["clientCredential"] = credential
    if function == "httpPost":
        request.update(_body(command.get("body"), headers, address.url))
    return request


def _allowed_address(given, is_allowed, *, what: str = "the URL") -> allowlist.Address:
    url = given if isinstance(given, str) else ""
    try:
        address = allowlist.normalise(url)
    except allowlist.NotAllowed as exc:
        reason = str(exc) if what == "the URL" else f"{what}: {exc}"
        raise Refused({"error": "not allowed", "reason": reason}, f"not allowed: {reason}", url) from None
    if not is_allowed(address):
        reason = f"{what} is not on the allow-list"
        raise Refused({"error": "not allowed", "reason": reason}, f"not allowed: {reason}", address.url)
    return address


def _headers(given, url: str) -> dict:
    if given is None:
        return {}
    if not isinstance(given, dict) or len(given) > MAX_HEADERS:
        raise Refused({"error": "invalid headers"}, "invalid headers", url)
    headers = {}
    for name, value in given.items():
        if not is_header_name(name) or name.lower() in FORBIDDEN_HEADERS:
            raise Refused({"error": "this header cannot be sent", "header": str(name)[:100]},
                          f"header not sent: {str(name)[:100]}", url)
        if not sendable(value):
            raise Refused({"error": "invalid header value", "header": name}, f"invalid value for header {name}", url)
        headers[name] = value
    return headers


def auth_type(auth) -> str:
    """The authConfig's type as this module names it ("" when there is none or it is not a string)."""
    kind = auth.get("type") if isinstance(auth, dict) else None
    kind = kind.lower() if isinstance(kind, str) else ""
    return AUTH_TYPE_ALIASES.get(kind, kind)


def _apply_auth(headers: dict, auth, url: str, is_allowed) -> dict | None:
    """Put authConfig's credentials in the headers; for clientcredential, what the worker needs to get a token."""
    if auth is None:
        return None
    kind = auth_type(auth)
    if kind not in AUTH_TYPES:
        shown = str(auth.get("type", ""))[:50] if isinstance(auth, dict) else ""
        raise Refused({"error": "unsupported authConfig type", "type": shown,
                       "supported": sorted(AUTH_TYPES)}, f"unsupported authConfig type {shown!r}", url)
    properties = auth.get("properties")
    required = AUTH_TYPES[kind]
    if not isinstance(properties, dict) or not all(isinstance(properties.get(p), str) and properties[p]
                                                  for p in required):
        raise Refused({"error": "authConfig is missing properties", "type": kind, "required": list(required)},
                      f"authConfig {kind} without its properties", url)
    if kind == "clientcredential":
        credential = client_credential(properties["tokenEndpoint"], properties["consumerKey"],
                                       properties["consumerSecret"], properties.get("scope"), url, is_allowed)
        _drop(headers, "Authorization")
        return credential
    if kind == "basic":
        pair = f"{properties['username']}:{properties['password']}".encode()
        name, value = "Authorization", "Basic " + base64.b64encode(pair).decode()
    elif kind == "bearer":
        name, value = "Authorization", "Bearer " + properties["token"]
    else:
        name = properties.get("headerName") or DEFAULT_API_KEY_HEADER
        value = properties["apiKey"]
    if not isinstance(name, str) or not is_header_name(name) or name.lower() in FORBIDDEN_HEADERS \
            or not sendable(value):
        raise Refused({"error": "authConfig cannot be sent", "type": kind}, f"authConfig {kind} cannot be sent", url)
    _drop(headers, name)
    headers[name] = value
    return None


def client_credential(token_endpoint, consumer_key, consumer_secret, scope, url: str, is_allowed) -> dict:
    """The client credentials grant's parameters, checked: the token endpoint on the allow-list, sendable values."""
    endpoint = _allowed_address(token_endpoint, is_allowed, what="the token endpoint")
    if scope is not None and (not isinstance(scope, str) or len(scope) > MAX_SCOPE_LENGTH
                              or any(c in scope for c in "\r\n\0")):
        raise Refused({"error": "authConfig cannot be sent", "type": "clientcredential"},
                      "authConfig clientcredential: invalid scope", url)
    if not (sendable(consumer_key) and sendable(consumer_secret)):
        raise Refused({"error": "authConfig cannot be sent", "type": "clientcredential"},
                      "authConfig clientcredential cannot be sent", url)
    credential = {"tokenEndpoint": endpoint.url, "consumerKey": consumer_key, "consumerSecret": consumer_secret}
    if scope:
        credential["scope"] = scope
    return credential


def _choreo_request(command: dict, address: allowlist.Address, is_allowed, secret) -> dict:
    """callChoreo: POST the payload as JSON with a token from the Choreo token endpoint (the operator's setting)."""
    url = address.url
    configured = getattr(settings, "AUTHFLOW_CHOREO_TOKEN_ENDPOINT", "")
    if not configured:
        raise Refused({"error": "Choreo is not configured"}, "no Choreo token endpoint (AUTHFLOW_CHOREO_TOKEN_ENDPOINT)",
                      url)
    connection = command.get("connection")
    if not isinstance(connection, dict):
        raise Refused({"error": "invalid connection metadata"}, "callChoreo without connection metadata", url)
    values = {}
    for name in ("consumerKey", "consumerSecret"):
        value = connection.get(name)
        alias = connection.get(name + "Alias")
        if not (isinstance(value, str) and value) and isinstance(alias, str) and alias:
            value = secret(alias)
            if value is None:
                raise Refused({"error": "no such secret", "secret": alias[:100]},
                              f"callChoreo: no secret named {alias[:100]!r}", url)
        if not (isinstance(value, str) and value):
            raise Refused({"error": "invalid connection metadata", "required": [name, name + "Alias"]},
                          f"callChoreo without {name}", url)
        values[name] = value
    # The operator's endpoint: trusted, so not matched against the allow-list (as for analytics).
    credential = client_credential(configured, values["consumerKey"], values["consumerSecret"], None, url,
                                   lambda endpoint: True)
    body = command.get("payload")
    if len(json.dumps(body).encode()) > MAX_BODY_BYTES:
        raise Refused({"error": "the request body is too large"}, "request body too large", url)
    return {"function": "callChoreo", "method": "POST", "url": url, "clientCredential": credential,
            "headers": {"Content-Type": "application/json"}, "body": body}


def _drop(headers: dict, name: str) -> None:
    for existing in [h for h in headers if h.lower() == name.lower()]:
        del headers[existing]


def sendable(value) -> bool:
    """A header value HTTP can carry: text of Latin-1 characters without line breaks, not too long."""
    if not isinstance(value, str) or len(value) > MAX_HEADER_VALUE or any(c in value for c in "\r\n\0"):
        return False
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def _body(body, headers: dict, url: str) -> dict:
    """httpPost's body: JSON, or a form when the script's Content-Type says so (as the reference API does)."""
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    if content_type.split(";")[0].strip().lower() == "application/x-www-form-urlencoded" and isinstance(body, dict):
        form = {str(k): [str(x) for x in v] if isinstance(v, list) else ["" if v is None else str(v)]
                for k, v in body.items()}
        size = sum(len(k) + sum(len(x) for x in v) for k, v in form.items())
        part = {"form": form}
    else:
        size = len(json.dumps(body).encode())
        part = {"body": body}
    if size > MAX_BODY_BYTES:
        raise Refused({"error": "the request body is too large"}, "request body too large", url)
    return part


def redacted(command: dict) -> dict:
    """A call command to show (simulate's trace): authConfig's and connection's values masked, except names."""
    shown = dict(command)
    auth = shown.get("authConfig")
    if isinstance(auth, dict):
        properties = auth.get("properties")
        visible = {"headerName", "tokenEndpoint", "scope", "username", "consumerKey"}
        shown["authConfig"] = dict(auth, properties={
            k: (v if k in visible else "***") for k, v in properties.items()}) if isinstance(properties, dict) else auth
    connection = shown.get("connection")
    if isinstance(connection, dict):
        shown["connection"] = {k: ("***" if k == "consumerSecret" else v) for k, v in connection.items()}
    return shown
