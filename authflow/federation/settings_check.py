"""The checks a provider's settings pass wherever they are written (the admin console, `apply`)."""
from __future__ import annotations

from authflow.directory.claims import ClaimError, check_uri

from .oidc import RESERVED_PARAMS


class SettingsError(ValueError):
    pass


def check_settings(*, scopes: str, extra_params, claim_mapping) -> None:
    if "openid" not in scopes.split():
        raise SettingsError("scopes must include openid")
    if not isinstance(extra_params, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in extra_params.items()):
        raise SettingsError("extra_params must map parameter names to text")
    reserved = sorted(set(extra_params) & RESERVED_PARAMS)
    if reserved:
        raise SettingsError(f"extra_params: {', '.join(reserved)} cannot be set (the server sets them)")
    if not isinstance(claim_mapping, dict):
        raise SettingsError("claim_mapping must map remote claim names to local claim URIs")
    for remote, local in claim_mapping.items():
        if not isinstance(remote, str) or not remote:
            raise SettingsError("claim_mapping: remote claim names are text")
        try:
            check_uri(local)
        except ClaimError as exc:
            raise SettingsError(f"claim_mapping: {remote}: {exc}") from None
