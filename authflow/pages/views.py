from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_http_methods

from authflow.applications.models import Application


def home(request):
    """Where to go from here; administrators also see the applications and their scripts."""
    rows = []
    if request.user.is_staff:
        for app in Application.objects.select_related("sequence").order_by("name"):
            version = app.sequence.published_version() if app.sequence else None
            rows.append({"app": app, "version": version})
    return render(request, "pages/home.html", {"rows": rows, "demo": bool(settings.AUTHFLOW_DEMO_RP)})


@require_http_methods(["GET", "HEAD"])
@cache_control(public=True, max_age=24 * 3600)
def favicon(request):
    """/favicon.ico, which browsers ask for on every site (the admin's pages too): the icon, not a 404."""
    return HttpResponse((settings.BASE_DIR / "static" / "favicon.ico").read_bytes(), content_type="image/x-icon")
