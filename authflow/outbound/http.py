"""Making one outbound request and turning what happened into a call's outcome.

    perform(request, timeout=..., max_bytes=..., may_follow=...) -> Outcome(result, data, http_status, detail)

success: a 2xx answer with a JSON body (an empty body gives {}); data is the JSON.
fail:    {"status": N, "error": "HTTP N"} for any other status; {"status": N, "error": "the response is not
         JSON"}; {"status": N, "error": "the response is too large"}; {"error": "could not connect"};
         {"status": N, "error": "redirect not allowed"}.
timeout: {"error": "timed out"}: connecting or answering took longer than the call's time, in total.

The environment is not trusted (no proxy variables, no .netrc credentials).
Redirects are followed only to a URL on the same origin that `may_follow`
accepts (the allow-list), at most MAX_REDIRECTS times; the response is read
without decompression (Accept-Encoding: identity), at most `max_bytes`.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urljoin

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ProtocolError, ReadTimeoutError

from . import allowlist
from .addresses import InternalAddress, check_peer

MAX_REDIRECTS = 3
USER_AGENT = "authflow (login script call)"
CHUNK = 8192


@dataclass
class Outcome:
    result: str  # success | fail | timeout
    data: Any
    http_status: int | None = None
    detail: str = ""


TIMED_OUT = "timed out"


def timed_out() -> Outcome:
    return Outcome("timeout", {"error": TIMED_OUT}, None, TIMED_OUT)


class _PeerChecked:
    """A urllib3 connection that refuses, once connected, an internal peer its host may not reach."""

    def _new_conn(self):
        sock = super()._new_conn()
        try:
            check_peer(self.host, sock.getpeername()[0])
        except InternalAddress:
            sock.close()
            raise
        return sock


class _GuardedHTTPConnection(_PeerChecked, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_PeerChecked, HTTPSConnection):
    pass


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    """Connections that refuse internal addresses a host name resolved to (addresses.py)."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}


def perform(request: dict, *, timeout: float, max_bytes: int,
            may_follow: Callable[[allowlist.Address], bool] = lambda address: False,
            extra_headers: dict | None = None, guard_addresses: bool = True) -> Outcome:
    """Make the request; `guard_addresses` False only for the operator's own endpoints (analytics)."""
    started = time.monotonic()
    method, url = request["method"], request["url"]
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    headers.update(request.get("headers") or {})
    headers.update(extra_headers or {})
    headers["Accept-Encoding"] = "identity"
    body = _encode(request, headers)
    session = requests.Session()
    session.trust_env = False
    if guard_addresses:
        session.mount("http://", _GuardedAdapter())
        session.mount("https://", _GuardedAdapter())
    try:
        for hop in range(MAX_REDIRECTS + 1):
            left = timeout - (time.monotonic() - started)
            if left <= 0:
                return timed_out()
            response = session.request(method, url, headers=headers, data=body, timeout=(left, left),
                                       allow_redirects=False, stream=True)
            with response:
                status = response.status_code
                location = response.headers.get("Location")
                if status in (301, 302, 303, 307, 308) and location:
                    target = _redirect_target(url, location, may_follow)
                    if target is None or hop == MAX_REDIRECTS:
                        error = "redirect not allowed" if target is None else "too many redirects"
                        return Outcome("fail", {"status": status, "error": error}, status, error)
                    if status == 303 or (status in (301, 302) and method == "POST"):
                        method, body = "GET", None
                        headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
                    url = target
                    continue
                content = _read(response, max_bytes, started, timeout)
                if content is None:
                    return Outcome("fail", {"status": status, "error": "the response is too large"}, status,
                                   "response too large")
                if isinstance(content, Outcome):
                    return content
                return _classify(status, content)
        return Outcome("fail", {"error": "too many redirects"}, None, "too many redirects")  # not reached
    except requests.Timeout:
        return timed_out()
    except requests.ConnectionError as exc:
        if _is_read_timeout(exc):
            return timed_out()
        if _caused_by(exc, InternalAddress):
            error = "the host resolves to an internal address"
            return Outcome("fail", {"error": error}, None, error)
        return Outcome("fail", {"error": "could not connect"}, None, "could not connect")
    except InternalAddress:
        error = "the host resolves to an internal address"
        return Outcome("fail", {"error": error}, None, error)
    except ReadTimeoutError:  # while reading the body (the raw stream is urllib3's)
        return timed_out()
    except (requests.RequestException, ProtocolError):
        return Outcome("fail", {"error": "the request failed"}, None, "request failed")
    finally:
        session.close()


def _encode(request: dict, headers: dict) -> bytes | None:
    if request["method"] == "GET":
        return None
    if "form" in request:
        return urlencode(request["form"], doseq=True).encode()
    if not any(k.lower() == "content-type" for k in headers):
        headers["Content-Type"] = "application/json"
    return json.dumps(request.get("body")).encode()


def _redirect_target(current: str, location: str, may_follow) -> str | None:
    """The normalised URL to follow to, or None when the redirect leaves the origin or the allow-list."""
    try:
        here = allowlist.normalise(current)
        there = allowlist.normalise(urljoin(current, location))
    except allowlist.NotAllowed:
        return None
    if there.origin != here.origin or not may_follow(there):
        return None
    return there.url


def _read(response, max_bytes: int, started: float, timeout: float):
    """The body (bytes), None when it is larger than max_bytes, or a timeout Outcome."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        return None
    chunks, size = [], 0
    for chunk in response.raw.stream(CHUNK, decode_content=False):
        size += len(chunk)
        if size > max_bytes:
            return None
        if time.monotonic() - started > timeout:
            return timed_out()
        chunks.append(chunk)
    return b"".join(chunks)


def _classify(status: int, content: bytes) -> Outcome:
    if not 200 <= status < 300:
        return Outcome("fail", {"status": status, "error": f"HTTP {status}"}, status, f"HTTP {status}")
    if not content.strip():
        return Outcome("success", {}, status, "")
    try:
        data = json.loads(content.decode("utf-8-sig"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return Outcome("fail", {"status": status, "error": "the response is not JSON"}, status, "not JSON")
    return Outcome("success", data, status, "")


def _no_constant(name):
    raise ValueError(f"{name} is not JSON")  # NaN and Infinity: Python accepts them, JSON (and the journal) do not


def _is_read_timeout(exc: Exception) -> bool:
    return _caused_by(exc, (ReadTimeoutError, TimeoutError))


def _caused_by(exc: BaseException | None, kinds) -> bool:
    """Whether `exc` is, wraps, or was raised from one of `kinds` (requests and urllib3 nest their errors)."""
    pending, seen = [exc], set()
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, kinds):
            return True
        pending.extend(arg for arg in current.args if isinstance(arg, BaseException))
        reason = getattr(current, "reason", None)  # urllib3's MaxRetryError
        pending.extend([reason if isinstance(reason, BaseException) else None, current.__cause__,
                        current.__context__])
    return False
