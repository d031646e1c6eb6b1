"""The replay debugger's reads: a recorded flow round trip by round trip, and the same flow re-run against
another version of its script.

Both replay the flow in the sandbox and change nothing (effects are never
run again); what they answer never holds a secret: sealed values show as
"(sealed)".  Re-running also reveals what a script version decides, so it
needs the scripts' read scope besides the flows'.
"""
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from authflow.flows import service as flows
from authflow.flows.models import LoginFlow
from sequences.models import SequenceVersion

from .access import HasScope
from .base import ApiView
from .errors import Conflict, Invalid
from .flows import FlowSerializer


class FlowTraceSerializer(serializers.Serializer):
    flow = FlowSerializer()
    boundaries = serializers.ChoiceField(["recorded", "inferred"], help_text=(
        "recorded: each round trip's clock readings, users and lookups are known; inferred: the flow was stored "
        "before they were kept, its round trips are told apart by its answers"))
    entry = serializers.CharField()
    request = serializers.DictField(help_text="the request the flow started with (cookies sealed)")
    round_trips = serializers.ListField(child=serializers.DictField(), help_text=(
        "each: index, at, answer (what the request answered), command (what the engine returned), effects, sso, "
        "calls, logs ({level, message, line}), journal ({consumed, added})"))


class FlowRerunSerializer(serializers.Serializer):
    flow = serializers.UUIDField()
    sequence = serializers.CharField()
    recorded_version = serializers.IntegerField()
    version = serializers.IntegerField()
    same = serializers.BooleanField(help_text="whether the version decides the same at every point of the flow")
    compared = serializers.IntegerField(help_text="points of the flow compared")
    round_trips = serializers.IntegerField()
    divergence = serializers.DictField(allow_null=True, help_text=(
        "the first difference: round_trip, position, kind (command: another command; path: the engine found the "
        "script took another path), recorded and other (the two commands), message"))


class _ScriptsScope:
    read_scope = write_scope = "sequences:read"


class AlsoReadsScripts(HasScope):
    """The scripts' read scope (sequences:read), besides the view's own."""

    def has_permission(self, request, view):
        return super().has_permission(request, _ScriptsScope())


def _flow(flow_id) -> LoginFlow:
    return get_object_or_404(LoginFlow.objects.select_related("application", "sequence_version__sequence"),
                             id=flow_id)


class FlowTrace(ApiView):
    read_scope = write_scope = "flows:read"
    serializer_class = FlowTraceSerializer

    @extend_schema(summary="Step through a recorded flow: per round trip, the command, journal entries, logs, effects",
                   responses={200: FlowTraceSerializer, 409: OpenApiResponse(description="the flow cannot be replayed")})
    def get(self, request, flow_id):
        flow = _flow(flow_id)
        try:
            trace = flows.trace(flow)
        except flows.FlowUnreadable as exc:
            raise Conflict(str(exc)) from None
        return Response({"flow": FlowSerializer(flow).data, **trace})


class FlowRerun(ApiView):
    read_scope = write_scope = "flows:read"
    permission_classes = [HasScope, AlsoReadsScripts]
    serializer_class = FlowRerunSerializer

    @extend_schema(
        summary="Re-run a recorded flow against another version of its script (sandbox only) and find where it diverges",
        parameters=[OpenApiParameter("version", int, OpenApiParameter.QUERY, required=True,
                                     description="a version number of the flow's script")],
        responses={200: FlowRerunSerializer, 400: OpenApiResponse(description="no such version of the flow's script"),
                   409: OpenApiResponse(description="the flow cannot be replayed")})
    def get(self, request, flow_id):
        flow = _flow(flow_id)
        recorded = flow.sequence_version
        if recorded is None:
            raise Invalid("this flow ran its application's steps without a script: there is no version to compare",
                          field="version")
        number = request.query_params.get("version", "")
        if not (number.isascii() and number.isdigit() and len(number) < 10):
            raise Invalid("give the number of a version of the flow's script", field="version")
        version = SequenceVersion.objects.filter(sequence_id=recorded.sequence_id, number=int(number)).first()
        if version is None:
            raise Invalid(f"{recorded.sequence.name} has no version {number}", field="version")
        try:
            result = flows.rerun(flow, version)
        except flows.FlowUnreadable as exc:
            raise Conflict(str(exc)) from None
        return Response({"flow": str(flow.id), "sequence": recorded.sequence.name,
                         "recorded_version": recorded.number, "version": version.number, **result})
