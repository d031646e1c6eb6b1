"""A real HTTP server for the outbound call tests, on 127.0.0.1 in a thread of the test process.

    server = ScriptedServer().start()      # http://127.0.0.1:<free port>
    server.url("/score?score=80")
    server.wait_for(lambda r: r.path == "/score")   # the requests it received (Seen), waiting for one

Routes, by the last segment of the path (/api/score and /private/score are both "score"; the query
string sets the details):
    /score?score=N      200 {"score": N}
    /echo               200 {"method", "path", "query", "json" (the body parsed), "form", "authorized"}
                        (authorized: whether the Authorization or X-Api-Key header equals ?expect=...)
    /error?status=N     N (default 500) {"error": "boom"}
    /empty              204, no body
    /not-json           200 text/html
    /big?bytes=N        200, a JSON string of N bytes
    /slow?seconds=S     waits S seconds, then 200 {"slow": true}
    /hang               accepts the request and never answers (until the server stops)
    /gate               waits until the test calls release() (at most 20 s), then 200 {"released": true}
    /redirect?to=URL    302 to URL
    .../analytics       the analytics endpoint: 200 {"decision": payload.decision or "allow", "seen": n}
    /token              an OAuth 2.0 token endpoint (client credentials grant, client authenticated with HTTP
                        Basic): the clients are those the test registered with add_client(id, secret); 200
                        {"access_token", "token_type": "Bearer", "expires_in", "scope"?}, 401 invalid_client,
                        400 unsupported_grant_type
    /protected          200 {"authorized": true, "json", "query", "scope"?} for a Bearer token /token issued (and
                        not revoked with revoke_tokens()) or a header the test accepts with accept(name, value);
                        otherwise 401 {"error": "unauthorized"}
"""
from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from .servers import free_port


@dataclass
class Seen:
    method: str
    path: str
    query: dict
    headers: dict
    body: bytes
    at: float = field(default_factory=time.monotonic)

    def json(self):
        return json.loads(self.body or b"null")


