"""Applying a checked configuration: all of it in one transaction, idempotently."""
from __future__ import annotations

from collections import Counter

from django.contrib.auth.models import Group
from django.db import transaction

from authflow.applications.models import Application
from authflow.branding.services import put_brand
from authflow.mail.configuration import put_template
from authflow.custom_authenticators.services import put_authenticator
from authflow.directory.claims import MAPPED, ClaimError, read_claims, write_claim
from authflow import keys
from authflow.directory.models import Role, User, UserClaim, UserStore
from authflow.federation.models import IdentityProvider
from authflow.outbound.models import put_endpoint
from authflow.protocols.oidc.clients import ClientConfigError, sync_client
from sequences.api import KindConflict, failing_on, save_version
from sequences.models import Sequence

from .schema import ApplicationEntry, Config, ConfigError, IdentityProviderEntry, UserEntry, UserStoreEntry


@transaction.atomic
def apply_config(config: Config) -> Counter:
    """Create or update what the file describes; returns counts such as {"applications created": 1}."""
    counts: Counter = Counter()
    wanted_roles = set(config.roles) | {r for u in config.users for r in u.roles}
    for name in sorted(wanted_roles):
        _, created = Role.objects.get_or_create(name=name)
        counts["roles created"] += created
    for entry in config.libraries:
        try:
            _, created = save_version(entry.name, entry.source, kind="library")
        except KindConflict as exc:
            raise ConfigError(f"libraries ({entry.name}): {exc}") from None
        counts["libraries changed" if created else "libraries unchanged"] += 1
    # Before the applications, whose steps may offer them.
    for entry in config.custom_authenticators:
        try:
            outcome = put_authenticator(entry.name, entry.display_name, registration=entry.registration_script,
                                        authentication=entry.authentication_script,
                                        deregistration=entry.deregistration_script,
                                        max_failed_attempts=entry.max_failed_attempts, enabled=entry.enabled)
        except KindConflict as exc:
            raise ConfigError(f"custom_authenticators ({entry.name}): {exc}") from None
        counts[f"custom authenticators {outcome}"] += 1
    for endpoint in config.allowed_endpoints:
        counts[f"allowed endpoints {put_endpoint(endpoint.url, endpoint.description, endpoint.enabled)}"] += 1
    for position, entry in enumerate(config.user_stores):
        counts[f"user stores {_apply_user_store(entry, position)}"] += 1
    for entry in config.identity_providers:
        counts[f"identity providers {_apply_identity_provider(entry)}"] += 1
    for entry in config.applications:
        counts[f"applications {_apply_application(entry)}"] += 1
    for entry in config.users:
        counts[f"users {apply_user(entry)}"] += 1
    for entry in config.branding:
        application = None
        if entry.application is not None:
            application = Application.objects.filter(name=entry.application).first()
            if application is None:
                raise ConfigError(f"branding ({entry.application}): no application has this name")
        counts[f"brands {put_brand(application, entry.checked)}"] += 1
    for checked in config.email_templates:
        counts[f"email templates {put_template(checked)}"] += 1
    return counts


def _check_saved_scenarios(name: str, version) -> None:
    """The publish gate, as apply holds it: a script going live must pass its saved scenarios. There is no
    override here (the console's and the API's name who overrode in the audit log); the whole file is refused."""
    failing = [result.scenario.name for result in failing_on(version)]
    if failing:
        raise ConfigError(f"applications ({name}): script: this text fails the script's saved scenarios "
                          f"({', '.join(failing)}); fix it, or publish it from the console with the override")


def _apply_application(entry: ApplicationEntry) -> str:
    clash = Application.objects.filter(client_id=entry.client_id).exclude(name=entry.name).first()
    if clash is not None:
        raise ConfigError(f"applications ({entry.name}): client_id {entry.client_id!r} already belongs to "
                          f"application {clash.name!r}")
    app = Application.objects.filter(name=entry.name).first()
    created = app is None
    if created:
        app = Application(name=entry.name)
    before = (app.client_id, app.client_type, app.redirect_uris, app.steps, app.sequence_id, app.callbacks_sequence_id)
    app.client_id, app.client_type = entry.client_id, entry.client_type
    app.redirect_uris, app.steps = entry.redirect_uris, entry.steps
    new_version = False
    if entry.script is None:
        app.sequence = None
    else:
        live_before = Sequence.objects.filter(name=entry.name).values_list("live_version_id", flat=True).first()
        try:
            version, new_version = save_version(entry.name, entry.script)
        except KindConflict as exc:
            raise ConfigError(f"applications ({entry.name}): script: {exc}") from None
        if version.pk != live_before:
            _check_saved_scenarios(entry.name, version)
        app.sequence = version.sequence
    new_callbacks_version = _apply_callbacks_script(app, entry)
    changed = created or new_version or new_callbacks_version or before != (
        app.client_id, app.client_type, app.redirect_uris, app.steps, app.sequence_id, app.callbacks_sequence_id)
    if changed:
        app.save()
    try:
        changed = sync_client(app, entry.client_secret) or changed
    except ClientConfigError as exc:
        raise ConfigError(f"applications ({entry.name}): {exc}") from None
    if changed:
        return "created" if created else "updated"
    return "unchanged"


def callbacks_sequence_name(application_name: str) -> str:
    return f"{application_name}-callbacks"


def _apply_callbacks_script(app, entry: ApplicationEntry) -> bool:
    """Set the application's callbacks script (a sequence of its own, versioned); True when a version was added."""
    if entry.callbacks_script is None:
        app.callbacks_sequence = None
        return False
    try:
        version, created = save_version(callbacks_sequence_name(entry.name), entry.callbacks_script,
                                        kind=Sequence.Kind.CALLBACKS)
    except KindConflict as exc:
        raise ConfigError(f"applications ({entry.name}): callbacks_script: {exc}") from None
    app.callbacks_sequence = version.sequence
    return created


