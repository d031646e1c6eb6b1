"""Simulate: run a script (or a stored version) against a scenario, as `manage.py simulate` does.

The scenario's world is all the script sees: no real user, mail, call or
secret is touched. Each round trip runs in the sandbox under its usual limits,
and the number of outcomes is capped so one request stays short.
"""
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from sequences.harness.scenario import ScenarioError, parse_scenario
from sequences.harness.simulator import simulate
from sequences.models import Sequence, SequenceVersion

from .base import ApiView
from .errors import Invalid

MAX_OUTCOMES = 50


class SimulateSerializer(serializers.Serializer):
    source = serializers.CharField(required=False, trim_whitespace=False, max_length=256 * 1024,
                                   help_text="the script to run; or give sequence and version")
    sequence = serializers.CharField(required=False, max_length=100)
    version = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1,
                                       help_text="a version of `sequence` (default: its live version)")
    scenario = serializers.DictField(help_text="the same JSON as `manage.py simulate --scenario`")


class TraceSerializer(serializers.Serializer):
    status = serializers.ChoiceField(["success", "failed", "waiting", "error"])
    subject = serializers.CharField(allow_null=True)
    events = serializers.ListField(child=serializers.DictField())


class Simulate(ApiView):
    read_scope = write_scope = "sequences:read"  # it changes nothing
    serializer_class = SimulateSerializer

    @extend_schema(summary="Run a script against a scenario and get the trace",
                   responses={200: TraceSerializer, 400: OpenApiResponse(description="a bad scenario")})
    def post(self, request):
        serializer = SimulateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        source = self._source(data)
        outcomes = data["scenario"].get("outcomes")
        if isinstance(outcomes, list) and len(outcomes) > MAX_OUTCOMES:
            raise Invalid(f"at most {MAX_OUTCOMES} outcomes", field="scenario.outcomes")
        try:
            trace, _ = simulate(source, parse_scenario(data["scenario"]))
        except ScenarioError as exc:
            raise Invalid(str(exc), field="scenario") from None
        return Response(trace)

    def _source(self, data) -> str:
        if "source" in data:
            if "sequence" in data or "version" in data:
                raise Invalid("give source, or sequence (and version), not both", field="source")
            return data["source"]
        if "sequence" not in data:
            raise Invalid("give source, or sequence (and version)", field="source")
        sequence = Sequence.objects.filter(name=data["sequence"], kind=Sequence.Kind.SCRIPT).first()
        if sequence is None:
            raise Invalid("no login script has this name", field="sequence")
        if "version" in data:
            version = SequenceVersion.objects.filter(sequence=sequence, number=data["version"]).first()
            if version is None:
                raise Invalid(f"{sequence.name} has no version {data['version']}", field="version")
            return version.source
        if sequence.live_version is None:
            raise Invalid(f"{sequence.name} has no published version; name one", field="version")
        return sequence.live_version.source
