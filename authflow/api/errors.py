"""Every error the API answers is JSON of one shape: {"errors": [{"field", "message", "line", "column"}]}.

`field` is the request field at fault (null for the request as a whole),
`line` and `column` locate a script error in the script (null otherwise).
"""
from django.core.exceptions import PermissionDenied
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_handler

from authflow.configuration.rules import RuleError


class Invalid(exceptions.APIException):
    """A request the rules refuse (authflow/configuration/rules.py), or any other field error."""

    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(self, message: str, field: str | None = None, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.entry = {"field": field, "message": message, "line": line, "column": column}

    @classmethod
    def from_rule(cls, error: RuleError, field: str | None = None):
        return cls(error.message, field or error.field, error.line, error.column)


class Conflict(Invalid):
    status_code = status.HTTP_409_CONFLICT


class PreconditionFailed(Invalid):
    status_code = status.HTTP_412_PRECONDITION_FAILED


class PreconditionRequired(Invalid):
    status_code = 428


def entry(message, field=None) -> dict:
    return {"field": field, "message": str(message), "line": None, "column": None}


API_PREFIX = "/api/"


def is_api_request(request) -> bool:
    """For the site's own refusals (NUL characters, server errors): answer API callers in this shape too."""
    return request.path.startswith(API_PREFIX)


def error_response(message: str, status: int) -> JsonResponse:
    return JsonResponse({"errors": [entry(message)]}, status=status)


def _flatten(detail, field=None) -> list[dict]:
    if isinstance(detail, dict):
        out = []
        for key, value in detail.items():
            # A nested object's own error (it is not an object at all) names that object's field.
            name = field if key in ("non_field_errors", "detail") else (f"{field}.{key}" if field else str(key))
            out.extend(_flatten(value, name))
        return out
    if isinstance(detail, list):
        out = []
        for index, value in enumerate(detail):
            if isinstance(value, (dict, list)):
                out.extend(_flatten(value, f"{field}[{index}]" if field else str(index)))
            else:
                out.extend(_flatten(value, field))
        return out
    return [entry(detail, field)]


@csrf_exempt  # it changes nothing, and a write to no resource is answered 404 in JSON, not a CSRF page
def not_found(request, *args, **kwargs):
    """A path under /api/v1/ no route matches, answered in the API's shape rather than as a page."""
    return error_response("Not found.", 404)


def exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RuleError):
        exc = Invalid.from_rule(exc)
    elif isinstance(exc, (ProtectedError, RestrictedError)):
        exc = Conflict("other records still refer to this one (for example login flows or versions)")
    response = drf_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, Invalid):
        errors = [exc.entry]
    else:
        errors = _flatten(response.data) or [entry(response.status_text)]
    return Response({"errors": errors}, status=response.status_code, headers=_kept_headers(response))


def _kept_headers(response) -> dict:
    return {name: response[name] for name in ("WWW-Authenticate", "Allow", "Retry-After") if name in response}


ERROR_SCHEMA = {
    "type": "object",
    "required": ["errors"],
    "properties": {"errors": {"type": "array", "items": {
        "type": "object", "required": ["field", "message", "line", "column"],
        "properties": {"field": {"type": "string", "nullable": True}, "message": {"type": "string"},
                       "line": {"type": "integer", "nullable": True},
                       "column": {"type": "integer", "nullable": True}}}}},
}
_ALWAYS = {"400": "the request is invalid", "401": "no valid credentials", "403": "the scope does not allow it",
           "404": "no such resource", "405": "not allowed on this resource",
           "413": "the request body is larger than the server accepts"}


def document_errors(result, generator, request, public):
    """drf-spectacular postprocessing: every operation's refusals, in the one error shape."""
    result.setdefault("components", {}).setdefault("schemas", {})["Errors"] = ERROR_SCHEMA
    reference = {"application/json": {"schema": {"$ref": "#/components/schemas/Errors"}}}
    for methods in result.get("paths", {}).values():
        for operation in methods.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for code, description in _ALWAYS.items():
                responses.setdefault(code, {"description": description})
            for code, response in responses.items():
                if code[0] == "4":
                    response["content"] = reference
    return result
