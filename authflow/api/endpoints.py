"""The endpoints scripts may call (the outbound allow-list), normalised as `apply` normalises them."""
from django.db import transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from authflow.outbound import allowlist
from authflow.outbound.models import AllowedEndpoint, put_endpoint

from . import audit
from .base import ApiListView, ApiView, tagged
from .concurrency import etag_of, require_match
from .errors import Invalid
from .sequences import IF_MATCH, PRECONDITION


class EndpointSerializer(serializers.ModelSerializer):
    url = serializers.CharField(max_length=allowlist.MAX_URL_LENGTH)
    description = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    enabled = serializers.BooleanField(required=False, default=True)

    class Meta:
        model = AllowedEndpoint
        fields = ["id", "url", "description", "enabled", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]


class EndpointUpdateSerializer(serializers.Serializer):
    description = serializers.CharField(max_length=255, required=False, allow_blank=True)
    enabled = serializers.BooleanField(required=False)


class EndpointList(ApiListView):
    read_scope, write_scope = "endpoints:read", "endpoints:write"
    serializer_class = EndpointSerializer
    filter_fields = {"enabled": "enabled"}
    ordering_fields = ["url", "created_at"]
    queryset = AllowedEndpoint.objects.all()

    @extend_schema(summary="List the URL prefixes scripts may call")
    def get(self, request):
        return self.list(request)

    @extend_schema(summary="Allow a URL prefix (or change the one with this URL)",
                   responses={201: EndpointSerializer, 200: EndpointSerializer})
    @transaction.atomic
    def post(self, request):
        serializer = EndpointSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            url = allowlist.normalise(data["url"].strip(), prefix=True).url
        except allowlist.NotAllowed as exc:
            raise Invalid(str(exc), field="url") from None
        outcome = put_endpoint(url, data["description"], data["enabled"])
        endpoint = AllowedEndpoint.objects.get(url=url)
        if outcome != "unchanged":
            audit.record(request, "create" if outcome == "created" else "update", "allowed_endpoint", url,
                         {"enabled": endpoint.enabled})
        return tagged(EndpointSerializer(endpoint).data, status.HTTP_201_CREATED if outcome == "created" else 200)


class EndpointDetail(ApiView):
    read_scope, write_scope = "endpoints:read", "endpoints:write"
    serializer_class = EndpointSerializer

    @extend_schema(summary="Read an allowed endpoint")
    def get(self, request, pk):
        return tagged(EndpointSerializer(get_object_or_404(AllowedEndpoint, pk=pk)).data)

    @extend_schema(summary="Describe, enable or disable an allowed endpoint", request=EndpointUpdateSerializer,
                   parameters=[IF_MATCH], responses={200: EndpointSerializer, **PRECONDITION})
    @transaction.atomic
    def patch(self, request, pk):
        serializer = EndpointUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint = get_object_or_404(AllowedEndpoint.objects.select_for_update(), pk=pk)
        require_match(request, etag_of(EndpointSerializer(endpoint).data))
        for key, value in serializer.validated_data.items():
            setattr(endpoint, key, value)
        endpoint.save()
        audit.record(request, "update", "allowed_endpoint", endpoint.url, dict(serializer.validated_data))
        return tagged(EndpointSerializer(endpoint).data)

    @extend_schema(summary="Stop allowing an endpoint", parameters=[IF_MATCH], responses={204: None, **PRECONDITION})
    @transaction.atomic
    def delete(self, request, pk):
        endpoint = get_object_or_404(AllowedEndpoint.objects.select_for_update(), pk=pk)
        require_match(request, etag_of(EndpointSerializer(endpoint).data))
        endpoint.delete()
        audit.record(request, "delete", "allowed_endpoint", endpoint.url)
        return Response(status=status.HTTP_204_NO_CONTENT)
