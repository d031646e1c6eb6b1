"""The brands' files: a logo, and a theme's stylesheet; each at an address that changes with its content,
so browsers keep them (immutable), with their exact type, nosniff and a CSP that allows nothing else."""
from django.http import Http404, HttpResponse, HttpResponseNotModified
from django.views.decorators.http import require_GET

from . import colours, services
from .models import Brand

YEAR = 365 * 24 * 3600


def _immutable(response, etag: str):
    response["ETag"] = f'"{etag}"'
    response["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'self'; img-src 'self'; sandbox"
    return response


@require_GET
def logo(request, brand_id: int, digest: str, extension: str):
    brand = Brand.objects.filter(pk=brand_id, logo_digest=digest).only("logo", "logo_type").first()
    if brand is None or not brand.logo or brand.logo_type.split("/")[1] != extension:
        raise Http404("no such logo")
    if request.headers.get("If-None-Match") == f'"{digest}"':
        return _immutable(HttpResponseNotModified(), digest)
    response = HttpResponse(bytes(brand.logo), content_type=brand.logo_type)
    response["Content-Disposition"] = f'inline; filename="logo.{extension}"'
    return _immutable(response, digest)


@require_GET
def theme(request, digest: str):
    try:
        values = {name: colours.normalised("#" + request.GET.get(name, "")) for name in colours.NAMES}
    except colours.ThemeError:
        raise Http404("not a theme") from None
    if not all(values.values()) or services.theme_digest(values) != digest:
        raise Http404("not a theme")
    if request.headers.get("If-None-Match") == f'"{digest}"':
        return _immutable(HttpResponseNotModified(), digest)
    return _immutable(HttpResponse(services.stylesheet(values), content_type="text/css; charset=utf-8"), digest)
