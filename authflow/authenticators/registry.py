"""The catalogue of authenticators a step may offer, by the names scripts use.

Each authenticator is a plugin: a module that describes itself with an
`Authenticator` and calls `register()` when its app loads.  The built-in
names below are those of the reference API, so that step configurations and
scripts written for it validate here.
"""
from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module


@dataclass(frozen=True)
class Authenticator:
    name: str
    display_name: str
    # True when the authenticator can find out who the user is (a first step);
    # False when it can only verify a subject an earlier step identified.
    identifies_user: bool
    # The module that renders and checks it in the browser (TEMPLATE and
    # answer(request, command)); None while it has no browser page yet.
    page_module: str | None = None

    def page(self):
        return import_module(self.page_module) if self.page_module else None


_BUILT_IN = (
    Authenticator("BasicAuthenticator", "Username & Password", True, "authflow.authenticators.basic"),
    Authenticator("IdentifierExecutor", "Identifier First", True),
    Authenticator("SessionExecutor", "Active Sessions Limit", False),
    Authenticator("totp", "TOTP", False),
    Authenticator("email-otp", "Email OTP", False),
    Authenticator("backup-code-authenticator", "Backup Code", False),
    Authenticator("MagicLinkAuthenticator", "Magic Link", True),
    Authenticator("FIDOAuthenticator", "Security Key/Biometrics", True),
    Authenticator("BasicAuthRequestPathAuthenticator", "Basic Auth (request path)", True),
    Authenticator("OAuthRequestPathAuthenticator", "OAuth Bearer (request path)", True),
    Authenticator("JWTBasicAuthenticator", "JWT Basic", True),
    Authenticator("x509CertificateAuthenticator", "X509 Certificate", True),
)

_registry: dict[str, Authenticator] = {a.name: a for a in _BUILT_IN}


def register(authenticator: Authenticator) -> None:
    _registry[authenticator.name] = authenticator


def get(name: str) -> Authenticator | None:
    return _registry.get(name)


def is_known(name: str) -> bool:
    return name in _registry


def names() -> list[str]:
    return sorted(_registry)
