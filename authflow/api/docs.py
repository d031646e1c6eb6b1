"""The schema and its interactive documentation, served from this server (drf-spectacular-sidecar, no CDN).

The documentation page loads Swagger UI's files and its start-up script as
files of this server, with no inline script or style, so it works under the
pages' Content-Security-Policy (authflow/content_security.py) unchanged.
"""
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView


class Schema(SpectacularAPIView):
    """The OpenAPI 3 schema (public: it describes the API, it gives no access to it)."""


class Docs(SpectacularSwaggerSplitView):
    template_name = "api/swagger_ui.html"
    url_name = "api:schema"
