"""Brands: each read as `export` writes it (a `branding:` entry, the logo as a data URL) and written through
the branding app's own checks (services.check_entry, then the model's clean, which checks the contrast
against the default brand's colours), so the API, the admin and a configuration file accept the same brands.

The default brand is /brands/default/; an application's is /brands/applications/<name>/.
"""
from __future__ import annotations

import base64

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from authflow.applications.models import Application
from authflow.branding import colours, rules, services
from authflow.branding.models import Brand

from . import audit
from .base import ApiListView, ApiView, tagged
from .concurrency import etag_of, require_match
from .errors import Conflict, Invalid
from .sequences import IF_MATCH, PRECONDITION

WRITABLE = ("display_name", "colors", "links", "logo")
# The model's fields, as the entry names them (a full_clean message about one of them).
_MODEL_FIELDS = {"display_name": "display_name", **{name: f"colors.{name}" for name in colours.NAMES},
                 **{f"{name}_url": f"links.{name}" for name in rules.LINK_NAMES}}


class ColorsSerializer(serializers.Serializer):
    text = serializers.CharField(required=False, allow_blank=True, max_length=7, help_text="#rrggbb, or empty")
    background = serializers.CharField(required=False, allow_blank=True, max_length=7)
    accent = serializers.CharField(required=False, allow_blank=True, max_length=7, help_text="buttons and links")
    accent_text = serializers.CharField(required=False, allow_blank=True, max_length=7, help_text="text on buttons")


class LinksSerializer(serializers.Serializer):
    privacy = serializers.CharField(required=False, allow_blank=True, max_length=500, help_text="https URL")
    terms = serializers.CharField(required=False, allow_blank=True, max_length=500)
    help = serializers.CharField(required=False, allow_blank=True, max_length=500)


class BrandSerializer(serializers.Serializer):
    """A brand as `export` writes it; every colour and link pair must reach WCAG AA contrast (4.5:1)."""

    application = serializers.CharField(allow_null=True, required=False, max_length=100,
                                        help_text="the application's name; null for the default brand")
    display_name = serializers.CharField(required=False, allow_blank=True, max_length=80)
    colors = ColorsSerializer(required=False)
    links = LinksSerializer(required=False)
    logo = serializers.CharField(required=False, allow_null=True, trim_whitespace=False, help_text=(
        "PNG, JPEG or WebP as a data URL (data:image/png;base64,...) or plain base64; checked by its content; "
        "null for none"))


    def to_representation(self, brand):
        return entry(brand)


class BrandUpdateSerializer(BrandSerializer):
    application = None


def entry(brand: Brand) -> dict:
    """The brand's representation: every key present (empty when unset), the logo as a data URL or null."""
    logo = f"data:{brand.logo_type};base64,{base64.b64encode(bytes(brand.logo)).decode()}" if brand.logo else None
    return {"application": brand.application.name if brand.application_id else None,
            "display_name": brand.display_name, "colors": brand.theme, "links": brand.links, "logo": logo}


def _write(application: Application | None, data: dict) -> None:
    """Check `data` (a whole entry) as apply would and write it; each refusal names the field at fault."""
    unknown = sorted(set(data) - set(WRITABLE) - {"application"})
    if unknown:
        raise Invalid(f"unknown keys {', '.join(map(str, unknown))[:200]} (a brand has {', '.join(WRITABLE)})",
                      field=str(unknown[0])[:100])
    logo = data.get("logo")
    if isinstance(logo, str) and logo and not logo.startswith("data:"):
        logo = "data:;base64," + logo  # plain base64: its type is what its content is
    try:
        checked = services.check_entry({**data, "logo": logo})
        services.put_brand(application, checked)
    except rules.BrandError as exc:
        field, _, message = str(exc).partition(": ")
        raise Invalid(message or str(exc), field=field if message else None) from None
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        message = " ".join(messages)
        if field == "__all__" and ": " in message and message.split(": ", 1)[0] in WRITABLE:
            field, message = message.split(": ", 1)
        raise Invalid(message, field=None if field == "__all__" else _MODEL_FIELDS.get(field, field)) from None


def _brands():
    return Brand.objects.select_related("application")


def _application(name: str | None) -> Application | None:
    if name is None:
        return None
    application = Application.objects.filter(name=name).first()
    if application is None:
        raise Invalid("no application has this name", field="application")
    return application


def _target(application: Application | None) -> str:
    return application.name if application is not None else "(default)"


