from django.shortcuts import render

from authflow.applications.models import Application


def home(request):
    applications = Application.objects.select_related("sequence").order_by("name")
    rows = []
    for app in applications:
        version = app.sequence.published_version() if app.sequence else None
        rows.append({"app": app, "version": version})
    return render(request, "pages/home.html", {"rows": rows})
