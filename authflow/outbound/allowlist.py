"""Which URLs a script may call: normalising a URL, and matching it against the allowed endpoints.

An allowed endpoint is a URL prefix: scheme, host, optional port and a path.
A URL is allowed when, once normalised, its scheme, host and port are
exactly the endpoint's and its path is the endpoint's path or lies below it
(segment by segment: "/api" covers "/api" and "/api/score", not "/apix").
There are no wildcards.  Nothing is resolved: the list is about URLs, and
an administrator who allows a host name trusts whatever it resolves to.

Normalising refuses what could make the server see another URL than the
one checked: anything but http and https, credentials in the URL, control
characters, spaces and backslashes, and encoded dots and slashes in the
path (%2e, %2f, %5c: HTTP libraries and servers decode some of them).  Dot
segments are resolved, the host is lower-cased (IDNA for non-ASCII names)
without a trailing dot, the scheme's default port is dropped and the
fragment too.  The request is then made to the normalised URL, so what was
checked is what is sent.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2048
DEFAULT_PORTS = {"http": 80, "https": 443}
_FORBIDDEN_CHARACTERS = re.compile(r"[\x00-\x20\x7f\\]")
_AMBIGUOUS_ESCAPES = re.compile(r"%(2e|2f|5c)", re.IGNORECASE)


class NotAllowed(ValueError):
    """A URL no script may call (whatever the allow-list says); the message says why, without the URL."""


@dataclass(frozen=True)
class Address:
    scheme: str
    host: str
    port: int
    path: str
    query: str = ""

    @property
    def origin(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = "" if DEFAULT_PORTS[self.scheme] == self.port else f":{self.port}"
        return f"{self.scheme}://{host}{port}"

    @property
    def url(self) -> str:
        return self.origin + self.path + (f"?{self.query}" if self.query else "")

    def below(self, prefix: Address) -> bool:
        """Whether this address is under the endpoint `prefix` (same origin, path at or below its path)."""
        if (self.scheme, self.host, self.port) != (prefix.scheme, prefix.host, prefix.port):
            return False
        if prefix.path.endswith("/"):
            return self.path.startswith(prefix.path)
        return self.path == prefix.path or self.path.startswith(prefix.path + "/")


def normalise(url, *, prefix: bool = False) -> Address:
    """The URL as it will be requested; NotAllowed when it is not one a script may call.

    With `prefix`, `url` is an allowed endpoint: it may have no query.
    """
    if not isinstance(url, str) or not url:
        raise NotAllowed("not a URL")
    if len(url) > MAX_URL_LENGTH:
        raise NotAllowed("the URL is too long")
    if _FORBIDDEN_CHARACTERS.search(url):
        raise NotAllowed("the URL has spaces, control characters or backslashes")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise NotAllowed("not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise NotAllowed("only http and https URLs can be called")
    if "@" in parts.netloc:
        raise NotAllowed("credentials in the URL are not allowed (use authConfig or a header)")
    host = _host(parts.hostname or "")
    path = parts.path or "/"
    if _AMBIGUOUS_ESCAPES.search(path):
        raise NotAllowed("encoded dots, slashes or backslashes in the path are not allowed")
    if prefix and (parts.query or "?" in url):
        raise NotAllowed("an allowed endpoint has no query")
    return Address(scheme=scheme, host=host, port=port if port is not None else DEFAULT_PORTS[scheme],
                   path=_without_dot_segments(path), query=parts.query)


def _host(hostname: str) -> str:
    host = hostname.lower().rstrip(".")
    if not host:
        raise NotAllowed("the URL has no host")
    if ":" in host:  # an IPv6 literal (urlsplit removed the brackets)
        if not re.fullmatch(r"[0-9a-f:.]+", host):
            raise NotAllowed("not a valid host")
        return host
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise NotAllowed("not a valid host name") from None
    if not re.fullmatch(r"[a-z0-9._-]+", host) or ".." in host:
        raise NotAllowed("not a valid host name")
    return host


def _without_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4, for an absolute path: "/a/./b/../c" -> "/a/c"."""
    out: list[str] = []
    segments = path.split("/")[1:]
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == ".":
            if last:
                out.append("")
        elif segment == "..":
            if out:
                out.pop()
            if last:
                out.append("")
        else:
            out.append(segment)
    return "/" + "/".join(out)


def covered(address: Address, endpoints) -> bool:
    """Whether one of the allowed endpoints (Address values) covers `address`."""
    return any(address.below(endpoint) for endpoint in endpoints)