_PROVIDER_FIELDS = ("display_name", "enabled", "protocol", "issuer", "client_id", "client_auth_method", "scopes",
                    "extra_params", "use_userinfo", "claim_mapping", "user_policy", "username_claim", "username_prefix",
                    "provisioning_roles", "role_claim", "role_mapping",
                    "saml_metadata_url", "saml_metadata_xml", "saml_entity_id", "saml_nameid_format")


def _apply_identity_provider(entry: IdentityProviderEntry) -> str:
    """Create or update the provider; a file without a secret keeps the stored one."""
    provider = IdentityProvider.objects.filter(name=entry.name).first()
    created = provider is None
    if created:
        provider = IdentityProvider(name=entry.name)
    changed = created
    for attribute in _PROVIDER_FIELDS:
        if getattr(provider, attribute) != getattr(entry, attribute):
            setattr(provider, attribute, getattr(entry, attribute))
            changed = True
    if entry.client_secret is not None and (not provider.encrypted_client_secret
                                            or provider.client_secret() != entry.client_secret):
        provider.set_client_secret(entry.client_secret)
        changed = True
    if entry.client_secret_encrypted is not None and provider.encrypted_client_secret != entry.client_secret_encrypted:
        provider.encrypted_client_secret = entry.client_secret_encrypted
        changed = True
    if changed:
        provider.save()
    return "created" if created else ("updated" if changed else "unchanged")


def apply_user(entry: UserEntry) -> str:
    """Create or update one checked user entry (apply, and the management API); "created", "updated", "unchanged"."""
    user = User.objects.filter(username=entry.username).first()
    created = user is None
    if created:
        user = User(username=entry.username)
        user.set_unusable_password()
    changed = False
    for attribute in ("email", "first_name", "last_name", "is_staff", "is_active"):
        value = getattr(entry, attribute)
        if value is not None and getattr(user, attribute) != value:
            setattr(user, attribute, value)
            changed = True
    if entry.password is not None and (created or not user.check_password(entry.password)):
        user.set_password(entry.password)
        changed = True
    if entry.password_hash is not None and user.password != entry.password_hash:
        user.password = entry.password_hash
        changed = True
    if created or changed:
        user.save()

    roles = list(Role.objects.filter(name__in=entry.roles))
    if set(user.roles.values_list("name", flat=True)) != set(entry.roles):
        user.roles.set(roles)
        changed = True
    groups = [Group.objects.get_or_create(name=name)[0] for name in entry.groups]
    if set(user.groups.values_list("name", flat=True)) != set(entry.groups):
        user.groups.set(groups)
        changed = True

    current = read_claims(user)
    for uri, value in entry.claims.items():
        if current.get(uri) != value:
            try:
                write_claim(user, uri, value)
            except ClaimError as exc:
                raise ConfigError(f"users ({entry.username}): claims: {exc}") from None
            changed = True
    # The file is the truth for the claims it can hold; mapped attributes it
    # does not name are left as they are.
    stale = UserClaim.objects.filter(user=user).exclude(uri__in=list(entry.claims) + list(MAPPED))
    if stale.exists():
        stale.delete()
        changed = True
    return "created" if created else ("updated" if changed else "unchanged")


_STORE_FIELDS = ("kind", "enabled", "url", "bind_dn", "user_search_base", "user_filter", "username_attribute",
                 "group_search_base", "group_filter", "group_member_attribute", "group_name_attribute",
                 "role_mapping", "claim_mapping", "timeout_seconds", "position")


def _apply_user_store(entry: UserStoreEntry, position: int) -> str:
    """Create or update a user store; the file's order is the order unqualified names try them."""
    store = UserStore.objects.filter(name=entry.name).first()
    created = store is None
    if created:
        store = UserStore(name=entry.name)
    before = tuple(getattr(store, f) for f in _STORE_FIELDS)
    values = {"kind": entry.type, "enabled": entry.enabled, "url": entry.url, "bind_dn": entry.bind_dn,
              "user_search_base": entry.user_search_base, "user_filter": entry.user_filter,
              "username_attribute": entry.username_attribute, "group_search_base": entry.group_search_base,
              "group_filter": entry.group_filter, "group_member_attribute": entry.group_member_attribute,
              "group_name_attribute": entry.group_name_attribute, "role_mapping": entry.roles,
              "claim_mapping": entry.claims, "timeout_seconds": entry.timeout_seconds, "position": position}
    for name, value in values.items():
        setattr(store, name, value)
    changed = created or before != tuple(getattr(store, f) for f in _STORE_FIELDS)
    if entry.bind_password is not None and _bind_password(store) != entry.bind_password:
        store.bind_password_encrypted = keys.encrypt(entry.bind_password.encode(),
                                                     purpose=UserStore.BIND_PASSWORD_PURPOSE)
        changed = True
    if entry.bind_password_encrypted is not None and entry.bind_password_encrypted != store.bind_password_encrypted:
        store.bind_password_encrypted = entry.bind_password_encrypted
        changed = True
    if changed:
        store.save()
    return "created" if created else ("updated" if changed else "unchanged")


def _bind_password(store: UserStore) -> str | None:
    if not store.bind_password_encrypted:
        return None
    try:
        return keys.decrypt(store.bind_password_encrypted, purpose=UserStore.BIND_PASSWORD_PURPOSE).decode()
    except keys.InvalidValue:
        return None
