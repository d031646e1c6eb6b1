"""Finding authenticators by the names scripts use.

The catalogue holds every name of the reference API, so that step
configurations and scripts written for it validate here; the plugins named in
settings.AUTHFLOW_AUTHENTICATORS (dotted paths of `base.Authenticator`
subclasses) implement them.  A name in the catalogue without a plugin is
shown to the user as not available.
"""
from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from django.utils.module_loading import import_string

from .base import Authenticator

DEFAULT_PLUGINS = [
    "authflow.authenticators.basic.BasicAuthenticator",
    "authflow.authenticators.identifier.IdentifierExecutor",
    "authflow.authenticators.session_limit.SessionExecutor",
]

# name -> display name, for every authenticator the reference API names.
CATALOGUE = {
    "BasicAuthenticator": "Username & Password",
    "IdentifierExecutor": "Identifier First",
    "SessionExecutor": "Active Sessions Limit",
    "totp": "TOTP",
    "email-otp": "Email OTP",
    "backup-code-authenticator": "Backup Code",
    "MagicLinkAuthenticator": "Magic Link",
    "FIDOAuthenticator": "Security Key/Biometrics",
    "BasicAuthRequestPathAuthenticator": "Basic Auth (request path)",
    "OAuthRequestPathAuthenticator": "OAuth Bearer (request path)",
    "JWTBasicAuthenticator": "JWT Basic",
    "x509CertificateAuthenticator": "X509 Certificate",
}


@lru_cache(maxsize=1)
def _plugins() -> dict[str, Authenticator]:
    plugins = {}
    for path in getattr(settings, "AUTHFLOW_AUTHENTICATORS", DEFAULT_PLUGINS):
        plugin = import_string(path)()
        if not plugin.name:
            raise ValueError(f"{path} does not set a name")
        plugins[plugin.name] = plugin
    return plugins


def get(name: str | None) -> Authenticator | None:
    """The plugin implementing `name`, or None when there is none."""
    return _plugins().get(name or "")


def is_known(name: str) -> bool:
    return name in CATALOGUE or name in _plugins()


def names() -> list[str]:
    return sorted(set(CATALOGUE) | set(_plugins()))


def display_name(name: str) -> str:
    plugin = get(name)
    if plugin is not None and plugin.display_name:
        return plugin.display_name
    return CATALOGUE.get(name, name)
