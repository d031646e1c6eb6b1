"""Sequences (login scripts and libraries) and their immutable versions: create, read, diff, publish, live.

Writes to a sequence (a new version, publishing) need If-Match with the
sequence's ETag, which changes with every version and every publication:
two administrators cannot publish over each other unseen.
"""
import difflib

from django.db import IntegrityError, transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from authflow.configuration import rules
from sequences.api import failing_on, publish_version, rerun_for_version
from sequences.models import Sequence, SequenceVersion

from . import audit
from .base import ApiListView, ApiView
from .concurrency import etag_of, require_match
from .configuration_rules import ruled
from .errors import Conflict, Invalid

PRECONDITION = {412: OpenApiResponse(description="If-Match is not the current ETag"),
                428: OpenApiResponse(description="If-Match is missing")}
IF_MATCH = OpenApiParameter("If-Match", str, OpenApiParameter.HEADER, required=True,
                            description="the ETag of the sequence as last read")


class SequenceSerializer(serializers.ModelSerializer):
    name = serializers.CharField(max_length=200, help_text="letters, digits, - and _ (part of URLs)")
    live_version = serializers.SerializerMethodField()
    latest_version = serializers.SerializerMethodField()

    class Meta:
        model = Sequence
        fields = ["name", "kind", "description", "created_at", "live_version", "latest_version"]
        read_only_fields = ["created_at"]
        extra_kwargs = {"description": {"max_length": 2000}}

    def get_live_version(self, sequence) -> int | None:
        return sequence.live_version.number if sequence.live_version_id else None

    def get_latest_version(self, sequence) -> int | None:
        latest = sequence.latest_version()
        return latest.number if latest else None

    def validate_name(self, value):
        return ruled(rules.check_name, value)


class SequenceUpdateSerializer(serializers.Serializer):
    description = serializers.CharField(max_length=2000, allow_blank=True)


class VersionSerializer(serializers.ModelSerializer):
    sequence = serializers.CharField(source="sequence.name", read_only=True)
    author = serializers.SerializerMethodField()
    live = serializers.SerializerMethodField()

    class Meta:
        model = SequenceVersion
        fields = ["sequence", "number", "source", "source_sha256", "author", "created_at", "published",
                  "published_at", "live"]
        read_only_fields = ["number", "source_sha256", "created_at", "published", "published_at"]

    def get_author(self, version) -> str | None:
        return version.author.get_username() if version.author_id else None

    def get_live(self, version) -> bool:
        return version.sequence.live_version_id == version.pk


class VersionCreateSerializer(serializers.Serializer):
    source = serializers.CharField(trim_whitespace=False, max_length=256 * 1024)


class PublishSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    override = serializers.BooleanField(required=False, default=False,
                                        help_text="publish although the version fails saved scenarios (audited)")


class DiffSerializer(serializers.Serializer):
    sequence = serializers.CharField()
    from_version = serializers.IntegerField()
    to_version = serializers.IntegerField()
    diff = serializers.CharField(help_text="unified diff from the first version to the second")


def sequence_etag(sequence: Sequence) -> str:
    return etag_of(SequenceSerializer(sequence).data)


def _sequence(name, lock=False) -> Sequence:
    queryset = Sequence.objects.select_related("live_version")
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    return get_object_or_404(queryset, name=name)


def _with_etag(response, sequence):
    response["ETag"] = sequence_etag(sequence)
    return response


class SequenceList(ApiListView):
    read_scope, write_scope = "sequences:read", "sequences:write"
    serializer_class = SequenceSerializer
    filter_fields = {"kind": "kind"}
    ordering_fields = ["name", "created_at"]
    queryset = Sequence.objects.select_related("live_version")

    @extend_schema(summary="List login scripts and libraries")
    def get(self, request):
        return self.list(request)

    @extend_schema(summary="Create a login script or a library (without versions yet)",
                   responses={201: SequenceSerializer, 409: OpenApiResponse(description="the name is taken")})
    def post(self, request):
        serializer = SequenceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            with transaction.atomic():
                sequence = serializer.save()
                audit.record(request, "create", "sequence", sequence.name, {"kind": sequence.kind})
        except IntegrityError:
            raise Conflict("a script or library already has this name", field="name") from None
        return _with_etag(Response(SequenceSerializer(sequence).data, status=status.HTTP_201_CREATED), sequence)


class SequenceDetail(ApiView):
    read_scope, write_scope = "sequences:read", "sequences:write"
    serializer_class = SequenceSerializer

    @extend_schema(summary="Read a login script or library (its live and latest version numbers)")
    def get(self, request, name):
        sequence = _sequence(name)
        return _with_etag(Response(SequenceSerializer(sequence).data), sequence)

    @extend_schema(summary="Change a sequence's description", request=SequenceUpdateSerializer,
                   parameters=[IF_MATCH], responses={200: SequenceSerializer, **PRECONDITION})
    @transaction.atomic
    def patch(self, request, name):
        serializer = SequenceUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        sequence = _sequence(name, lock=True)
        require_match(request, sequence_etag(sequence))
        before = sequence.description
        sequence.description = serializer.validated_data["description"]
        sequence.save(update_fields=["description"])
        audit.record(request, "update", "sequence", sequence.name, {"description": [before, sequence.description]})
        return _with_etag(Response(SequenceSerializer(sequence).data), sequence)


