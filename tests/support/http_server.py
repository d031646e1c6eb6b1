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
"""
from __future__ import annotations

import json
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
        self._gate.clear()

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
