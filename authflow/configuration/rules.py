"""The rules a configuration must follow, shared by `manage.py apply` and the management API.

Each check takes one value, returns it normalised, and raises RuleError saying
what is wrong with the field it names (with the script's line and column for a script). `apply`
prefixes the entry it is about; the API answers with the field. There is no
other copy of these rules.
"""
from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug

from authflow.authenticators import registry
from sequences.api import ScriptSyntaxError, StepConfigError, check_kind, check_syntax, normalize_steps


class RuleError(ValueError):
    def __init__(self, message: str, *, field: str | None = None, line: int | None = None,
                 column: int | None = None):
        super().__init__(message)
        self.message, self.field, self.line, self.column = message, field, line, column

    def __str__(self) -> str:
        if self.line is None:
            return self.message
        return f"line {self.line}, column {self.column}: {self.message}"


def check_name(name, field: str = "name") -> str:
    """A sequence's or an application's name: a slug (it is part of URLs and of the script's name)."""
    if not isinstance(name, str) or not name.strip():
        raise RuleError("is required (text)", field=field)
    name = name.strip()
    try:
        validate_slug(name)
    except ValidationError:
        raise RuleError("may hold only letters, digits, - and _", field=field) from None
    if len(name) > 100:
        raise RuleError("is longer than 100 characters", field=field)
    return name


def check_script(source, kind: str = "script", field: str = "source") -> str:
    """A script of `kind` ("script" or "library"): it parses, uses what the sandbox runs, has its entry point."""
    if not isinstance(source, str):
        raise RuleError("must be text", field=field)
    try:
        check_syntax(source, kind=check_kind(kind))
    except ScriptSyntaxError as exc:
        raise RuleError(exc.message, field=field, line=exc.line, column=exc.column) from None
    return source


def check_steps(value, custom_authenticators: frozenset[str] = frozenset(), field: str = "steps") -> dict:
    """An application's steps, normalised; every local authenticator must be one this server has (or one of
    `custom_authenticators`, defined alongside in the same configuration file)."""
    try:
        steps = normalize_steps(value)
    except StepConfigError as exc:
        raise RuleError(str(exc), field=field) from None
    try:
        registry.check_steps(steps, custom_authenticators)
    except registry.UnknownAuthenticator as exc:
        raise RuleError(str(exc), field=field) from None
    return steps


def check_redirect_uris(value, field: str = "redirect_uris") -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise RuleError("expected a list of names", field=field)
    uris = list(dict.fromkeys(v.strip() for v in value))
    schemes = settings.OAUTH2_PROVIDER["ALLOWED_REDIRECT_URI_SCHEMES"]
    for uri in uris:
        if not uri.startswith(tuple(f"{scheme}://" for scheme in schemes)):
            allowed = " or ".join(schemes)
            raise RuleError(f"{uri!r} is not an {allowed} URL"
                            + ("" if "http" in schemes else " (set AUTHFLOW_HTTP_REDIRECT_URIS=1 to allow http)"),
                            field=field)
    return uris


def check_client_type(value, field: str = "client_type") -> str:
    if value not in ("confidential", "public"):
        raise RuleError("must be confidential or public", field=field)
    return value


def check_client_secret(value, client_type: str, field: str = "client_secret") -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) < 16:
        raise RuleError("must be text of at least 16 characters", field=field)
    if client_type == "public":
        raise RuleError("a public client has no client_secret", field=field)
    return value
