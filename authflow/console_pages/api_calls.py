"""The console's writes go through the management API's own views, so its checks, ETag concurrency and audit
entries are the API's (never a second copy of the rules): a console form post becomes the JSON call it stands for."""
from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # DRF is imported with the API's views, when the console first calls one
    from rest_framework.response import Response


def call(view_class, request, fields: dict, etag: str, **kwargs) -> Response:
    """Run `view_class` on this form-posted request, with `fields` as its JSON body and If-Match `etag`.

    Django's CSRF middleware has already checked the form's token (the console views are not exempt); the API's
    session authentication checks it again, from the header a fetch() would send.
    """
    body = json.dumps(fields).encode()
    request.META.update({"CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body)),
                         "HTTP_IF_MATCH": etag,
                         "HTTP_X_CSRFTOKEN": request.POST.get("csrfmiddlewaretoken", "")})
    request._body, request._stream, request._read_started = body, io.BytesIO(body), False
    return view_class.as_view()(request, **kwargs)


def error_list(response: Response) -> list[dict]:
    """The API's errors ({"errors": [{field, message, line, column}]}), whatever the status."""
    data = response.data if isinstance(response.data, dict) else {}
    return list(data.get("errors") or [{"field": None, "message": f"the API answered {response.status_code}",
                                        "line": None, "column": None}])
