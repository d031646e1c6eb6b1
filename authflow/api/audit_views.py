"""Reading the audit log (scope audit:read); it has no write endpoint."""
from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from .base import ApiListView
from .models import AuditEntry


class AuditEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEntry
        fields = ["id", "at", "actor", "via", "action", "target_type", "target_id", "detail", "ip"]


class AuditList(ApiListView):
    read_scope = write_scope = "audit:read"
    serializer_class = AuditEntrySerializer
    filter_fields = {"actor": "actor", "action": "action", "target_type": "target_type", "target_id": "target_id",
                     "via": "via"}
    ordering_fields = ["at", "id"]

    @extend_schema(summary="The audit log: who changed what, when and from where (newest first)")
    def get(self, request):
        return self.list(request)

    def get_queryset(self):
        return AuditEntry.objects.all()
