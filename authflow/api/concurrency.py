"""ETag and If-Match: a write must name the representation it was based on, so no one overwrites silently.

The ETag is a digest of the resource's representation. A write without
If-Match is refused with 428, one whose If-Match is not the current ETag with
412 (someone changed the resource since it was read). The check runs on the
row locked for the write.
"""
import hashlib
import json

from .errors import PreconditionFailed, PreconditionRequired


def etag_of(representation) -> str:
    digest = hashlib.sha256(json.dumps(representation, sort_keys=True, default=str).encode()).hexdigest()
    return f'"{digest[:32]}"'


def require_match(request, current: str) -> None:
    given = request.headers.get("If-Match")
    if not given:
        raise PreconditionRequired("this write needs an If-Match header with the ETag of the resource as read",
                                   field="If-Match")
    tags = [tag.strip() for tag in given.split(",")]
    if current not in tags and "*" not in tags:
        raise PreconditionFailed("the resource changed since it was read (its ETag differs): read it again",
                                 field="If-Match")

