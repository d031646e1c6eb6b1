"""A version's outline: what the flow diagram draws (steps, prompts, calls, effects, endings and the callbacks
and conditions leading to them), read from the script's syntax tree in a sandbox; nothing of it runs."""
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from sequences.api import ScriptSyntaxError, outline, reachable
from sequences.models import Sequence, SequenceVersion

from .base import ApiView
from .errors import Invalid


class OutlineSerializer(serializers.Serializer):
    sequence = serializers.CharField()
    version = serializers.IntegerField()
    entry = serializers.CharField()
    line = serializers.IntegerField()
    items = serializers.ListField(child=serializers.DictField(),
                                  help_text="{kind, label, line, options, lanes: [{callback, line, items}]}; "
                                            "a function's outline is its body")
    truncated = serializers.BooleanField()
    reachable = serializers.DictField(help_text="labels by kind: step, prompt, call, callback, effect, end, ...")


class VersionOutline(ApiView):
    read_scope, write_scope = "sequences:read", "sequences:write"
    serializer_class = OutlineSerializer

    @extend_schema(summary="The outline of a login script's version (its flow diagram), by static analysis",
                   responses={200: OutlineSerializer, 400: OpenApiResponse(description="the script cannot be read")})
    def get(self, request, name, number):
        version = get_object_or_404(SequenceVersion.objects.select_related("sequence"), sequence__name=name,
                                    sequence__kind=Sequence.Kind.SCRIPT, number=number)
        try:
            tree = outline(version.source)
        except ScriptSyntaxError as exc:
            raise Invalid(exc.message, field="source", line=exc.line, column=exc.column) from None
        return Response({"sequence": version.sequence.name, "version": version.number, **tree,
                         "reachable": reachable(tree)})
