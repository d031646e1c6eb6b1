"""Exporting the configuration in the format `apply` reads back."""
from __future__ import annotations

import json

import yaml

from authflow.applications.models import Application
from authflow.branding.services import export_entries
from authflow.custom_authenticators.models import CustomAuthenticator
from authflow.directory.claims import EMAIL, GIVEN_NAME, LAST_NAME, STAFF, USERNAME, read_claims
from authflow.directory.models import Role, User, UserStore
from authflow.federation.models import IdentityProvider
from authflow.mail.configuration import export_entries as email_template_entries
from authflow.outbound.models import endpoints
from sequences.api import brief_steps
from sequences.models import Sequence

# Claims exported as user fields rather than under `claims`.
_AS_FIELDS = {USERNAME, EMAIL, GIVEN_NAME, LAST_NAME, STAFF}


def export_config(include_password_hashes: bool = False) -> dict:
    applications = []
    for app in Application.objects.select_related("sequence", "callbacks_sequence", "oidc_client").order_by("name"):
        entry = {"name": app.name, "client_id": app.client_id, "client_type": app.client_type,
                 "redirect_uris": list(app.redirect_uris), "steps": brief_steps(app.steps)}
        if include_password_hashes and app.client_type == "confidential" and app.oidc_client:
            entry["client_secret_hash"] = app.oidc_client.client_secret
        version = app.sequence.published_version() if app.sequence else None
        if version is not None:
            entry["script"] = version.source
        callbacks = app.callbacks_sequence.published_version() if app.callbacks_sequence else None
        if callbacks is not None:
            entry["callbacks_script"] = callbacks.source
        applications.append(entry)
    # A user store's users are the store's: their local shadow rows are not configuration.
    users = [user_entry(user, include_password_hashes)
             for user in User.objects.filter(user_store="PRIMARY").prefetch_related("roles", "groups", "claim_values")
             .order_by("username")]
    libraries = []
    for sequence in Sequence.objects.filter(kind=Sequence.Kind.LIBRARY).order_by("name"):
        version = sequence.published_version()
        if version is not None:
            libraries.append({"name": sequence.name, "source": version.source})
    config = {"roles": list(Role.objects.order_by("name").values_list("name", flat=True))}
    if libraries:
        config["libraries"] = libraries
    allowed = [_brief_endpoint(e) for e in endpoints()]
    if allowed:
        config["allowed_endpoints"] = allowed
    stores = [_user_store(store) for store in UserStore.objects.all()]
    if stores:
        config["user_stores"] = stores
    providers = [identity_provider_entry(p) for p in IdentityProvider.objects.order_by("name")]
    if providers:
        config["identity_providers"] = providers
    config.update(applications=applications, users=users)
    custom = [custom_authenticator_entry(a) for a in CustomAuthenticator.objects.select_related(
        "registration_script", "authentication_script", "deregistration_script").order_by("name")]
    custom = [entry for entry in custom if entry is not None]
    if custom:
        config["custom_authenticators"] = custom
    brands = export_entries()
    if brands:
        config["branding"] = brands
    templates = email_template_entries()
    if templates:
        config["email_templates"] = templates
    return config


def user_entry(user, include_password_hash: bool = False) -> dict:
    """A user as `apply` reads it (the management API reads and checks users through this shape too)."""
    entry = {"username": user.username}
    for attribute in ("email", "first_name", "last_name"):
        if getattr(user, attribute):
            entry[attribute] = getattr(user, attribute)
    if user.is_staff:
        entry["is_staff"] = True
    if not user.is_active:
        entry["is_active"] = False
    if include_password_hash and user.has_usable_password():
        entry["password_hash"] = user.password
    entry["roles"] = sorted(r.name for r in user.roles.all())
    entry["groups"] = sorted(g.name for g in user.groups.all())
    claims = {uri: value for uri, value in read_claims(user).items() if uri not in _AS_FIELDS}
    if claims:
        entry["claims"] = claims
    return entry


def custom_authenticator_entry(authenticator: CustomAuthenticator) -> dict | None:
    """The entry `apply` reads back; None while a required script has no published version."""
    entry = {"name": authenticator.name, "display_name": authenticator.display_name}
    for key, sequence in (("registration_script", authenticator.registration_script),
                          ("authentication_script", authenticator.authentication_script),
                          ("deregistration_script", authenticator.deregistration_script)):
        version = sequence.published_version() if sequence is not None else None
        if version is not None:
            entry[key] = version.source
        elif key != "deregistration_script":
            return None
    entry["max_failed_attempts"] = authenticator.max_failed_attempts
    if not authenticator.enabled:
        entry["enabled"] = False
    return entry


