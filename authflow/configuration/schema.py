"""Reading a configuration file into checked, normalised entries, before anything is written.

Every error names the entry it is about (`applications[0] (portal): ...`), so
an administrator can fix a large file from the message alone.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from django.contrib.auth.hashers import identify_hasher
from django.core.exceptions import ValidationError
from django.core.validators import validate_email, validate_slug

from authflow import keys
from authflow.authenticators import registry
from authflow.branding import services as branding
from authflow.mail import configuration as mail_templates
from authflow.directory.claims import EMAIL, ClaimError, check_uri
from authflow.directory.services import SERVER_CLAIMS
from authflow.federation.models import secret_purpose
from authflow.federation.settings_check import SettingsError, check_settings
from authflow.outbound.allowlist import NotAllowed, normalise

from . import rules

TOP_KEYS = {"roles", "libraries", "allowed_endpoints", "identity_providers", "applications", "users", "user_stores",
            "custom_authenticators", "branding", "email_templates"}
# A brand: an application's (by name) or, without `application`, the default one (authflow.branding).
BRAND_KEYS = {"application", "display_name", "colors", "links", "logo"}
LIBRARY_KEYS = {"name", "source"}
CUSTOM_AUTHENTICATOR_KEYS = {"name", "display_name", "registration_script", "authentication_script",
                             "deregistration_script", "max_failed_attempts", "enabled"}
ENDPOINT_KEYS = {"url", "description", "enabled"}
APPLICATION_KEYS = {"name", "client_id", "client_type", "client_secret", "client_secret_hash", "redirect_uris", "steps",
                    "script", "callbacks_script"}
USER_STORE_KEYS = {"name", "type", "enabled", "url", "bind_dn", "bind_password", "bind_password_encrypted",
                   "user_search_base", "user_filter", "username_attribute", "group_search_base", "group_filter",
                   "group_member_attribute", "group_name_attribute", "roles", "claims", "timeout_seconds"}
IDENTITY_PROVIDER_KEYS = {"name", "display_name", "enabled", "protocol", "issuer", "client_id", "client_secret",
                          "client_secret_encrypted", "client_auth_method", "scopes", "extra_params", "use_userinfo",
                          "claim_mapping", "user_policy", "username_claim", "username_prefix",
                          "provisioning_roles", "role_claim", "role_mapping",
                          "metadata_url", "metadata_xml", "entity_id", "nameid_format"}
# The keys of each protocol's settings; the other protocol's are refused (a typo would otherwise do nothing).
_OIDC_ONLY_KEYS = {"issuer", "client_id", "client_secret", "client_secret_encrypted", "client_auth_method", "scopes",
                   "extra_params", "use_userinfo"}
_SAML_ONLY_KEYS = {"metadata_url", "metadata_xml", "entity_id", "nameid_format"}
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
class CustomAuthenticatorEntry:
    name: str
    display_name: str
    registration_script: str
    authentication_script: str
    deregistration_script: str | None = None
    max_failed_attempts: int = 5
    enabled: bool = True


@dataclass
class EndpointEntry:
    url: str  # normalised, as it is stored
    description: str = ""
    enabled: bool = True


@dataclass
class UserStoreEntry:
    """A named user store (an LDAP directory); the bind password as given (clear) or as exported (encrypted)."""

    name: str
    url: str
    user_search_base: str
    type: str = "ldap"
    enabled: bool = True
    bind_dn: str = ""
    bind_password: str | None = None
    bind_password_encrypted: str | None = None
    user_filter: str = "(objectClass=inetOrgPerson)"
    username_attribute: str = "uid"
    group_search_base: str = ""
    group_filter: str = "(objectClass=groupOfNames)"
    group_member_attribute: str = "member"
    group_name_attribute: str = "cn"
    roles: dict[str, list[str]] = field(default_factory=dict)  # group -> roles
    claims: dict[str, str] = field(default_factory=dict)  # claim URI -> attribute
    timeout_seconds: int = 5


@dataclass
class IdentityProviderEntry:
    name: str
    issuer: str
    client_id: str
    display_name: str = ""
    enabled: bool = True
    protocol: str = "oidc"
    # In clear (written by an administrator), or as `export` gives it: encrypted with this server's keys.
    client_secret: str | None = None
    client_secret_encrypted: str | None = None
    client_auth_method: str = "client_secret_basic"
    scopes: str = "openid profile email"
    extra_params: dict = field(default_factory=dict)
    use_userinfo: bool = True
    claim_mapping: dict = field(default_factory=dict)
    user_policy: str = "none"
    username_claim: str = "sub"
    username_prefix: str = ""
    # Roles of provisioned users: granted at provisioning, and mapped from a remote claim's values.
    provisioning_roles: list[str] = field(default_factory=list)
    role_claim: str = ""
    role_mapping: dict = field(default_factory=dict)
    # SAML 2.0 (protocol: saml): the IdP's metadata by URL or inline, its entity id, the NameID format asked for.
    saml_metadata_url: str = ""
    saml_metadata_xml: str = ""
    saml_entity_id: str = ""
    saml_nameid_format: str = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"


@dataclass
class Config:
    roles: list[str]
    applications: list[ApplicationEntry]
    users: list[UserEntry]
    libraries: list[LibraryEntry] = field(default_factory=list)
    allowed_endpoints: list[EndpointEntry] = field(default_factory=list)
    user_stores: list[UserStoreEntry] = field(default_factory=list)
    identity_providers: list[IdentityProviderEntry] = field(default_factory=list)
    custom_authenticators: list[CustomAuthenticatorEntry] = field(default_factory=list)
    branding: list[BrandEntry] = field(default_factory=list)
    email_templates: list[dict] = field(default_factory=list)  # authflow.mail.configuration.check_entry's results


@dataclass
class BrandEntry:
    application: str | None  # None: the default brand
    checked: dict  # authflow.branding.services.check_entry's result


def load(text: str, filename: str = "") -> Config:
    """Parse YAML (JSON is YAML too) and check it."""
    import yaml  # PyYAML: imported by the first configuration loaded, not by every worker

    try:
        data = json.loads(text) if filename.endswith(".json") else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"the file is not valid {'JSON' if filename.endswith('.json') else 'YAML'}: {exc}") from None
    return parse(data if data is not None else {})


def parse(data) -> Config:
    if not isinstance(data, dict):
        raise ConfigError("the file must hold a mapping with roles, libraries, allowed_endpoints, applications, "
                          "users, user_stores and custom_authenticators")
    _no_unknown_keys(data, TOP_KEYS, "the file")
    roles = _names(data.get("roles", []), "roles")
    custom = [_custom_authenticator(i, e)
              for i, e in enumerate(_list(data.get("custom_authenticators", []), "custom_authenticators"))]
    custom_names = frozenset(c.name for c in custom)
    applications = [_application(i, e, custom_names)
                    for i, e in enumerate(_list(data.get("applications", []), "applications"))]
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
    user_stores = [_user_store(i, e) for i, e in enumerate(_list(data.get("user_stores", []), "user_stores"))]
    _unique([(s.name, s.name) for s in user_stores], "user_stores", "name")
    endpoints = [_endpoint(i, e) for i, e in enumerate(_list(data.get("allowed_endpoints", []), "allowed_endpoints"))]
    _unique([(e.url, e.url) for e in endpoints], "allowed_endpoints", "url")
    providers = [_identity_provider(i, e)
                 for i, e in enumerate(_list(data.get("identity_providers", []), "identity_providers"))]
    _unique([(p.name, p.name) for p in providers], "identity_providers", "name")
    _unique([(c.name, c.name) for c in custom], "custom_authenticators", "name")
    branding = [_brand(i, e) for i, e in enumerate(_list(data.get("branding", []), "branding"))]
    _unique([(b.application or "(default)", b.application or "(default)") for b in branding], "branding",
            "application")
    templates = [_email_template(i, e) for i, e in enumerate(_list(data.get("email_templates", []),
                                                                         "email_templates"))]
    _unique([(t["template"]["template_id"],) * 2 for t in templates], "email_templates", "template_id")
    return Config(roles=roles, applications=applications, users=users, libraries=libraries,
                  allowed_endpoints=endpoints, user_stores=user_stores, identity_providers=providers,
                  custom_authenticators=custom, branding=branding, email_templates=templates)


def _email_template(index: int, entry) -> dict:
    where = f"email_templates[{index}]"
    if isinstance(entry, dict) and isinstance(entry.get("template_id"), str):
        where += f" ({entry['template_id'][:64]})"
    try:
        return mail_templates.check_entry(entry)
    except mail_templates.TemplateEntryError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _brand(index: int, entry) -> BrandEntry:
    where = f"branding[{index}]"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: expected a mapping with application, display_name, colors, links, logo")
    application = entry.get("application")
    if application is not None and not isinstance(application, str):
        raise ConfigError(f"{where}: application must be an application's name")
    where += f" ({application or 'default'})"
    _no_unknown_keys(entry, BRAND_KEYS, where)
    try:
        return BrandEntry(application=application, checked=branding.check_entry(entry))
    except branding.BrandError as exc:
        raise ConfigError(f"{where}: {exc}") from None


_STORE_NAME = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,63}$")
_LDAP_ATTRIBUTE = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,63}$")


def _user_store(index: int, entry) -> UserStoreEntry:
    """A user store: an LDAP directory, read-only, tried in the order of the list after PRIMARY."""
    where = f"user_stores[{index}]"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: expected a mapping with name, type, url, user_search_base, ...")
    if isinstance(entry.get("name"), str):
        where += f" ({entry['name']})"
    _no_unknown_keys(entry, USER_STORE_KEYS, where)
    name = _required_text(entry, "name", where).upper()
    if not _STORE_NAME.match(name):
        raise ConfigError(f"{where}: name may hold only letters, digits, - and _ (at most 64)")
    if name == "PRIMARY":
        raise ConfigError(f"{where}: PRIMARY is this server's own user store; choose another name")
    kind = entry.get("type", "ldap")
    if kind != "ldap":
        raise ConfigError(f"{where}: type must be ldap (the only kind of user store besides PRIMARY)")
    store = UserStoreEntry(name=name, url=_required_text(entry, "url", where),
                           user_search_base=_required_text(entry, "user_search_base", where))
    if not store.url.startswith(("ldap://", "ldaps://")):
        raise ConfigError(f"{where}: url must be an ldap:// or ldaps:// URL")
    for key in ("bind_dn", "bind_password", "bind_password_encrypted", "user_filter", "username_attribute",
                "group_search_base", "group_filter", "group_member_attribute", "group_name_attribute"):
        if key in entry and entry[key] is not None:
            if not isinstance(entry[key], str) or len(entry[key]) > 500:
                raise ConfigError(f"{where}: {key} must be text of at most 500 characters")
            setattr(store, key, entry[key].strip() if key != "bind_password" else entry[key])
    if store.bind_password is not None and store.bind_password_encrypted is not None:
        raise ConfigError(f"{where}: give bind_password or bind_password_encrypted, not both")
    if store.bind_password_encrypted is not None:
        from authflow import keys
        from authflow.directory.models import UserStore

        try:
            keys.decrypt(store.bind_password_encrypted, purpose=UserStore.BIND_PASSWORD_PURPOSE)
        except keys.InvalidValue as exc:
            raise ConfigError(f"{where}: bind_password_encrypted does not decrypt with this server's keys "
                              f"({exc}); give bind_password instead") from None
    for key in ("user_filter", "group_filter"):
        value = getattr(store, key)
        if not (value.startswith("(") and value.endswith(")")) or value.count("(") != value.count(")"):
            raise ConfigError(f"{where}: {key} must be an LDAP filter in parentheses such as (objectClass=person)")
    for key in ("username_attribute", "group_member_attribute", "group_name_attribute"):
        if not _LDAP_ATTRIBUTE.match(getattr(store, key)):
            raise ConfigError(f"{where}: {key} must be an LDAP attribute name such as uid")
    if "enabled" in entry:
        if not isinstance(entry["enabled"], bool):
            raise ConfigError(f"{where}: enabled must be true or false")
        store.enabled = entry["enabled"]
    timeout = entry.get("timeout_seconds", 5)
    if not isinstance(timeout, int) or isinstance(timeout, bool) or not 1 <= timeout <= 60:
        raise ConfigError(f"{where}: timeout_seconds must be a whole number from 1 to 60")
    store.timeout_seconds = timeout
    roles = entry.get("roles", {})
    if not isinstance(roles, dict):
        raise ConfigError(f"{where}: roles must map directory groups to lists of role names")
    for group, names in roles.items():
        if not isinstance(group, str) or not group.strip():
            raise ConfigError(f"{where}: roles: group names are text")
        store.roles[group] = _names(names if isinstance(names, list) else [names], f"{where}: roles: {group}")
    claims = entry.get("claims", {})
    if not isinstance(claims, dict):
        raise ConfigError(f"{where}: claims must map claim URIs to directory attributes")
    for uri, attribute in claims.items():
        try:
            check_uri(uri)
        except ClaimError as exc:
            raise ConfigError(f"{where}: claims: {exc}") from None
        if uri in SERVER_CLAIMS:
            raise ConfigError(f"{where}: claims: {uri} is this server's own claim; a user store cannot hold it")
        if not isinstance(attribute, str) or not _LDAP_ATTRIBUTE.match(attribute):
            raise ConfigError(f"{where}: claims: {uri}: {attribute!r} is not an LDAP attribute name such as mail")
        store.claims[uri] = attribute
    return store


def _identity_provider(index: int, entry) -> IdentityProviderEntry:
    """An identity provider users may sign in with (authflow/federation): OpenID Connect settings, user policy."""
    where = f"identity_providers[{index}]"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: expected a mapping")
    if isinstance(entry.get("name"), str):
        where += f" ({entry['name']})"
    _no_unknown_keys(entry, IDENTITY_PROVIDER_KEYS, where)
    name = _required_text(entry, "name", where)
    try:
        validate_slug(name)
    except ValidationError:
        raise ConfigError(f"{where}: name may hold only letters, digits, - and _") from None
    if name == "LOCAL" or len(name) > 100:
        raise ConfigError(f"{where}: name must be at most 100 characters and not LOCAL")
    if entry.get("protocol") == "saml":
        return _saml_identity_provider(name, entry, where)
    provider = IdentityProviderEntry(name=name, issuer=_required_text(entry, "issuer", where),
                                     client_id=_required_text(entry, "client_id", where))
    if not provider.issuer.startswith(("https://", "http://")) or len(provider.issuer) > 500:
        raise ConfigError(f"{where}: issuer must be an https (or http) URL")
    misplaced = sorted(set(entry) & _SAML_ONLY_KEYS)
    if misplaced:
        raise ConfigError(f"{where}: {', '.join(misplaced)}: only for protocol: saml")
    choices = {"protocol": ("oidc", "saml"), "client_auth_method": ("client_secret_basic", "client_secret_post", "private_key_jwt"),
               "user_policy": ("none", "provision", "link")}
    for key, allowed in choices.items():
        if key in entry:
            if entry[key] not in allowed:
                raise ConfigError(f"{where}: {key} must be one of {', '.join(allowed)}")
            setattr(provider, key, entry[key])
    for key in ("display_name", "scopes", "username_claim", "username_prefix", "client_secret",
                "client_secret_encrypted"):
        if key in entry and entry[key] is not None:
            if not isinstance(entry[key], str):
                raise ConfigError(f"{where}: {key} must be text")
            setattr(provider, key, entry[key])
    for key in ("enabled", "use_userinfo"):
        if key in entry:
            if not isinstance(entry[key], bool):
                raise ConfigError(f"{where}: {key} must be true or false")
            setattr(provider, key, entry[key])
    provider.extra_params = entry.get("extra_params", {})
    provider.claim_mapping = entry.get("claim_mapping", {})
    _provider_roles(provider, entry, where)
    try:
        check_settings(scopes=provider.scopes, extra_params=provider.extra_params,
                       claim_mapping=provider.claim_mapping)
    except SettingsError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    if provider.client_secret is not None and provider.client_secret_encrypted is not None:
        raise ConfigError(f"{where}: give client_secret or client_secret_encrypted, not both")
    if provider.client_secret_encrypted is not None:
        try:
            keys.decrypt(provider.client_secret_encrypted, purpose=secret_purpose(name))
        except keys.InvalidValue as exc:
            raise ConfigError(f"{where}: client_secret_encrypted does not decrypt with this server's keys "
                              f"({exc}): give client_secret instead") from None
    return provider


def _saml_identity_provider(name: str, entry: dict, where: str) -> IdentityProviderEntry:
    """A SAML 2.0 IdP: its metadata (by URL or inline XML), entity id, NameID format; mapping and user policy."""
    misplaced = sorted(set(entry) & _OIDC_ONLY_KEYS)
    if misplaced:
        raise ConfigError(f"{where}: {', '.join(misplaced)}: only for protocol: oidc")
    provider = IdentityProviderEntry(name=name, issuer="", client_id="", protocol="saml")
    for key, attribute in (("display_name", "display_name"), ("username_claim", "username_claim"),
                           ("username_prefix", "username_prefix"), ("metadata_url", "saml_metadata_url"),
                           ("metadata_xml", "saml_metadata_xml"), ("entity_id", "saml_entity_id"),
                           ("nameid_format", "saml_nameid_format")):
        if key in entry and entry[key] is not None:
            if not isinstance(entry[key], str):
                raise ConfigError(f"{where}: {key} must be text")
            setattr(provider, attribute, entry[key])
    if bool(provider.saml_metadata_url) == bool(provider.saml_metadata_xml):
        raise ConfigError(f"{where}: give the IdP's metadata_url or metadata_xml (one of them)")
    if provider.saml_metadata_url and (not provider.saml_metadata_url.startswith(("https://", "http://"))
                                       or len(provider.saml_metadata_url) > 500):
        raise ConfigError(f"{where}: metadata_url must be an https (or http) URL")
    if provider.saml_metadata_xml and "EntityDescriptor" not in provider.saml_metadata_xml:
        raise ConfigError(f"{where}: metadata_xml is not SAML metadata (no EntityDescriptor)")
    if len(provider.saml_entity_id) > 500 or len(provider.saml_nameid_format) > 200:
        raise ConfigError(f"{where}: entity_id or nameid_format is too long")
    if "user_policy" in entry:
        if entry["user_policy"] not in ("none", "provision", "link"):
            raise ConfigError(f"{where}: user_policy must be one of none, provision, link")
        provider.user_policy = entry["user_policy"]
    if "enabled" in entry:
        if not isinstance(entry["enabled"], bool):
            raise ConfigError(f"{where}: enabled must be true or false")
        provider.enabled = entry["enabled"]
    provider.claim_mapping = entry.get("claim_mapping", {})
    _provider_roles(provider, entry, where)
    try:
        check_settings(scopes="openid", extra_params={}, claim_mapping=provider.claim_mapping)
    except SettingsError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    return provider


def _provider_roles(provider: IdentityProviderEntry, entry: dict, where: str) -> None:
    """provisioning_roles (role names), role_claim (a remote claim) and role_mapping ({remote value: role})."""
    provider.provisioning_roles = _names(entry.get("provisioning_roles", []), f"{where}: provisioning_roles")
    role_claim = entry.get("role_claim", "")
    if not isinstance(role_claim, str) or len(role_claim) > 100:
        raise ConfigError(f"{where}: role_claim must be the name of a remote claim (text)")
    provider.role_claim = role_claim
    mapping = entry.get("role_mapping", {})
    if not isinstance(mapping, dict) or not all(isinstance(k, str) and isinstance(v, str) and v
                                                for k, v in mapping.items()):
        raise ConfigError(f"{where}: role_mapping must map remote values to role names (text)")
    if mapping and not role_claim:
        raise ConfigError(f"{where}: role_mapping needs role_claim (the remote claim whose values it maps)")
    provider.role_mapping = mapping


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
    name = _checked(rules.check_name, where, _required_text(entry, "name", where))
    source = entry.get("source")
    if not isinstance(source, str):
        raise ConfigError(f"{where}: source is required (text)")
    _checked(rules.check_script, where, source, "library")
    return LibraryEntry(name=name, source=source)


def _custom_authenticator(index: int, entry) -> CustomAuthenticatorEntry:
    where = f"custom_authenticators[{index}]"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: expected a mapping with name, display_name, registration_script and "
                          "authentication_script")
    if isinstance(entry.get("name"), str):
        where += f" ({entry['name']})"
    _no_unknown_keys(entry, CUSTOM_AUTHENTICATOR_KEYS, where)
    name = _required_text(entry, "name", where)
    try:
        validate_slug(name)
    except ValidationError:
        raise ConfigError(f"{where}: name may hold only letters, digits, - and _") from None
    if len(name) > 80:
        raise ConfigError(f"{where}: name is longer than 80 characters")
    if registry.is_built_in(name):
        raise ConfigError(f"{where}: {name!r} is the name of a built-in authenticator; choose another")
    display_name = entry.get("display_name", name)
    if not isinstance(display_name, str) or not display_name.strip() or len(display_name) > 200:
        raise ConfigError(f"{where}: display_name must be text of at most 200 characters")
    scripts = {}
    for key, kind in (("registration_script", "custom-registration"), ("authentication_script", "custom-authentication"),
                      ("deregistration_script", "custom-deregistration")):
        source = entry.get(key)
        if source is None and key == "deregistration_script":
            scripts[key] = None
            continue
        if not isinstance(source, str):
            raise ConfigError(f"{where}: {key} is required (text)")
        scripts[key] = _checked(rules.check_script, where, source, kind, key)
    attempts = entry.get("max_failed_attempts", 5)
    if isinstance(attempts, bool) or not isinstance(attempts, int) or not 1 <= attempts <= 1000:
        raise ConfigError(f"{where}: max_failed_attempts must be a whole number from 1 to 1000")
    enabled = entry.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ConfigError(f"{where}: enabled must be true or false")
    return CustomAuthenticatorEntry(name=name, display_name=display_name.strip(), max_failed_attempts=attempts,
                                    enabled=enabled, **scripts)


def _application(index: int, entry, custom_authenticators: frozenset[str] = frozenset()) -> ApplicationEntry:
    where = f"applications[{index}]"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: expected a mapping")
    if isinstance(entry.get("name"), str):
        where += f" ({entry['name']})"
    _no_unknown_keys(entry, APPLICATION_KEYS, where)
    name = _checked(rules.check_name, where, _required_text(entry, "name", where))
    client_id = _required_text(entry, "client_id", where)
    redirect_uris = _names(entry.get("redirect_uris", []), f"{where}: redirect_uris")
    _checked(rules.check_redirect_uris, where, redirect_uris)
    if "steps" not in entry:
        raise ConfigError(f"{where}: steps is required")
    steps = _checked(rules.check_steps, where, entry["steps"], custom_authenticators)
    script = entry.get("script")
    if script is not None:
        _checked(rules.check_script, where, script, "script", "script")
    callbacks_script = entry.get("callbacks_script")
    if callbacks_script is not None:  # onAuthenticateSuccess, ... (authflow.callbacks)
        _checked(rules.check_script, where, callbacks_script, "callbacks", "callbacks_script")
    client_type = _checked(rules.check_client_type, where, entry.get("client_type", "confidential"))
    client_secret = entry.get("client_secret")
    if client_secret is not None:
        _checked(rules.check_client_secret, where, client_secret, "confidential")
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
    if "/" in user.username:
        raise ConfigError(f"{where}: username cannot hold \"/\": \"STORE/name\" is a user of a user store, "
                          "whose users are the store's (see user_stores)")
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


def _checked(rule, where: str, *args):
    """Run one of the shared rules (authflow/configuration/rules.py), naming the entry in its error."""
    try:
        return rule(*args)
    except rules.RuleError as exc:
        raise ConfigError(f"{where}: {exc.field + ': ' if exc.field else ''}{exc}") from None


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
