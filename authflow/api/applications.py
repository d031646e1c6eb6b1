"""Applications (relying parties): checked by the rules `apply` uses (authflow/configuration/rules.py), kept
in step with their OpenID Connect client (sync_client). The client secret is write-only."""
from django.db import IntegrityError, transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from authflow.applications.models import Application
from authflow.configuration import rules
from authflow.federation import providers
from authflow.protocols.oidc.clients import ClientConfigError, sync_client
from sequences.api import brief_steps
from sequences.models import Sequence

from . import audit
from .base import ApiListView, ApiView, tagged
from .concurrency import etag_of, require_match
from .configuration_rules import ruled
from .errors import Conflict, Invalid
from .models import ApiClient
from .sequences import IF_MATCH, PRECONDITION


class ApplicationSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    client_id = serializers.CharField(max_length=100)
    client_type = serializers.CharField(required=False, default="confidential", max_length=16,
                                        help_text="confidential or public")
    redirect_uris = serializers.ListField(child=serializers.CharField(max_length=2000), required=False,
                                          max_length=50)
    steps = serializers.JSONField(help_text='as in apply: {"1": ["BasicAuthenticator"], "2": ["totp"]}')
    sequence = serializers.CharField(required=False, allow_null=True, max_length=100,
                                     help_text="the name of its login script (a sequence of kind script), or null")
    client_secret = serializers.CharField(required=False, write_only=True, max_length=512, trim_whitespace=False,
                                          help_text="set only; never returned")

    def to_representation(self, app):
        return {"name": app.name, "client_id": app.client_id, "client_type": app.client_type,
                "redirect_uris": list(app.redirect_uris), "steps": brief_steps(app.steps),
                "sequence": app.sequence.name if app.sequence_id else None}


class ApplicationUpdateSerializer(ApplicationSerializer):
    name = None
    client_type = serializers.CharField(required=False, max_length=16)


def _save(app: Application, data: dict) -> Application:
    client_type = ruled(rules.check_client_type, data.get("client_type", app.client_type))
    if "client_id" in data:
        client_id = data["client_id"].strip()
        if not client_id:
            raise Invalid("is required (text)", field="client_id")
        if Application.objects.filter(client_id=client_id).exclude(pk=app.pk).exists():
            raise Conflict("another application has this client_id", field="client_id")
        if ApiClient.objects.filter(oauth_client__client_id=client_id).exists():
            raise Conflict("an API client has this client_id", field="client_id")
        app.client_id = client_id
    app.client_type = client_type
    if "redirect_uris" in data:
        app.redirect_uris = ruled(rules.check_redirect_uris, data["redirect_uris"])
    if "steps" in data:
        app.steps = _known_providers(ruled(rules.check_steps, data["steps"]))
    if "sequence" in data:
        name = data["sequence"]
        sequence = None
        if name is not None:
            sequence = Sequence.objects.filter(name=name, kind=Sequence.Kind.SCRIPT).first()
            if sequence is None:
                raise Invalid("no login script has this name", field="sequence")
        app.sequence = sequence
    secret = ruled(rules.check_client_secret, data.get("client_secret"), client_type)
    app.save()
    try:
        sync_client(app, secret)
    except ClientConfigError as exc:
        raise Invalid(str(exc), field="client_secret") from None
    return app


def _known_providers(steps: dict) -> dict:
    """Refuse a step offering an identity provider that is not configured (apply's files may define theirs
    alongside; through the API a provider is created first)."""
    named = {option["idp"] for options in steps.values() for option in options if option["idp"] != "LOCAL"}
    unknown = sorted(named - {provider.name for provider in providers.configured()})
    if unknown:
        raise Invalid(f"no identity provider is named {', '.join(unknown)}", field="steps")
    return steps


def _apps():
    return Application.objects.select_related("sequence")


class ApplicationList(ApiListView):
    read_scope, write_scope = "applications:read", "applications:write"
    serializer_class = ApplicationSerializer
    filter_fields = {"client_id": "client_id", "client_type": "client_type", "sequence": "sequence__name"}
    ordering_fields = ["name", "created_at", "updated_at"]

    def get_queryset(self):
        return _apps()

    @extend_schema(summary="List applications")
    def get(self, request):
        return self.list(request)

    @extend_schema(summary="Create an application", responses={201: ApplicationSerializer,
                                                              409: OpenApiResponse(description="taken")})
    def post(self, request):
        serializer = ApplicationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        name = ruled(rules.check_name, data["name"])
        try:
            with transaction.atomic():
                if Application.objects.filter(name=name).exists():
                    raise Conflict("an application has this name", field="name")
                app = _save(Application(name=name), data)
                audit.record(request, "create", "application", name, _audited(data))
        except IntegrityError:
            raise Conflict("an application has this name or client_id", field="name") from None
        return tagged(ApplicationSerializer(app).data, status.HTTP_201_CREATED)


def _audited(data: dict) -> dict:
    return {"fields": sorted(key for key in data if key != "name")}


class ApplicationDetail(ApiView):
    read_scope, write_scope = "applications:read", "applications:write"
    serializer_class = ApplicationSerializer

    @extend_schema(summary="Read an application (never its client secret)")
    def get(self, request, name):
        return tagged(ApplicationSerializer(get_object_or_404(_apps(), name=name)).data)

    @extend_schema(summary="Change an application", request=ApplicationUpdateSerializer, parameters=[IF_MATCH],
                   responses={200: ApplicationSerializer, **PRECONDITION})
    def patch(self, request, name):
        serializer = ApplicationUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        try:
            with transaction.atomic():
                app = get_object_or_404(_apps().select_for_update(of=("self",)), name=name)
                require_match(request, etag_of(ApplicationSerializer(app).data))
                app = _save(app, serializer.validated_data)
                audit.record(request, "update", "application", name, _audited(serializer.validated_data))
        except IntegrityError:
            raise Conflict("another application has this client_id", field="client_id") from None
        return tagged(ApplicationSerializer(app).data)

    @extend_schema(summary="Delete an application and its OpenID Connect client (its recorded flows go with it)",
                   parameters=[IF_MATCH], responses={204: None, **PRECONDITION})
    @transaction.atomic
    def delete(self, request, name):
        app = get_object_or_404(_apps().select_for_update(of=("self",)), name=name)
        require_match(request, etag_of(ApplicationSerializer(app).data))
        client = app.oidc_client
        app.delete()
        if client is not None:
            client.delete()  # its tokens and grants with it: nobody signs in to a deleted application
        audit.record(request, "delete", "application", name)
        return Response(status=status.HTTP_204_NO_CONTENT)