class VersionList(ApiListView):
    read_scope, write_scope = "sequences:read", "sequences:write"
    serializer_class = VersionSerializer
    filter_fields = {"published": "published"}
    ordering_fields = ["number", "created_at"]

    @extend_schema(summary="List a sequence's versions")
    def get(self, request, name):
        return self.list(request)

    def get_queryset(self):
        sequence = _sequence(self.kwargs["name"])
        return sequence.versions.select_related("author", "sequence").order_by("number")

    @extend_schema(summary="Create a version (checked like `manage.py apply`); publishing it is separate",
                   request=VersionCreateSerializer, parameters=[IF_MATCH],
                   responses={201: VersionSerializer, **PRECONDITION})
    @transaction.atomic
    def post(self, request, name):
        serializer = VersionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        source = serializer.validated_data["source"]
        sequence = _sequence(name, lock=True)
        require_match(request, sequence_etag(sequence))
        ruled(rules.check_script, source, sequence.kind)
        latest = sequence.latest_version()
        version = SequenceVersion.objects.create(sequence=sequence, number=(latest.number + 1) if latest else 1,
                                                 source=source, author=_author(request))
        audit.record(request, "create", "sequence_version", f"{sequence.name} v{version.number}",
                     {"sha256": version.source_sha256})
        rerun_for_version(version)
        sequence.refresh_from_db()
        response = Response(VersionSerializer(version).data, status=status.HTTP_201_CREATED)
        return _with_etag(response, sequence)


class VersionDetail(ApiView):
    read_scope, write_scope = "sequences:read", "sequences:write"
    serializer_class = VersionSerializer

    @extend_schema(summary="Read one version")
    def get(self, request, name, number):
        version = get_object_or_404(SequenceVersion.objects.select_related("sequence", "author"),
                                    sequence__name=name, number=number)
        return Response(VersionSerializer(version).data)


class VersionDiff(ApiView):
    read_scope, write_scope = "sequences:read", "sequences:write"
    serializer_class = DiffSerializer

    @extend_schema(summary="Unified diff between two versions", parameters=[
        OpenApiParameter("from", int, required=True, description="the earlier version's number"),
        OpenApiParameter("to", int, required=True, description="the later version's number")])
    def get(self, request, name):
        sequence = _sequence(name)
        numbers = {}
        for key in ("from", "to"):
            value = request.query_params.get(key, "")
            if not value.isascii() or not value.isdigit() or len(value) > 9:
                raise Invalid("a version number is required", field=key)
            numbers[key] = int(value)
        versions = {v.number: v for v in sequence.versions.filter(number__in=numbers.values())}
        for key, number in numbers.items():
            if number not in versions:
                raise Invalid(f"{sequence.name} has no version {number}", field=key)
        old, new = versions[numbers["from"]], versions[numbers["to"]]
        diff = "".join(difflib.unified_diff(old.source.splitlines(keepends=True), new.source.splitlines(keepends=True),
                                            fromfile=f"{sequence.name} v{old.number}",
                                            tofile=f"{sequence.name} v{new.number}"))
        return Response({"sequence": sequence.name, "from_version": old.number, "to_version": new.number,
                         "diff": diff})


class Publish(ApiView):
    read_scope, write_scope = "sequences:read", "sequences:write"
    serializer_class = SequenceSerializer

    @extend_schema(summary="Publish a version: new logins start on it (an older one: a rollback); logins in "
                           "progress keep theirs", request=PublishSerializer, parameters=[IF_MATCH],
                   responses={200: SequenceSerializer, **PRECONDITION})
    @transaction.atomic
    def post(self, request, name):
        serializer = PublishSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        sequence = _sequence(name, lock=True)
        require_match(request, sequence_etag(sequence))
        number = serializer.validated_data["version"]
        version = sequence.versions.filter(number=number).first()
        if version is None:
            raise Invalid(f"{sequence.name} has no version {number}", field="version")
        previous = sequence.live_version.number if sequence.live_version_id else None
        failing = [r.scenario.name for r in failing_on(version)]
        if failing and not serializer.validated_data["override"]:
            raise Conflict(f"v{number} fails saved scenarios: {', '.join(failing)}; publish with override to "
                           f"publish it anyway (recorded in the audit log)", field="override")
        publish_version(version)
        detail = {"version": number, "previous": previous}
        if failing:
            audit.record(request, "override", "sequence", sequence.name, {"version": number, "failing": failing})
            detail["failing_scenarios"] = failing
        audit.record(request, "publish", "sequence", sequence.name, detail)
        sequence = _sequence(name)
        return _with_etag(Response(SequenceSerializer(sequence).data), sequence)


class LiveVersion(ApiView):
    read_scope, write_scope = "sequences:read", "sequences:write"
    serializer_class = VersionSerializer

    @extend_schema(summary="The live version: the one new logins start on",
                   responses={200: VersionSerializer, 404: OpenApiResponse(description="nothing published")})
    def get(self, request, name):
        sequence = _sequence(name)
        if sequence.live_version is None:
            raise NotFound(f"{sequence.name} has no published version")
        return Response(VersionSerializer(sequence.live_version).data)


def _author(request):
    user = request.user
    return user if user is not None and user.is_authenticated else None
