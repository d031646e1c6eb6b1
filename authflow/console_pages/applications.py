"""The console's applications pages: list, create and edit (client, redirect URIs, steps chosen from what exists,
login script), with the live script version and the recent logins. Writes run the API's own views."""
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from authflow.applications.models import Application
from authflow.flows.service import recent_logins
from sequences.models import Sequence

from . import api_calls, step_choices
from .access import staff_console

READ = "applications.view_application"
WRITE = "applications.change_application"
FIELDS = ("name", "client_id", "client_type", "redirect_uris", "sequence", "client_secret")


@staff_console(READ)
def application_list(request):
    apps = Application.objects.select_related("sequence__live_version").order_by("name")
    return render(request, "console/applications.html", {"applications": apps,
                                                         "can_write": request.user.has_perm(WRITE)})


@staff_console(WRITE)
@require_http_methods(["GET", "POST"])
def application_create(request):
    from authflow.api import applications as applications_api  # DRF: loaded by the console, never by login workers

    if request.method == "POST":
        fields, errors = _posted(request.POST, creating=True, configured=None)
        if not errors:
            answer = api_calls.call(applications_api.ApplicationList, request, fields, "")
            if answer.status_code == 201:
                messages.success(request, f"Created application {answer.data['name']}.")
                return redirect("console:application", name=answer.data["name"])
            errors = api_calls.error_list(answer)
        return _form(request, None, request.POST, errors)
    return _form(request, None, None, [])


@staff_console(READ)
@require_http_methods(["GET", "POST"])
def application_detail(request, name):
    from authflow.api import applications as applications_api  # DRF: loaded by the console, never by login workers

    app = get_object_or_404(Application.objects.select_related("sequence__live_version"), name=name)
    if request.method == "POST":
        if not request.user.has_perm(WRITE):
            messages.error(request, f"Changing applications needs the console permission {WRITE}.")
            return redirect("console:application", name=app.name)
        fields, errors = _posted(request.POST, creating=False, configured=app.steps)
        if not errors:
            answer = api_calls.call_as("PATCH", applications_api.ApplicationDetail, request, fields,
                                    request.POST.get("etag", ""), name=app.name)
            if answer.status_code == 200:
                messages.success(request, f"Saved application {app.name}.")
                return redirect("console:application", name=app.name)
            errors = api_calls.error_list(answer)
            if answer.status_code in (412, 428):
                errors = [{"field": None, "message": "Someone changed this application since the page was loaded: "
                                                     "reload it and make your change again."}]
        return _form(request, app, request.POST, errors)
    return _form(request, app, None, [])


def _posted(post, *, creating: bool, configured: dict | None) -> tuple[dict, list[dict]]:
    """The API call's fields from the form (nothing sent for a field left as it was), or the form's errors."""
    fields = {"client_id": post.get("client_id", ""), "client_type": post.get("client_type", ""),
              "redirect_uris": [line.strip() for line in post.get("redirect_uris", "").splitlines() if line.strip()],
              "sequence": post.get("sequence") or None}
    if creating:
        fields["name"] = post.get("name", "")
    if post.get("client_secret"):
        fields["client_secret"] = post["client_secret"]
    try:
        fields["steps"] = step_choices.from_form(post, configured)
    except step_choices.UnknownChoice as exc:
        return fields, [{"field": "steps", "message": str(exc)}]
    if not fields["steps"]:
        return fields, [{"field": "steps", "message": "Choose at least one authenticator or identity provider for "
                                                      "step 1."}]
    return fields, []


def _form(request, app, post, errors):
    from authflow.api.applications import ApplicationSerializer  # DRF: loaded by the console, not at startup
    from authflow.api.concurrency import etag_of

    if post is not None:
        values = {key: post.get(key, "") for key in FIELDS if key != "client_secret"}
        rows = _posted_rows(post)
    elif app is not None:
        values = {"name": app.name, "client_id": app.client_id, "client_type": app.client_type,
                  "redirect_uris": "\n".join(app.redirect_uris),
                  "sequence": app.sequence.name if app.sequence_id else ""}
        rows = step_choices.rows(app.steps)
    else:
        values = {"client_type": "confidential"}
        rows = step_choices.rows({})
    by_field = {}
    general = []
    for error in errors:
        field = (error.get("field") or "").split(".")[0].split("[")[0]
        if field in FIELDS or field == "steps":
            by_field.setdefault(field, []).append(error["message"])
        else:
            general.append(error["message"])
    context = {"application": app, "values": values, "rows": rows,
               "choices": step_choices.choices(app.steps if app is not None else None),
               "scripts": Sequence.objects.filter(kind=Sequence.Kind.SCRIPT).order_by("name"),
               "field_errors": by_field, "errors": general, "has_errors": bool(errors),
               "can_write": request.user.has_perm(WRITE)}
    if app is not None:
        app = Application.objects.select_related("sequence__live_version").get(pk=app.pk)
        context.update(application=app, etag=etag_of(ApplicationSerializer(app).data),
                       logins=recent_logins(app, limit=10))
    return render(request, "console/application.html", context, status=400 if errors else 200)


def _posted_rows(post) -> list[dict]:
    numbers = sorted({int(key[5:]) for key in post if key.startswith("step-") and key[5:].isascii()
                      and key[5:].isdigit() and 0 < int(key[5:]) <= step_choices.MAX_STEPS})
    rows = [{"number": n, "selected": post.getlist(f"step-{n}")} for n in numbers]
    last = numbers[-1] if numbers else 0
    return rows + [{"number": last + i, "selected": []} for i in range(1, step_choices.EXTRA_ROWS + 1)]
