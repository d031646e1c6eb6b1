"""Lists: pages (limit and offset), filters by exact field values, and ordering."""
from rest_framework.filters import BaseFilterBackend, OrderingFilter
from rest_framework.pagination import LimitOffsetPagination

from .errors import Invalid


class Page(LimitOffsetPagination):
    default_limit = 50
    max_limit = 200


class ExactFilter(BaseFilterBackend):
    """`?field=value` for each name in the view's filter_fields ({query name: model lookup})."""

    def filter_queryset(self, request, queryset, view):
        for name, lookup in getattr(view, "filter_fields", {}).items():
            value = request.query_params.get(name)
            if value is None:
                continue
            if "\x00" in value:
                raise Invalid("must not hold a NUL character", field=name)
            if lookup.endswith("__isnull") or name.startswith("is_") or lookup in ("is_active", "is_staff",
                                                                                    "enabled", "published"):
                if value not in ("true", "false"):
                    raise Invalid("must be true or false", field=name)
                value = value == "true"
            queryset = queryset.filter(**{lookup: value})
        return queryset

    def get_schema_operation_parameters(self, view):
        return [{"name": name, "required": False, "in": "query", "description": f"only items whose {name} is this",
                 "schema": {"type": "string"}} for name in getattr(view, "filter_fields", {})]


class Ordering(OrderingFilter):
    """`?ordering=name` or `?ordering=-created_at`, among the view's ordering_fields."""
