"""Email templates: read, create and change, checked by the model's own rules (placeholders, one-line subject)."""
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status

from authflow.mail.models import EmailTemplate

from . import audit
from .base import ApiListView, ApiView, tagged
from .concurrency import etag_of, require_match
from .errors import Conflict, Invalid
from .sequences import IF_MATCH, PRECONDITION

FIELDS = ["template_id", "description", "subject", "text_body", "html_body"]


class TemplateSerializer(serializers.ModelSerializer):
    template_id = serializers.CharField(max_length=64)

    class Meta:
        model = EmailTemplate
        fields = FIELDS + ["placeholder_names", "updated_at"]
        read_only_fields = ["placeholder_names", "updated_at"]


class TemplateUpdateSerializer(serializers.Serializer):
    description = serializers.CharField(max_length=255, required=False, allow_blank=True)
    subject = serializers.CharField(max_length=255, required=False)
    text_body = serializers.CharField(required=False, trim_whitespace=False, max_length=65536)
    html_body = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False, max_length=65536)


def _checked_save(template: EmailTemplate) -> None:
    try:
        template.full_clean()
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise Invalid(" ".join(messages), field=None if field == "__all__" else field) from None
    template.save()


class TemplateList(ApiListView):
    read_scope, write_scope = "templates:read", "templates:write"
    serializer_class = TemplateSerializer
    ordering_fields = ["template_id", "updated_at"]
    queryset = EmailTemplate.objects.all()

    @extend_schema(summary="List email templates")
    def get(self, request):
        return self.list(request)

    @extend_schema(summary="Create an email template", responses={201: TemplateSerializer,
                                                                   409: OpenApiResponse(description="taken")})
    def post(self, request):
        serializer = TemplateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            with transaction.atomic():
                template = EmailTemplate(**serializer.validated_data)
                if EmailTemplate.objects.filter(template_id=template.template_id).exists():
                    raise Conflict("a template has this id", field="template_id")
                _checked_save(template)
                audit.record(request, "create", "email_template", template.template_id)
        except IntegrityError:
            raise Conflict("a template has this id", field="template_id") from None
        return tagged(TemplateSerializer(template).data, status.HTTP_201_CREATED)


class TemplateDetail(ApiView):
    read_scope, write_scope = "templates:read", "templates:write"
    serializer_class = TemplateSerializer

    @extend_schema(summary="Read an email template")
    def get(self, request, template_id):
        return tagged(TemplateSerializer(get_object_or_404(EmailTemplate, template_id=template_id)).data)

    @extend_schema(summary="Change an email template", request=TemplateUpdateSerializer, parameters=[IF_MATCH],
                   responses={200: TemplateSerializer, **PRECONDITION})
    @transaction.atomic
    def patch(self, request, template_id):
        serializer = TemplateUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        template = get_object_or_404(EmailTemplate.objects.select_for_update(), template_id=template_id)
        require_match(request, etag_of(TemplateSerializer(template).data))
        for key, value in serializer.validated_data.items():
            setattr(template, key, value)
        _checked_save(template)
        audit.record(request, "update", "email_template", template_id, {"fields": sorted(serializer.validated_data)})
        return tagged(TemplateSerializer(template).data)