class ScriptedServer:
    def __init__(self):
        self.port = free_port()
        self.seen: list[Seen] = []
        self._condition = threading.Condition()
        self._stopping = threading.Event()
        self._gate = threading.Event()
        self.clients: dict[str, str] = {}
        self.tokens: dict[str, str] = {}  # issued and still valid: token -> scope
        self.accepted: dict[str, str] = {}
        self.token_lifetime = 3600
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                server._handle(self)

            def do_POST(self):
                server._handle(self)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="scripted-http", daemon=True)

    def start(self) -> ScriptedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._gate.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    def reset(self) -> None:
        with self._condition:
            self.seen.clear()
            self.tokens.clear()
        self.clients.clear()
        self.accepted.clear()
        self._gate.clear()

    def add_client(self, client_id: str, secret: str) -> None:
        """Let /token issue tokens to this client."""
        self.clients[client_id] = secret

    def accept(self, header: str, value: str) -> None:
        """Let /protected admit a request with this header value (basic, bearer, apikey credentials)."""
        self.accepted[header.lower()] = value

    def revoke_tokens(self) -> None:
        """Every token issued so far is refused by /protected from now on (as after a key rotation)."""
        with self._condition:
            self.tokens.clear()

    def release(self) -> None:
        """Let the requests waiting at /gate answer."""
        self._gate.set()

    def requests(self, predicate: Callable[[Seen], bool] | None = None) -> list[Seen]:
        with self._condition:
            return [r for r in self.seen if predicate is None or predicate(r)]

    def wait_for(self, predicate: Callable[[Seen], bool] | None = None, timeout: float = 20.0) -> Seen:
        deadline = time.monotonic() + timeout
        with self._condition:
            while True:
                found = [r for r in self.seen if predicate is None or predicate(r)]
                if found:
                    return found[0]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"the HTTP server did not receive the request within {timeout:.0f}s; "
                                         f"it received: {[(r.method, r.path) for r in self.seen]}")
                self._condition.wait(min(left, 0.5))

    # ------------------------------------------------------------------ handling

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        seen = Seen(handler.command, parts.path, parse_qs(parts.query), dict(handler.headers.items()), body)
        with self._condition:
            self.seen.append(seen)
            self._condition.notify_all()
        query = {k: v[-1] for k, v in seen.query.items()}
        route = getattr(self, "_route_" + parts.path.rstrip("/").rsplit("/", 1)[-1].replace("-", "_"), None)
        if route is None:
            return self._send(handler, 404, {"error": "no such route"})
        return route(handler, seen, query)

    def _send(self, handler, status: int, data=None, *, raw: bytes | None = None, content_type="application/json",
              headers: dict | None = None) -> None:
        payload = raw if raw is not None else (b"" if data is None else json.dumps(data).encode())
        handler.send_response(status)
        if payload or status != 204:
            handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        if payload:
            handler.wfile.write(payload)

    def _route_score(self, handler, seen, query):
        self._send(handler, 200, {"score": int(query.get("score", "0"))})

    def _route_echo(self, handler, seen, query):
        expect = query.get("expect")
        given = seen.headers.get("Authorization") or seen.headers.get("X-Api-Key")
        parsed = None
        if seen.headers.get("Content-Type", "").startswith("application/json"):
            parsed = seen.json()
        form = None
        if seen.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
            form = parse_qs(seen.body.decode())
        self._send(handler, 200, {"method": seen.method, "path": seen.path, "query": seen.query, "json": parsed,
                                  "form": form, "authorized": expect is not None and given == expect})

    def _route_error(self, handler, seen, query):
        self._send(handler, int(query.get("status", "500")), {"error": "boom"})

    def _route_empty(self, handler, seen, query):
        self._send(handler, 204)

    def _route_not_json(self, handler, seen, query):
        self._send(handler, 200, raw=b"<html><body>not json</body></html>", content_type="text/html")

    def _route_big(self, handler, seen, query):
        size = int(query.get("bytes", "100000"))
        self._send(handler, 200, raw=json.dumps("x" * (size - 2)).encode())

    def _route_slow(self, handler, seen, query):
        if self._stopping.wait(float(query.get("seconds", "10"))):
            return
        self._send(handler, 200, {"slow": True})

    def _route_hang(self, handler, seen, query):
        self._stopping.wait(60)  # the connection stays open, silent

    def _route_gate(self, handler, seen, query):
        self._gate.wait(20)
        self._send(handler, 200, {"released": True})

    def _route_redirect(self, handler, seen, query):
        self._send(handler, 302, {}, headers={"Location": query["to"]})

    def _route_analytics(self, handler, seen, query):
        event = seen.json() or {}
        decision = (event.get("payload") or {}).get("decision", "allow")
        count = len(self.requests(lambda r: r.path == seen.path))
        self._send(handler, 200, {"decision": decision, "seen": count})

    def _route_token(self, handler, seen, query):
        form = {k: v[-1] for k, v in parse_qs(seen.body.decode()).items()}
        scheme, _, encoded = seen.headers.get("Authorization", "").partition(" ")
        try:
            client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
        except ValueError:
            client_id, secret = "", ""
        if scheme != "Basic" or client_id not in self.clients or self.clients[client_id] != secret:
            return self._send(handler, 401, {"error": "invalid_client"})
        if form.get("grant_type") != "client_credentials":
            return self._send(handler, 400, {"error": "unsupported_grant_type"})
        token = secrets.token_urlsafe(16)
        with self._condition:
            self.tokens[token] = form.get("scope", "")
        answer = {"access_token": token, "token_type": "Bearer", "expires_in": self.token_lifetime}
        if form.get("scope"):
            answer["scope"] = form["scope"]
        self._send(handler, 200, answer)

    def _route_protected(self, handler, seen, query):
        headers = {k.lower(): v for k, v in seen.headers.items()}
        scheme, _, token = headers.get("authorization", "").partition(" ")
        with self._condition:
            scope = self.tokens.get(token) if scheme == "Bearer" else None
        admitted = scope is not None or any(headers.get(k) == v for k, v in self.accepted.items())
        if not admitted:
            return self._send(handler, 401, {"error": "unauthorized"})
        parsed = seen.json() if seen.headers.get("Content-Type", "").startswith("application/json") else None
        answer = {"authorized": True, "json": parsed, "query": query}
        if scope:
            answer["scope"] = scope
        self._send(handler, 200, answer)
