"""Exporting the configuration in the format `apply` reads back."""
from __future__ import annotations

import json

import yaml

from authflow.applications.models import Application
from authflow.directory.claims import EMAIL, GIVEN_NAME, LAST_NAME, STAFF, USERNAME, read_claims
from authflow.directory.models import Role, User
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
    users = []
    for user in User.objects.prefetch_related("roles", "groups", "claim_values").order_by("username"):
        entry = {"username": user.username}
        for attribute in ("email", "first_name", "last_name"):
            if getattr(user, attribute):
                entry[attribute] = getattr(user, attribute)
        if user.is_staff:
            entry["is_staff"] = True
        if not user.is_active:
            entry["is_active"] = False
        if include_password_hashes and user.has_usable_password():
            entry["password_hash"] = user.password
        entry["roles"] = sorted(r.name for r in user.roles.all())
        entry["groups"] = sorted(g.name for g in user.groups.all())
        claims = {uri: value for uri, value in read_claims(user).items() if uri not in _AS_FIELDS}
        if claims:
            entry["claims"] = claims
        users.append(entry)
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
    config.update(applications=applications, users=users)
    return config


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
