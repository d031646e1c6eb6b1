"""Scripts' secrets: names and descriptions can be listed; values are written and deleted, never returned."""
from django.db import transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from authflow.vault.models import Secret

from . import audit
from .base import ApiListView, ApiView
from .configuration_rules import slug


class SecretSerializer(serializers.ModelSerializer):
    class Meta:
        model = Secret
        fields = ["name", "description", "updated_at"]


class SecretWriteSerializer(serializers.Serializer):
    value = serializers.CharField(write_only=True, trim_whitespace=False, max_length=8192)
    description = serializers.CharField(required=False, allow_blank=True, max_length=200)


class SecretList(ApiListView):
    read_scope, write_scope = "secrets:read", "secrets:write"
    serializer_class = SecretSerializer
    ordering_fields = ["name", "updated_at"]
    queryset = Secret.objects.all()

    @extend_schema(summary="List secrets' names (never their values)")
    def get(self, request):
        return self.list(request)


class SecretDetail(ApiView):
    read_scope = "secrets:write"  # nothing to read here but what a writer sees
    write_scope = "secrets:write"
    serializer_class = SecretWriteSerializer

    @extend_schema(summary="Set a secret's value (created if missing); the value is never returned",
                   request=SecretWriteSerializer, responses={200: SecretSerializer, 201: SecretSerializer})
    @transaction.atomic
    def put(self, request, name):
        name = slug(name)
        serializer = SecretWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        secret = Secret.objects.select_for_update().filter(name=name).first()
        created = secret is None
        if created:
            secret = Secret(name=name)
        secret.set_value(serializer.validated_data["value"])
        if "description" in serializer.validated_data:
            secret.description = serializer.validated_data["description"]
        secret.save()
        audit.record(request, "create" if created else "update", "secret", name)  # never the value
        return Response(SecretSerializer(secret).data, status=status.HTTP_201_CREATED if created else 200)

    @extend_schema(summary="Delete a secret", responses={204: None})
    @transaction.atomic
    def delete(self, request, name):
        secret = get_object_or_404(Secret.objects.select_for_update(), name=name)
        secret.delete()
        audit.record(request, "delete", "secret", name)
        return Response(status=status.HTTP_204_NO_CONTENT)
