"""The schema and its interactive documentation, served from this server (drf-spectacular-sidecar, no CDN).

The documentation page loads Swagger UI's files and its start-up script as
files of this server, with no inline script or style, so it works under the
pages' Content-Security-Policy (authflow/content_security.py) unchanged.
"""
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import schema_extensions  # noqa: F401  (registers the security schemes before a schema is built)


class Schema(SpectacularAPIView):
    """The OpenAPI 3 schema (public: it describes the API, it gives no access to it)."""


class Docs(SpectacularSwaggerSplitView):
    template_name = "api/swagger_ui.html"
    url_name = "api:schema"


def only_the_management_api(endpoints):
    """drf-spectacular preprocessing hook: this schema documents /api/v1/ only (other DRF views, such as the
    custom authenticators' API for mobile apps, are not the management API)."""
    return [endpoint for endpoint in endpoints if endpoint[0].startswith("/api/v1/")]
