"""Reading a configuration file into checked, normalised entries, before anything is written.

Every error names the entry it is about (`applications[0] (portal): ...`), so
an administrator can fix a large file from the message alone.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import yaml
from django.conf import settings
from django.contrib.auth.hashers import identify_hasher
from django.core.exceptions import ValidationError
from django.core.validators import validate_email, validate_slug

from authflow.authenticators import registry
from authflow.directory.claims import EMAIL, ClaimError, check_uri
from authflow.outbound.allowlist import NotAllowed, normalise
from sequences.api import ScriptSyntaxError, StepConfigError, check_syntax, normalize_steps

TOP_KEYS = {"roles", "libraries", "allowed_endpoints", "applications", "users"}
LIBRARY_KEYS = {"name", "source"}
ENDPOINT_KEYS = {"url", "description", "enabled"}
APPLICATION_KEYS = {"name", "client_id", "client_type", "client_secret", "client_secret_hash", "redirect_uris", "steps",
                    "script", "callbacks_script"}
USER_KEYS = {"username", "password", "password_hash", "email", "first_name", "last_name", "is_staff",
             "is_active", "roles", "groups", "claims"}


class ConfigError(ValueError):
    pass


@dataclass
class ApplicationEntry:
    name: str
    client_id: str
    redirect_uris: list[str]
    steps: dict
    script: str | None
    client_type: str = "confidential"
    client_secret: str | None = None
    callbacks_script: str | None = None  # onAuthenticateSuccess, ... (authflow.callbacks)


@dataclass
class UserEntry:
    username: str
    password: str | None = None
    password_hash: str | None = None
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    is_staff: bool | None = None
    is_active: bool | None = None
    roles: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    claims: dict[str, str] = field(default_factory=dict)


@dataclass
class LibraryEntry:
    name: str
    source: str


@dataclass
class EndpointEntry:
    url: str  # normalised, as it is stored
    description: str = ""
    enabled: bool = True


@dataclass
class Config:
    roles: list[str]
    applications: list[ApplicationEntry]
    users: list[UserEntry]
    libraries: list[LibraryEntry] = field(default_factory=list)
    allowed_endpoints: list[EndpointEntry] = field(default_factory=list)


def load(text: str, filename: str = "") -> Config:
    """Parse YAML (JSON is YAML too) and check it."""
    try:
        data = json.loads(text) if filename.endswith(".json") else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"the file is not valid {'JSON' if filename.endswith('.json') else 'YAML'}: {exc}") from None
    return parse(data if data is not None else {})


def parse(data) -> Config:
    if not isinstance(data, dict):
        raise ConfigError("the file must hold a mapping with roles, libraries, allowed_endpoints, applications "
                          "and users")
    _no_unknown_keys(data, TOP_KEYS, "the file")
    roles = _names(data.get("roles", []), "roles")
    applications = [_application(i, e) for i, e in enumerate(_list(data.get("applications", []), "applications"))]
    users = [_user(i, e) for i, e in enumerate(_list(data.get("users", []), "users"))]
    libraries = [_library(i, e) for i, e in enumerate(_list(data.get("libraries", []), "libraries"))]
    _unique([(lib.name, lib.name) for lib in libraries], "libraries", "name")
    for index, library in enumerate(libraries):
        if library.name in {a.name for a in applications}:
            raise ConfigError(f"libraries[{index}] ({library.name}): an application has this name (its script "
                              "has it too); choose another")
    _unique([(a.name, a.name) for a in applications], "applications", "name")
    _unique([(a.name, a.client_id) for a in applications], "applications", "client_id")
    _unique([(u.username, u.username) for u in users], "users", "username")
    endpoints = [_endpoint(i, e) for i, e in enumerate(_list(data.get("allowed_endpoints", []), "allowed_endpoints"))]
    _unique([(e.url, e.url) for e in endpoints], "allowed_endpoints", "url")
    return Config(roles=roles, applications=applications, users=users, libraries=libraries,
                  allowed_endpoints=endpoints)


def _endpoint(index: int, entry) -> EndpointEntry:
    """A URL prefix scripts may call: a URL, or a mapping with url, description and enabled."""
    where = f"allowed_endpoints[{index}]"
    if isinstance(entry, str):
        entry = {"url": entry}
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: expected a URL or a mapping with url, description and enabled")
    _no_unknown_keys(entry, ENDPOINT_KEYS, where)
    url = _required_text(entry, "url", where)
    try:
        url = normalise(url.strip(), prefix=True).url
    except NotAllowed as exc:
        raise ConfigError(f"{where}: url: {exc}") from None
    description = entry.get("description", "")
    if not isinstance(description, str) or len(description) > 255:
        raise ConfigError(f"{where} ({url}): description must be text of at most 255 characters")
    enabled = entry.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ConfigError(f"{where} ({url}): enabled must be true or false")
    return EndpointEntry(url=url, description=description, enabled=enabled)


def _library(index: int, entry) -> LibraryEntry:
    where = f"libraries[{index}]"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: expected a mapping with name and source")
    if isinstance(entry.get("name"), str):
        where += f" ({entry['name']})"
    _no_unknown_keys(entry, LIBRARY_KEYS, where)
    name = _required_text(entry, "name", where)
    try:
        validate_slug(name)
    except ValidationError:
        raise ConfigError(f"{where}: name may hold only letters, digits, - and _") from None
    source = entry.get("source")
    if not isinstance(source, str):
        raise ConfigError(f"{where}: source is required (text)")
    try:
        check_syntax(source, kind="library")
    except ScriptSyntaxError as exc:
        raise ConfigError(f"{where}: source: {exc}") from None
    return LibraryEntry(name=name, source=source)


def _application(index: int, entry) -> ApplicationEntry:
    where = f"applications[{index}]"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: expected a mapping")
    if isinstance(entry.get("name"), str):
        where += f" ({entry['name']})"
    _no_unknown_keys(entry, APPLICATION_KEYS, where)
    name = _required_text(entry, "name", where)
    try:
        validate_slug(name)
    except ValidationError:
        raise ConfigError(f"{where}: name may hold only letters, digits, - and _") from None
    client_id = _required_text(entry, "client_id", where)
    redirect_uris = _names(entry.get("redirect_uris", []), f"{where}: redirect_uris")
    schemes = settings.OAUTH2_PROVIDER["ALLOWED_REDIRECT_URI_SCHEMES"]
    for uri in redirect_uris:
        if not uri.startswith(tuple(f"{scheme}://" for scheme in schemes)):
            allowed = " or ".join(schemes)
            raise ConfigError(f"{where}: redirect_uris: {uri!r} is not an {allowed} URL"
                              + ("" if "http" in schemes else " (set AUTHFLOW_HTTP_REDIRECT_URIS=1 to allow http)"))
    if "steps" not in entry:
        raise ConfigError(f"{where}: steps is required")
    try:
        steps = normalize_steps(entry["steps"])
    except StepConfigError as exc:
        raise ConfigError(f"{where}: steps: {exc}") from None
    try:
        registry.check_steps(steps)
    except registry.UnknownAuthenticator as exc:
        raise ConfigError(f"{where}: steps: {exc}") from None
    script = entry.get("script")
    if script is not None:
        if not isinstance(script, str):
            raise ConfigError(f"{where}: script must be text")
        try:
            check_syntax(script)
        except ScriptSyntaxError as exc:
            raise ConfigError(f"{where}: script: {exc}") from None
    callbacks_script = entry.get("callbacks_script")
    if callbacks_script is not None:
        if not isinstance(callbacks_script, str):
            raise ConfigError(f"{where}: callbacks_script must be text")
        try:
            check_syntax(callbacks_script, kind="callbacks")
        except ScriptSyntaxError as exc:
            raise ConfigError(f"{where}: callbacks_script: {exc}") from None
    client_type = entry.get("client_type", "confidential")
    if client_type not in ("confidential", "public"):
        raise ConfigError(f"{where}: client_type must be confidential or public")
    client_secret = entry.get("client_secret")
    if client_secret is not None and (not isinstance(client_secret, str) or len(client_secret) < 16):
        raise ConfigError(f"{where}: client_secret must be text of at least 16 characters")
    secret_hash = entry.get("client_secret_hash")
    if secret_hash is not None:
        if client_secret is not None:
            raise ConfigError(f"{where}: give client_secret or client_secret_hash, not both")
        try:
            identify_hasher(secret_hash)
        except (ValueError, TypeError):
            raise ConfigError(f"{where}: client_secret_hash is not a hash this server can check") from None
        client_secret = secret_hash
    if client_secret is not None and client_type == "public":
        raise ConfigError(f"{where}: a public client has no client_secret")
    return ApplicationEntry(name=name, client_id=client_id, redirect_uris=redirect_uris, steps=steps, script=script,
                            client_type=client_type, client_secret=client_secret, callbacks_script=callbacks_script)


def _user(index: int, entry) -> UserEntry:
    where = f"users[{index}]"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: expected a mapping")
    if isinstance(entry.get("username"), str):
        where += f" ({entry['username']})"
    _no_unknown_keys(entry, USER_KEYS, where)
    user = UserEntry(username=_required_text(entry, "username", where))
    if len(user.username) > 150:
        raise ConfigError(f"{where}: username is longer than 150 characters")
    for key in ("password", "password_hash", "email", "first_name", "last_name"):
        if key in entry and entry[key] is not None:
            if not isinstance(entry[key], str):
                raise ConfigError(f"{where}: {key} must be text")
            setattr(user, key, entry[key])
    if user.password is not None and user.password_hash is not None:
        raise ConfigError(f"{where}: give password or password_hash, not both")
    if user.password_hash is not None:
        try:
            identify_hasher(user.password_hash)
        except ValueError:
            raise ConfigError(f"{where}: password_hash is not a hash this server can check") from None
    if user.email:
        try:
            validate_email(user.email)
        except ValidationError:
            raise ConfigError(f"{where}: email {user.email!r} is not an email address") from None
    for key in ("is_staff", "is_active"):
        if key in entry:
            if not isinstance(entry[key], bool):
                raise ConfigError(f"{where}: {key} must be true or false")
            setattr(user, key, entry[key])
    user.roles = _names(entry.get("roles", []), f"{where}: roles")
    user.groups = _names(entry.get("groups", []), f"{where}: groups")
    claims = entry.get("claims", {})
    if not isinstance(claims, dict):
        raise ConfigError(f"{where}: claims must map claim URIs to values")
    for uri, value in claims.items():
        try:
            check_uri(uri)
        except ClaimError as exc:
            raise ConfigError(f"{where}: claims: {exc}") from None
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            raise ConfigError(f"{where}: claims: {uri}: values are text")
        user.claims[uri] = str(value)
    if user.email and claims.get(EMAIL) not in (None, user.email):
        raise ConfigError(f"{where}: email and the {EMAIL} claim disagree")
    return user


def _no_unknown_keys(entry: dict, allowed: set, where: str) -> None:
    for key in entry:
        if key not in allowed:
            raise ConfigError(f"{where}: unknown key {key!r} (expected one of: {', '.join(sorted(allowed))})")


def _list(value, where: str) -> list:
    if not isinstance(value, list):
        raise ConfigError(f"{where}: expected a list")
    return value


def _names(value, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"{where}: expected a list of names")
    return list(dict.fromkeys(v.strip() for v in value))


def _required_text(entry: dict, key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: {key} is required (text)")
    return value.strip()


def _unique(entries: list[tuple[str, str]], section: str, key: str) -> None:
    seen = set()
    for index, (label, value) in enumerate(entries):
        if value in seen:
            raise ConfigError(f"{section}[{index}] ({label}): {key} {value!r} appears twice in the file")
        seen.add(value)
