"""SMART on FHIR scopes, accepted for the applications that have a callbacks script.

The provider's scopes come from OAUTH2_PROVIDER["SCOPES"]; an application
with a callbacks script may also ask for the SMART App Launch scopes
(`launch`, `launch/patient`, `patient/*.read`, `user/Observation.rs`,
`fhirUser`...), which its script then sees as approved scopes and may change.
"""
from __future__ import annotations

import re

from authflow.api.scopes import ApiAwareScopes

SMART_SCOPE = re.compile(
    r"^(?:launch|launch/[a-z]+|fhirUser|online_access|offline_access"
    r"|(?:patient|user|system)/(?:\*|[A-Z][A-Za-z]{0,63})\.(?:read|write|\*|c?r?u?d?s?)(?:\?[A-Za-z0-9_.\-=&:|/%]{1,256})?)$"
)


def is_smart_scope(scope: str) -> bool:
    return bool(SMART_SCOPE.match(scope)) and not scope.endswith(".")


class _Descriptions(dict):
    """The provider's scope descriptions, and a generic one for each SMART scope."""

    def __missing__(self, scope):
        if isinstance(scope, str) and is_smart_scope(scope):
            return f"SMART on FHIR access: {scope}"
        raise KeyError(scope)


class SmartScopes(ApiAwareScopes):
    """The management API's scopes for its clients (ApiAwareScopes), and SMART scopes for callbacks applications."""

    def get_all_scopes(self):
        return _Descriptions(super().get_all_scopes())

    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        available = list(super().get_available_scopes(application, request, *args, **kwargs))
        smart = [s for s in (getattr(request, "scopes", None) or []) if is_smart_scope(s)] if request is not None else []
        if not smart:
            return available  # nothing to add: no lookup of the application
        app = getattr(application, "authflow_app", None) if application is not None else None
        if app is not None and app.callbacks_sequence_id is not None:
            available += smart
        return available
