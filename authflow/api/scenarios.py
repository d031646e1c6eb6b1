"""Saved scenarios of a login script: list, save, read, delete, and run one on a version.

A saved scenario is a `manage.py simulate` scenario with the decision it must keep taking (`expect`). Each new
version runs them all; publishing a version that fails one is refused unless the request overrides
(sequences.Publish)."""
from django.db import IntegrityError, transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from sequences import api as sequences_api
from sequences.api import ExpectationError, SavedScenario, parse_expectation, run_on, saved_after
from sequences.harness.scenario import ScenarioError, parse_scenario
from sequences.models import Sequence

from . import audit
from .base import ApiListView, ApiView
from .errors import Conflict, Invalid
from .simulate import MAX_OUTCOMES


class ResultSerializer(serializers.Serializer):
    version = serializers.IntegerField(source="version.number")
    passed = serializers.BooleanField()
    status = serializers.CharField()
    reasons = serializers.ListField(child=serializers.CharField())


class SavedScenarioSerializer(serializers.ModelSerializer):
    name = serializers.RegexField(r"^[^\x00-\x1f]{1,100}$", max_length=100,
                                  help_text="unique within the script (no control characters)")
    scenario = serializers.DictField(help_text="the same JSON as `manage.py simulate --scenario`")
    expect = serializers.DictField(help_text='the decision: {"status", "subject", "steps", "effects"}; '
                                             'status is required')
    author = serializers.SerializerMethodField()
    results = serializers.SerializerMethodField()

    class Meta:
        model = SavedScenario
        fields = ["id", "name", "scenario", "expect", "author", "created_at", "results"]
        read_only_fields = ["id", "created_at"]

    def get_author(self, saved) -> str | None:
        return saved.author.get_username() if saved.author_id else None

    def get_results(self, saved) -> list[dict]:
        results = saved.results.select_related("version").order_by("-version__number")
        return ResultSerializer(results, many=True).data

    def validate_scenario(self, value):
        outcomes = value.get("outcomes")
        if isinstance(outcomes, list) and len(outcomes) > MAX_OUTCOMES:
            raise serializers.ValidationError(f"at most {MAX_OUTCOMES} outcomes")
        try:
            parse_scenario(value)
        except ScenarioError as exc:
            raise serializers.ValidationError(str(exc)) from None
        return value

    def validate_expect(self, value):
        try:
            return parse_expectation(value)
        except ExpectationError as exc:
            raise serializers.ValidationError(str(exc)) from None


class RunSerializer(serializers.Serializer):
    version = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1,
                                       help_text="the version to run it on (default: the latest)")


class RunResultSerializer(ResultSerializer):
    scenario = serializers.CharField(source="scenario.name")


def _script(name) -> Sequence:
    return get_object_or_404(Sequence, name=name, kind=Sequence.Kind.SCRIPT)


class ScenarioList(ApiListView):
    read_scope, write_scope = "sequences:read", "sequences:write"
    serializer_class = SavedScenarioSerializer
    ordering_fields = ["name", "created_at"]

    def get_queryset(self):
        return _script(self.kwargs["name"]).saved_scenarios.select_related("author").order_by("name")

    @extend_schema(summary="List a login script's saved scenarios, with their results per version")
    def get(self, request, name):
        return self.list(request)

    @extend_schema(summary="Save a scenario with a login script (run at once on its live and latest versions)",
                   responses={201: SavedScenarioSerializer})
    def post(self, request, name):
        serializer = SavedScenarioSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        sequence = _script(name)
        if sequence.saved_scenarios.count() >= sequences_api.MAX_SAVED_SCENARIOS:
            raise Conflict(f"a script keeps at most {sequences_api.MAX_SAVED_SCENARIOS} saved scenarios: delete one "
                           f"first", field="name")
        user = request.user if request.user is not None and request.user.is_authenticated else None
        try:
            with transaction.atomic():
                saved = serializer.save(sequence=sequence, author=user)
                audit.record(request, "create", "saved_scenario", f"{sequence.name}: {saved.name}",
                             {"expect": saved.expect})
        except IntegrityError:
            raise Conflict("this script already has a saved scenario with this name", field="name") from None
        saved_after(saved)
        return Response(SavedScenarioSerializer(saved).data, status=status.HTTP_201_CREATED)


class ScenarioDetail(ApiView):
    read_scope, write_scope = "sequences:read", "sequences:write"
    serializer_class = SavedScenarioSerializer

    def _saved(self, name, pk):
        return get_object_or_404(SavedScenario.objects.select_related("sequence", "author"),
                                 sequence__name=name, sequence__kind=Sequence.Kind.SCRIPT, pk=pk)

    @extend_schema(summary="Read a saved scenario and its results per version")
    def get(self, request, name, pk):
        return Response(SavedScenarioSerializer(self._saved(name, pk)).data)

    @extend_schema(summary="Delete a saved scenario (versions are no longer checked against it)",
                   responses={204: None})
    @transaction.atomic
    def delete(self, request, name, pk):
        saved = self._saved(name, pk)
        audit.record(request, "delete", "saved_scenario", f"{saved.sequence.name}: {saved.name}",
                     {"expect": saved.expect})
        saved.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class ScenarioRun(ApiView):
    read_scope = "sequences:read"
    write_scope = "sequences:read"  # it stores a result, changes nothing an administrator wrote
    serializer_class = RunSerializer

    @extend_schema(summary="Run a saved scenario on a version (default: the latest) and store the result",
                   responses={200: RunResultSerializer})
    def post(self, request, name, pk):
        serializer = RunSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        saved = get_object_or_404(SavedScenario.objects.select_related("sequence"), sequence__name=name,
                                  sequence__kind=Sequence.Kind.SCRIPT, pk=pk)
        number = serializer.validated_data.get("version")
        version = (saved.sequence.versions.filter(number=number).first() if number is not None
                   else saved.sequence.latest_version())
        if version is None:
            raise Invalid(f"{saved.sequence.name} has no version {number}" if number is not None
                          else f"{saved.sequence.name} has no version yet", field="version")
        return Response(RunResultSerializer(run_on(saved, version)).data)
