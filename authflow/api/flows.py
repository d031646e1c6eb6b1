"""Recorded login flows, read-only: status, times, the steps passed and the effects applied.

The journal is read through the engine's read API (sequences.api), never
opened: sealed values (secrets, cookies) stay sealed, and effect arguments
that are secrets show as "[redacted]".
"""
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from authflow.flows.models import LoginFlow
from sequences.api import answers_count, configured_steps, passed_steps, redacted

from .base import ApiListView, ApiView


class FlowSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    application = serializers.CharField()
    sequence = serializers.CharField(allow_null=True)
    sequence_version = serializers.IntegerField(allow_null=True)
    status = serializers.CharField()
    subject = serializers.CharField(allow_blank=True)
    waiting_on = serializers.CharField(allow_null=True, help_text="the kind of command the flow waits on")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()

    def to_representation(self, flow):
        version = flow.sequence_version
        return {"id": str(flow.id), "application": flow.application.name,
                "sequence": version.sequence.name if version else None,
                "sequence_version": version.number if version else None, "status": flow.status,
                "subject": flow.subject, "waiting_on": (flow.pending or {}).get("type"),
                "created_at": flow.created_at.isoformat(), "updated_at": flow.updated_at.isoformat(),
                "expires_at": flow.expires_at.isoformat()}


class FlowDetailSerializer(FlowSerializer):
    configured_steps = serializers.DictField()
    passed_steps = serializers.ListField(child=serializers.DictField())
    answers = serializers.DictField(child=serializers.IntegerField(), help_text="answers journaled, by kind")
    effects = serializers.ListField(child=serializers.DictField())

    def to_representation(self, flow):
        out = super().to_representation(flow)
        out["configured_steps"] = configured_steps(flow.state)
        out["passed_steps"] = passed_steps(flow.state)
        out["answers"] = {kind: answers_count(flow.state, kind) for kind in ("step", "prompt", "call", "effect")}
        out["effects"] = [{"index": e.index, "name": e.name, "args": redacted(e.name, e.args),
                           "applied_at": e.applied_at.isoformat()} for e in flow.effects.all()]
        return out


def _flows():
    return LoginFlow.objects.select_related("application", "sequence_version__sequence")


class FlowList(ApiListView):
    read_scope = write_scope = "flows:read"
    serializer_class = FlowSerializer
    filter_fields = {"application": "application__name", "status": "status", "subject": "subject"}
    ordering_fields = ["created_at", "updated_at"]

    def get_queryset(self):
        return _flows().order_by("-created_at")

    @extend_schema(summary="List recorded login flows (newest first)")
    def get(self, request):
        return self.list(request)


class FlowDetail(ApiView):
    read_scope = write_scope = "flows:read"
    serializer_class = FlowDetailSerializer

    @extend_schema(summary="Read one flow: steps passed, answers, effects (secrets redacted, sealed values never)")
    def get(self, request, flow_id):
        flow = get_object_or_404(_flows().prefetch_related("effects"), id=flow_id)
        return Response(FlowDetailSerializer(flow).data)
