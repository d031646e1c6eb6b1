"""The base of every API view: who may call (access.py), errors (errors.py), lists (lists.py)."""
from django.conf import settings
from rest_framework.exceptions import APIException, ParseError
from rest_framework.generics import GenericAPIView
from rest_framework.mixins import ListModelMixin
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from .access import ApiTokenAuthentication, HasScope, StaffSessionAuthentication
from .concurrency import etag_of
from .lists import ExactFilter, Ordering, Page


class TooLarge(APIException):
    status_code = 413
    default_detail = "the request body is too large"


class NestingBoundedJSONParser(JSONParser):
    """JSON, where a body nested deeper than Python's recursion allows is a 400 like any malformed one (the
    standard parser's RecursionError was a 500), and so is a NUL character (\\u0000) in any key or string:
    PostgreSQL stores none in text or JSON, and a NUL inside a JSON object (a saved scenario's user claims)
    reached the INSERT as a 500. Forms and queries are refused the same way by authflow/nul_bytes.py."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the body is nested too deeply") from None
        if _holds_nul(data):
            raise ParseError("the request contains a NUL character")
        return data


def _holds_nul(data) -> bool:
    """Whether a NUL character is in any key or string of parsed JSON (walked without recursion)."""
    pending = [data]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return True
        elif isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False


class ApiView(GenericAPIView):
    parser_classes = [NestingBoundedJSONParser]
    authentication_classes = [ApiTokenAuthentication, StaffSessionAuthentication]
    permission_classes = [HasScope]
    pagination_class = Page
    filter_backends = [ExactFilter, Ordering]
    filter_fields: dict = {}
    metadata_class = None  # no OPTIONS description: the schema is at /api/v1/schema/
    read_scope = "none"
    write_scope = "none"

    def initial(self, request, *args, **kwargs):
        # DRF reads the body from the stream, past Django's DATA_UPLOAD_MAX_MEMORY_SIZE check: apply it here.
        length = request.META.get("CONTENT_LENGTH") or "0"
        if not length.isdigit() or int(length) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            raise TooLarge()
        super().initial(request, *args, **kwargs)


class ApiListView(ListModelMixin, ApiView):
    """A list: get_queryset() filtered, ordered and paged."""


def tagged(data, status: int = 200) -> Response:
    """A response carrying the ETag of its representation (what If-Match must name to change it)."""
    response = Response(data, status=status)
    response["ETag"] = etag_of(data)
    return response
