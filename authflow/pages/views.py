from django.conf import settings
from django.shortcuts import render

from authflow.applications.models import Application


def home(request):
    """Where to go from here; administrators also see the applications and their scripts."""
    rows = []
    if request.user.is_staff:
        for app in Application.objects.select_related("sequence").order_by("name"):
            version = app.sequence.published_version() if app.sequence else None
            rows.append({"app": app, "version": version})
    return render(request, "pages/home.html", {"rows": rows, "demo": bool(settings.AUTHFLOW_DEMO_RP)})
