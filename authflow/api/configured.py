"""Custom authenticators and identity providers: each read as `export` writes it and written through
`apply`'s own parsing and writing (authflow/configuration), so the API and a configuration file accept
exactly the same entries.  Secrets are write-only: an identity provider's client secret is never returned,
not even encrypted.
"""
from django.db import transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from authflow.configuration import schema
from authflow.configuration.apply import apply_config
from authflow.configuration.export import custom_authenticator_entry, identity_provider_entry
from authflow.custom_authenticators.models import CustomAuthenticator
from authflow.federation.models import IdentityProvider

from . import audit
from .base import ApiView, tagged
from .concurrency import etag_of, require_match
from .errors import Invalid
from .sequences import IF_MATCH, PRECONDITION

class EntrySerializer(serializers.Serializer):
    """An entry of a configuration file's section, as JSON; checked by `apply`'s rules, not by this serializer."""


class _ConfiguredKind:
    """One section of the configuration file served as a collection."""

    section = ""  # the configuration file's key
    kind = ""  # the audit log's name for it
    model = None

    def entry(self, instance) -> dict:
        raise NotImplementedError

    def write(self, data) -> None:
        """Check `data` as one entry of the section and write it, as `apply` would."""
        if not isinstance(data, dict):
            raise Invalid("expected a JSON object: the entry as `apply` reads it")
        try:
            config = schema.parse({self.section: [data]})
            with transaction.atomic():
                apply_config(config)
        except schema.ConfigError as exc:
            raise Invalid(str(exc).replace(f"{self.section}[0]", self.section, 1)) from None


class CustomAuthenticators(_ConfiguredKind):
    section, kind, model = "custom_authenticators", "custom_authenticator", CustomAuthenticator

    def entry(self, instance):
        return custom_authenticator_entry(instance) or {"name": instance.name, "display_name": instance.display_name,
                                                         "incomplete": True}


class IdentityProviders(_ConfiguredKind):
    section, kind, model = "identity_providers", "identity_provider", IdentityProvider

    def entry(self, instance):
        entry = identity_provider_entry(instance)
        entry.pop("client_secret_encrypted", None)  # write-only
        return entry


def _listing(kind: _ConfiguredKind, summary: str, read_scope: str, write_scope: str):
    class Listing(ApiView):
        serializer_class = EntrySerializer

        @extend_schema(operation_id=f"{kind.section}_list", summary=f"List {summary}", responses={200: OpenApiResponse(description="the entries")})
        def get(self, request):
            return tagged([kind.entry(item) for item in kind.model.objects.order_by("name")])

        @extend_schema(operation_id=f"{kind.section}_put_entry", summary=f"Create or change one of the {summary} (the entry as `apply` reads it)",
                       request={"application/json": {"type": "object"}},
                       responses={200: OpenApiResponse(description="changed"), 201: OpenApiResponse(description="created")})
        def post(self, request):
            name = request.data.get("name") if isinstance(request.data, dict) else None
            with transaction.atomic():
                existed = isinstance(name, str) and kind.model.objects.filter(name=name).exists()
                kind.write(request.data)
                item = kind.model.objects.get(name=name)
                audit.record(request, "update" if existed else "create", kind.kind, name)
            return tagged(kind.entry(item), status.HTTP_200_OK if existed else status.HTTP_201_CREATED)

    Listing.read_scope, Listing.write_scope = read_scope, write_scope
    Listing.__name__ = Listing.__qualname__ = f"{kind.__class__.__name__}List"
    return Listing


def _detail(kind: _ConfiguredKind, summary: str, read_scope: str, write_scope: str):
    class Detail(ApiView):
        serializer_class = EntrySerializer

        @extend_schema(operation_id=f"{kind.section}_retrieve", summary=f"Read one of the {summary}")
        def get(self, request, name):
            return tagged(kind.entry(get_object_or_404(kind.model, name=name)))

        @extend_schema(operation_id=f"{kind.section}_replace", summary=f"Replace one of the {summary}", parameters=[IF_MATCH],
                       request={"application/json": {"type": "object"}}, responses={200: OpenApiResponse(), **PRECONDITION})
        def put(self, request, name):
            with transaction.atomic():
                item = get_object_or_404(kind.model.objects.select_for_update(), name=name)
                require_match(request, etag_of(kind.entry(item)))
                if not isinstance(request.data, dict) or request.data.get("name", name) != name:
                    raise Invalid("the entry's name must be the one in the URL", field="name")
                kind.write({**request.data, "name": name})
                audit.record(request, "update", kind.kind, name)
            return tagged(kind.entry(kind.model.objects.get(name=name)))

        @extend_schema(operation_id=f"{kind.section}_destroy", summary=f"Delete one of the {summary}", parameters=[IF_MATCH],
                       responses={204: None, **PRECONDITION})
        def delete(self, request, name):
            with transaction.atomic():
                item = get_object_or_404(kind.model.objects.select_for_update(), name=name)
                require_match(request, etag_of(kind.entry(item)))
                item.delete()
                audit.record(request, "delete", kind.kind, name)
            return Response(status=status.HTTP_204_NO_CONTENT)

    Detail.read_scope, Detail.write_scope = read_scope, write_scope
    Detail.__name__ = Detail.__qualname__ = f"{kind.__class__.__name__}Detail"
    return Detail


CustomAuthenticatorList = _listing(CustomAuthenticators(), "custom authenticators",
                                   "authenticators:read", "authenticators:write")
CustomAuthenticatorDetail = _detail(CustomAuthenticators(), "custom authenticators",
                                    "authenticators:read", "authenticators:write")
IdentityProviderList = _listing(IdentityProviders(), "identity providers",
                                "identity_providers:read", "identity_providers:write")
IdentityProviderDetail = _detail(IdentityProviders(), "identity providers",
                                 "identity_providers:read", "identity_providers:write")
