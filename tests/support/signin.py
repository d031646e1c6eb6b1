"""A browser at an application's password page (Django's test client), trying usernames and passwords."""
from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlencode, urlsplit

from django.test import Client

from tests.support.config import CALLBACK

# RFC 7636's example PKCE pair.
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


class SignInPage:
    def __init__(self, client_id: str = "portal"):
        self.client = Client(raise_request_exception=False)
        page = self.client.get("/o/authorize/", {
            "client_id": client_id, "response_type": "code", "scope": "openid", "redirect_uri": CALLBACK,
            "state": "s", "code_challenge": "E9Melhoa2OwvFrEMTJguCQaoWrCXFnwS4VCgf5qE_Hg",
            "code_challenge_method": "S256"}, follow=True)
        assert page.status_code == 200, page.status_code
        self.url = page.redirect_chain[-1][0]
        self._read(page)

    def _read(self, page):
        self.text = page.content.decode()
        assert page.status_code == 200, (page.status_code, self.text[:500])
        self.fields = dict(re.findall(r'name="(form_token|position)" value="([^"]*)"', self.text))
        error = re.search(r'role="alert">([^<]*)<', self.text)
        self.error = html.unescape(error.group(1)) if error else None

    def attempt(self, username: str, password: str) -> str:
        """"signed in", the message the page shows next, or the query sent back to the application after a failure."""
        response = self.client.post(self.url, {**self.fields, "username": username, "password": password})
        assert response.status_code == 302, response.status_code
        if response.headers["Location"].startswith(CALLBACK):  # the login failed: the application is told why
            return "back to the application: " + response.headers["Location"].partition("?")[2]
        if response.headers["Location"].startswith("/o/authorize/"):
            done = self.client.get(response.headers["Location"])
            assert "code=" in done.headers["Location"], done.headers["Location"]
            return "signed in"
        page = self.client.get(response.headers["Location"])
        if page.status_code != 200 or 'name="password"' not in page.content.decode():
            self.text = page.content.decode()
            assert page.status_code < 500, page.status_code
            return f"page {page.status_code}"
        self._read(page)
        return self.error


class IdentifierFirst(SignInPage):
    """An identifier page (IdentifierExecutor), then the password page of the name it took."""

    def sign_in(self, username: str, password: str) -> str:
        response = self.client.post(self.url, {**self.fields, "username": username})
        assert response.status_code == 302, response.status_code
        self._read(self.client.get(response.headers["Location"]))
        assert 'name="password"' in self.text, self.text[:2000]
        return self.attempt("", password)


def code_for(browser, scope="openid", client_id="portal", username="alice", password="alice-password-123"):
    """Signs `username` in through `client_id`'s authorization request (with PKCE: VERIFIER); the code it gets."""
    query = urlencode({"response_type": "code", "redirect_uri": CALLBACK, "scope": scope, "state": "s-1",
                       "code_challenge": CHALLENGE, "code_challenge_method": "S256", "client_id": client_id})
    issued = browser.get("/o/authorize/?" + query)
    if not issued["Location"].startswith(CALLBACK + "?"):  # not signed in yet (else: single sign-on, the code at once)
        page_url = issued["Location"]
        page = browser.get(page_url).content.decode()
        form = {name: re.search(rf'name="{name}" value="([^"]+)"', page).group(1) for name in ("form_token", "position")}
        signed_in = browser.post(page_url, {**form, "username": username, "password": password})
        issued = browser.get(signed_in["Location"])
    assert issued["Location"].startswith(CALLBACK + "?")
    return parse_qs(urlsplit(issued["Location"]).query)["code"][0]
