"""The template gallery's pages: the templates to start from, and "start from this template", which opens the
editor of the chosen application's login script on the template as a new draft (nothing saved until Save)."""
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse

from authflow.applications.models import Application
from sequences.api import outline
from sequences.models import Sequence

from . import gallery
from .access import staff_console

READ = "sequences.view_sequence"
WRITE = "sequences.add_sequenceversion"


def _applications_with_scripts():
    """Applications whose login script a template can start from; not the account application, whose script is
    the staff's own sign-in (a template there could lock the console out: edit it from its versions page)."""
    return (Application.objects.filter(sequence__kind=Sequence.Kind.SCRIPT)
            .exclude(name=settings.AUTHFLOW_ACCOUNT_APPLICATION).select_related("sequence").order_by("name"))


@staff_console(READ)
def index(request):
    return render(request, "console/gallery.html", {
        "templates": gallery.templates(), "applications": _applications_with_scripts(),
        "can_write": request.user.has_perm(WRITE)})


@staff_console(READ)
def detail(request, slug):
    template = gallery.template(slug)
    if template is None:
        raise Http404("no such template")
    return render(request, "console/gallery_template.html", {
        "template": template, "applications": _applications_with_scripts(), "tree": outline(template.source),
        "can_write": request.user.has_perm(WRITE)})


@staff_console(WRITE)
def start(request, slug):
    """The editor of the chosen application's script, on the template's text and scenario."""
    template = gallery.template(slug)
    if template is None:
        raise Http404("no such template")
    application = _applications_with_scripts().filter(name=request.GET.get("application", "")).first()
    if application is None:
        messages.error(request, "Choose an application that has a login script.")
        return redirect("console:gallery-template", slug=template.slug)
    return redirect(reverse("console:editor", kwargs={"name": application.sequence.name}) + "?" +
                    urlencode({"template": template.slug}))


def editor_start(query) -> gallery.Template | None:
    """The template the editor was opened on (?template=<slug>), if any."""
    return gallery.template(query.get("template"))
