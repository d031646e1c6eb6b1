"""Checking a script without saving it: the errors saving would refuse it for and the warnings it would be saved
with (calls to functions the API lacks, executeStep numbers an application using it does not configure), each
with its line; and the script API's names, for an editor's completion. Both come from the sandbox's runtime."""
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from authflow.configuration import rules
from sequences.api import script_api, script_warnings
from sequences.models import Sequence

from .base import ApiView


class CheckSerializer(serializers.Serializer):
    source = serializers.CharField(trim_whitespace=False, allow_blank=True, max_length=256 * 1024)


class CheckErrorSerializer(serializers.Serializer):
    field = serializers.CharField(allow_null=True)
    message = serializers.CharField()
    line = serializers.IntegerField(allow_null=True)
    column = serializers.IntegerField(allow_null=True)


class CheckWarningSerializer(serializers.Serializer):
    message = serializers.CharField()
    line = serializers.IntegerField()
    column = serializers.IntegerField()


class CheckResultSerializer(serializers.Serializer):
    errors = CheckErrorSerializer(many=True, help_text="what saving would refuse the script for")
    warnings = CheckWarningSerializer(many=True, help_text="what it would be saved with")


class ScriptApiSerializer(serializers.Serializer):
    functions = serializers.ListField(child=serializers.CharField())
    members = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))
    context = serializers.DictField(child=serializers.ListField(child=serializers.CharField()),
                                    help_text='fields by path: "" is context, "request" context.request, '
                                              '"steps[]" each of context.steps')


def warnings_for(sequence: Sequence, source: str) -> list[dict]:
    """The warnings of `source` as a version of `sequence`, against the steps of the applications using it."""
    applications = {app.name: app.steps for app in sequence.applications.only("name", "steps")}
    return [w.as_dict() for w in script_warnings(source, kind=sequence.kind, applications=applications)]


class ScriptCheck(ApiView):
    read_scope = write_scope = "sequences:read"  # it changes nothing
    serializer_class = CheckSerializer

    @extend_schema(summary="Check a script as a new version of this sequence, without saving it: its errors (what "
                           "saving refuses) and warnings, each with line and column", request=CheckSerializer,
                   responses={200: CheckResultSerializer})
    def post(self, request, name):
        sequence = get_object_or_404(Sequence, name=name)
        serializer = CheckSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        source = serializer.validated_data["source"]
        try:
            rules.check_script(source, sequence.kind)
        except rules.RuleError as exc:
            return Response({"errors": [{"field": "source", "message": exc.message, "line": exc.line,
                                         "column": exc.column}], "warnings": []})
        return Response({"errors": [], "warnings": warnings_for(sequence, source)})


class ScriptApi(ApiView):
    read_scope = write_scope = "sequences:read"
    serializer_class = ScriptApiSerializer

    @extend_schema(summary="The functions and context fields a login script sees (for completion in an editor)")
    def get(self, request):
        return Response(script_api("script"))
