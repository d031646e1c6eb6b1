"""A minimal HTTP browser for protocol tests: cookies, redirects it follows by hand, and forms."""
from __future__ import annotations

import re
from html import unescape
from urllib.parse import urljoin

import requests

_INPUT = re.compile(r"<input\b[^>]*>", re.I)
_ATTR = re.compile(r'(\w[\w-]*)="([^"]*)"')


class Browser:
    def __init__(self, base_url: str, stop_at: str = ""):
        self.base_url = base_url
        self.stop_at = stop_at  # redirects to here are returned, not followed (the application's callback)
        self.session = requests.Session()
        self.page = None

    def get(self, url: str) -> requests.Response:
        return self._follow(self.session.get(urljoin(self.base_url, url), allow_redirects=False, timeout=30))

    def submit(self, data: dict, url: str | None = None, keep=("form_token", "position", "option")):
        """POST the current page's form: its hidden fields named in `keep`, plus `data`."""
        fields = {k: v for k, v in self.hidden_fields().items() if k in keep}
        fields.update(data)
        target = url or self.page.url
        response = self.session.post(target, data=fields, allow_redirects=False, timeout=30,
                                     headers={"Referer": target})
        return self._follow(response)

    def hidden_fields(self) -> dict:
        fields = {}
        for tag in _INPUT.findall(self.page.text):
            attrs = dict(_ATTR.findall(tag))
            if attrs.get("type") == "hidden" and "name" in attrs:
                fields[attrs["name"]] = unescape(attrs.get("value", ""))
        return fields

    def header(self, name: str) -> str | None:
        """`name` as the first response of the last get/submit that had it (before the redirects it led to)."""
        return next((r.headers[name] for r in self.trail if name in r.headers), None)

    def _follow(self, response):
        self.trail = [response]  # every response of this navigation, redirects included
        for _ in range(20):
            location = response.headers.get("Location")
            if response.status_code not in (301, 302, 303) or not location:
                break
            location = urljoin(response.url, location)
            if self.stop_at and location.startswith(self.stop_at):
                self.page = response
                response.callback = location
                return response
            response = self.session.get(location, allow_redirects=False, timeout=30)
            self.trail.append(response)
        response.callback = None
        self.page = response
        return response