class BrandList(ApiListView):
    read_scope, write_scope = "branding:read", "branding:write"
    serializer_class = BrandSerializer
    ordering_fields = ["updated_at"]

    def get_queryset(self):
        return _brands().order_by(F("application__name").asc(nulls_first=True))

    @extend_schema(summary="List brands (the default brand, application null, first)")
    def get(self, request):
        return self.list(request)

    @extend_schema(summary="Create a brand (an application's, or with application null the default)",
                   request=BrandSerializer, responses={201: BrandSerializer, 409: OpenApiResponse(description="taken")})
    def post(self, request):
        serializer = BrandSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        try:
            with transaction.atomic():
                application = _application(data.pop("application", None))
                if Brand.objects.filter(application=application).exists() if application else \
                        Brand.objects.filter(application__isnull=True).exists():
                    raise Conflict(f"{'this application' if application else 'the default'} has a brand already: "
                                   "change that one", field="application")
                _write(application, data)
                audit.record(request, "create", "brand", _target(application), {"fields": sorted(data)})
        except IntegrityError:
            raise Conflict("this application has a brand already", field="application") from None
        return tagged(entry(_brands().get(application=application)), status.HTTP_201_CREATED)


class _BrandDetail(ApiView):
    """One brand; a subclass says whose (`_owner`)."""

    read_scope, write_scope = "branding:read", "branding:write"
    serializer_class = BrandSerializer

    def _owner(self, **kwargs) -> Application | None:
        raise NotImplementedError

    def _brand(self, application: Application | None, lock: bool = False) -> Brand:
        brands = _brands().select_for_update(of=("self",)) if lock else _brands()
        if application is None:
            return get_object_or_404(brands, application__isnull=True)
        return get_object_or_404(brands, application=application)

    def _read(self, request, **kwargs):
        return tagged(entry(self._brand(self._owner(**kwargs))))

    def _replace(self, request, partial: bool, **kwargs):
        serializer = BrandUpdateSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = {key: value for key, value in serializer.validated_data.items() if key in WRITABLE}
        with transaction.atomic():
            application = self._owner(**kwargs)
            brand = self._brand(application, lock=True)
            current = entry(brand)
            require_match(request, etag_of(current))
            whole = {key: current[key] for key in WRITABLE} if partial else {}
            _write(application, {**whole, **data})
            audit.record(request, "update", "brand", _target(application), {"fields": sorted(data)})
        return tagged(entry(self._brand(application)))

    def _delete(self, request, **kwargs):
        with transaction.atomic():
            application = self._owner(**kwargs)
            brand = self._brand(application, lock=True)
            require_match(request, etag_of(entry(brand)))
            brand.delete()
            audit.record(request, "delete", "brand", _target(application))
        return Response(status=status.HTTP_204_NO_CONTENT)


def _detail_class(class_name: str, whose: str, owner, path_parameter: bool):
    """The detail view of the default brand or of an application's (the same operations, their own routes)."""
    prefix = "brand_of_application" if path_parameter else "default_brand"

    def bound(method):
        if path_parameter:
            return lambda self, request, name: method(self, request, name=name)
        return lambda self, request: method(self, request)

    namespace = {
        "_owner": lambda self, **kwargs: owner(**kwargs),
        "get": extend_schema(operation_id=f"{prefix}_retrieve", summary=f"Read {whose}", responses={
            200: BrandSerializer})(bound(_BrandDetail._read)),
        "put": extend_schema(operation_id=f"{prefix}_replace", summary=f"Replace {whose} (unset keys are cleared)",
                             request=BrandUpdateSerializer, parameters=[IF_MATCH],
                             responses={200: BrandSerializer, **PRECONDITION})(
            bound(lambda self, request, **kw: _BrandDetail._replace(self, request, False, **kw))),
        "patch": extend_schema(operation_id=f"{prefix}_partial_update", summary=f"Change some keys of {whose}",
                               request=BrandUpdateSerializer, parameters=[IF_MATCH],
                               responses={200: BrandSerializer, **PRECONDITION})(
            bound(lambda self, request, **kw: _BrandDetail._replace(self, request, True, **kw))),
        "delete": extend_schema(operation_id=f"{prefix}_destroy", summary=f"Delete {whose}", parameters=[IF_MATCH],
                                responses={204: None, **PRECONDITION})(bound(_BrandDetail._delete)),
    }
    return type(class_name, (_BrandDetail,), namespace)


DefaultBrandDetail = _detail_class("DefaultBrandDetail", "the default brand", lambda: None, False)
ApplicationBrandDetail = _detail_class("ApplicationBrandDetail", "an application's brand",
                                       lambda name: get_object_or_404(Application, name=name), True)