def _user_store(store: UserStore) -> dict:
    """A user store as `apply` reads it; the bind password only as this server's keys encrypted it."""
    entry = {"name": store.name, "type": store.kind}
    if not store.enabled:
        entry["enabled"] = False
    entry["url"] = store.url
    if store.bind_dn:
        entry["bind_dn"] = store.bind_dn
    if store.bind_password_encrypted:
        entry["bind_password_encrypted"] = store.bind_password_encrypted
    for key in ("user_search_base", "user_filter", "username_attribute", "group_search_base", "group_filter",
                "group_member_attribute", "group_name_attribute"):
        entry[key] = getattr(store, key)
    entry["roles"] = {group: list(roles) for group, roles in sorted(store.role_mapping.items())}
    entry["claims"] = dict(sorted(store.claim_mapping.items()))
    entry["timeout_seconds"] = store.timeout_seconds
    return entry


def identity_provider_entry(provider: IdentityProvider) -> dict:
    """The provider as `apply` reads it; its client secret only encrypted (it opens with this server's keys)."""
    entry = {"name": provider.name}
    if provider.display_name:
        entry["display_name"] = provider.display_name
    if not provider.enabled:
        entry["enabled"] = False
    if provider.protocol == "saml":
        return _saml_provider_entry(provider, entry)
    entry.update(protocol=provider.protocol, issuer=provider.issuer, client_id=provider.client_id)
    if provider.encrypted_client_secret:
        entry["client_secret_encrypted"] = provider.encrypted_client_secret
    entry.update(client_auth_method=provider.client_auth_method, scopes=provider.scopes)
    if provider.extra_params:
        entry["extra_params"] = dict(provider.extra_params)
    if not provider.use_userinfo:
        entry["use_userinfo"] = False
    if provider.claim_mapping:
        entry["claim_mapping"] = dict(provider.claim_mapping)
    entry.update(user_policy=provider.user_policy, username_claim=provider.username_claim)
    if provider.username_prefix:
        entry["username_prefix"] = provider.username_prefix
    _provider_roles(provider, entry)
    return entry


def _provider_roles(provider: IdentityProvider, entry: dict) -> None:
    if provider.provisioning_roles:
        entry["provisioning_roles"] = list(provider.provisioning_roles)
    if provider.role_claim:
        entry["role_claim"] = provider.role_claim
    if provider.role_mapping:
        entry["role_mapping"] = dict(provider.role_mapping)


def _saml_provider_entry(provider: IdentityProvider, entry: dict) -> dict:
    """A SAML provider as `apply` reads it; the SP key stays with this server (each server makes its own)."""
    entry["protocol"] = "saml"
    if provider.saml_metadata_url:
        entry["metadata_url"] = provider.saml_metadata_url
    else:
        entry["metadata_xml"] = provider.saml_metadata_xml
    if provider.saml_entity_id:
        entry["entity_id"] = provider.saml_entity_id
    entry["nameid_format"] = provider.saml_nameid_format
    if provider.claim_mapping:
        entry["claim_mapping"] = dict(provider.claim_mapping)
    entry.update(user_policy=provider.user_policy, username_claim=provider.username_claim)
    if provider.username_prefix:
        entry["username_prefix"] = provider.username_prefix
    _provider_roles(provider, entry)
    return entry


def _brief_endpoint(endpoint: dict):
    """A bare URL when the endpoint is enabled and undescribed, else the mapping."""
    if endpoint["enabled"] and not endpoint["description"]:
        return endpoint["url"]
    brief = {"url": endpoint["url"]}
    if endpoint["description"]:
        brief["description"] = endpoint["description"]
    if not endpoint["enabled"]:
        brief["enabled"] = False
    return brief


class _LiteralDumper(yaml.SafeDumper):
    pass


def _text(dumper, value):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_LiteralDumper.add_representer(str, _text)


def render(config: dict, fmt: str = "yaml") -> str:
    if fmt == "json":
        return json.dumps(config, indent=2, ensure_ascii=False) + "\n"
    return yaml.dump(config, Dumper=_LiteralDumper, sort_keys=False, allow_unicode=True, width=120)
