"""Finding authenticators by the names scripts use.

The catalogue holds every name of the reference API, so that step
configurations and scripts written for it validate here.  The plugins
implement them: every module of this package that defines a
`base.Authenticator` subclass with a name (so adding an authenticator is
adding a module), or, when settings.AUTHFLOW_AUTHENTICATORS is set, the
classes it names by dotted path.  A name in the catalogue without a plugin
is shown to the user as not available.
"""
from __future__ import annotations

import inspect
import pkgutil
from functools import lru_cache
from importlib import import_module
from pathlib import Path

from django.conf import settings
from django.db import OperationalError
from django.utils.module_loading import import_string

from .base import Authenticator

_NOT_PLUGINS = {"base", "registry", "models"}

# name -> display name, for every authenticator the reference API names.
CATALOGUE = {
    "BasicAuthenticator": "Username & Password",
    "IdentifierExecutor": "Identifier First",
    "SessionExecutor": "Active Sessions Limit",
    "totp": "TOTP",
    "email-otp": "Email OTP",
    "email-otp-authenticator": "Email OTP",
    "sms-otp-authenticator": "SMS OTP",
    "backup-code-authenticator": "Backup Code",
    "MagicLinkAuthenticator": "Magic Link",
    "FIDOAuthenticator": "Security Key/Biometrics",
    "BasicAuthRequestPathAuthenticator": "Basic Auth (request path)",
    "OAuthRequestPathAuthenticator": "OAuth Bearer (request path)",
    "JWTBasicAuthenticator": "JWT Basic",
    "x509CertificateAuthenticator": "X509 Certificate",
}


def built_in() -> list[str]:
    """Dotted paths of the authenticators in this package."""
    paths = []
    for module_info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if module_info.name in _NOT_PLUGINS or module_info.name.startswith("_"):
            continue
        module = import_module(f"{__package__}.{module_info.name}")
        for name, value in vars(module).items():
            if (inspect.isclass(value) and issubclass(value, Authenticator) and value.__module__ == module.__name__
                    and value.name):
                paths.append(f"{module.__name__}.{name}")
    return sorted(paths)


@lru_cache(maxsize=1)
def _plugins() -> dict[str, Authenticator]:
    plugins = {}
    for path in getattr(settings, "AUTHFLOW_AUTHENTICATORS", None) or built_in():
        plugin = import_string(path)()
        if not plugin.name:
            raise ValueError(f"{path} does not set a name")
        plugins[plugin.name] = plugin
    return plugins


def get(name: str | None) -> Authenticator | None:
    """The plugin implementing `name`, or None when there is none (a custom authenticator's name is one too)."""
    plugin = _plugins().get(name or "")
    if plugin is None and name:
        from authflow.custom_authenticators.step import step_plugin

        plugin = step_plugin(name)
    return plugin


def is_built_in(name: str) -> bool:
    """A name of the reference API or of a plugin: not available to custom authenticators."""
    return name in CATALOGUE or name in _plugins()


def is_known(name: str, also: frozenset[str] = frozenset()) -> bool:
    """`also`: names about to exist (custom authenticators in the same configuration file)."""
    if is_built_in(name) or name in also:
        return True
    try:
        return get(name) is not None
    except OperationalError:
        # No database to ask (checking a configuration file before connecting): only the names above are known.
        return False


class UnknownAuthenticator(ValueError):
    """A step names a local authenticator this server does not know; the message names it and the known ones."""


def check_steps(steps: dict, also: frozenset[str] = frozenset()) -> None:
    """Refuse steps ({number: [{"authenticator", "idp"}]}) naming an unknown local authenticator.

    The one check `apply` and `manage.py simulate` both make, so that a scenario's steps are ones the
    server accepts.  Federated options (another idp) name the identity provider's authenticator: not checked.
    """
    for number, options in steps.items():
        for option in options:
            if option.get("idp", "LOCAL") == "LOCAL" and not is_known(option.get("authenticator") or "", also):
                raise UnknownAuthenticator(f"step {number}: unknown authenticator {option.get('authenticator')!r} "
                                           f"(known: {', '.join(names())})")


def check_available(name: str) -> None:
    """Refuse a local authenticator no plugin implements: the server shows it as not available, no one passes it."""
    if get(name) is None:
        raise UnknownAuthenticator(f"{name!r} is not available on this server (no plugin implements it), "
                                   f"so no user can pass it")


def names() -> list[str]:
    from authflow.custom_authenticators.step import authenticator_names

    try:
        custom = set(authenticator_names())
    except OperationalError:  # no database to ask (see is_known)
        custom = set()
    return sorted(set(CATALOGUE) | set(_plugins()) | custom)


def display_name(name: str) -> str:
    plugin = get(name)
    if plugin is not None and plugin.display_name:
        return plugin.display_name
    return CATALOGUE.get(name, name)


def available() -> list[tuple[str, str]]:
    """(name, display name) of every authenticator a user can pass here: plugins and enabled custom ones."""
    return [(name, display_name(name)) for name in names() if get(name) is not None]
