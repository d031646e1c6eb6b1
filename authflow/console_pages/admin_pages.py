"""The console's administration pages: the audit log, users (lock state, unlock), the endpoints scripts may call
and scripts' secrets. Reads list the records; every write runs the management API's own view (api_calls)."""
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from authflow.api import audit
from authflow.applications.models import Application
from authflow.directory.models import User
from authflow.outbound.models import AllowedEndpoint
from authflow.vault.models import Secret

from . import api_calls
from .access import staff_console

PAGE_SIZE = 50


def _page(request, rows):
    return Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))


def _messages_of(answer) -> list[str]:
    return [error["message"] if not error.get("field") else f"{error['field']}: {error['message']}"
            for error in api_calls.error_list(answer)]


# ---------------------------------------------------------------- audit log

@staff_console("management_api.view_auditentry")
def audit_log(request):
    chosen = {key: request.GET.get(key, "").strip()[:200] for key in ("application", "actor", "action")}
    page = _page(request, audit.entries(**chosen))
    query = urlencode({key: value for key, value in chosen.items() if value})
    return render(request, "console/audit.html", {
        "page": page, "chosen": chosen, "query": query, **audit.facets(),
        "applications": Application.objects.order_by("name").values_list("name", flat=True)})


# ---------------------------------------------------------------- users

@staff_console("directory.view_user")
def user_list(request):
    search = request.GET.get("q", "").strip()[:150]
    rows = User.objects.order_by("username")
    if search:
        rows = rows.filter(Q(username__icontains=search) | Q(email__icontains=search) |
                           Q(first_name__icontains=search) | Q(last_name__icontains=search))
    if request.GET.get("locked") == "1":
        rows = rows.filter(locked_until__gt=timezone.now())  # what User.account_locked says, in the query
    return render(request, "console/users.html", {"page": _page(request, rows), "search": search,
                                                  "only_locked": request.GET.get("locked") == "1",
                                                  "can_write": request.user.has_perm("directory.change_user")})


@staff_console("directory.change_user")
@require_http_methods(["GET", "POST"])
def user_unlock(request, username):
    """A confirmation naming the account; the unlock itself (and its audit entry) is the API's."""
    from authflow.api import users as users_api  # DRF: loaded by the console, never by login workers

    user = get_object_or_404(User, username=username)
    errors = []
    if request.method == "POST":
        answer = api_calls.call(users_api.UserUnlock, request, {}, "", username=user.username)
        if answer.status_code == 200:
            messages.success(request, f"Unlocked {user.username}: their failed sign-ins are back to 0.")
            return redirect("console:users")
        errors = _messages_of(answer)
    return render(request, "console/user_unlock.html", {"subject": user, "errors": errors},
                  status=400 if errors else 200)


# ---------------------------------------------------------------- allowed endpoints

@staff_console("outbound.view_allowedendpoint")
@require_http_methods(["GET", "POST"])
def endpoint_list(request):
    from authflow.api import endpoints as endpoints_api  # DRF: loaded by the console, never by login workers

    errors, values = [], {}
    if request.method == "POST":
        if not request.user.has_perm("outbound.change_allowedendpoint"):
            errors = ["Allowing endpoints needs the console permission outbound.change_allowedendpoint."]
        else:
            values = {"url": request.POST.get("url", ""), "description": request.POST.get("description", "")}
            answer = api_calls.call(endpoints_api.EndpointList, request, {**values, "enabled": True}, "")
            if answer.status_code in (200, 201):
                messages.success(request, f"Scripts may call {answer.data['url']}.")
                return redirect("console:endpoints")
            errors = _messages_of(answer)
    return render(request, "console/endpoints.html", {
        "endpoints": AllowedEndpoint.objects.order_by("url"), "errors": errors, "values": values,
        "can_write": request.user.has_perm("outbound.change_allowedendpoint")}, status=400 if errors else 200)


@staff_console("outbound.change_allowedendpoint")
@require_POST
def endpoint_delete(request, pk):
    from authflow.api import endpoints as endpoints_api  # DRF: loaded by the console, never by login workers
    from authflow.api.concurrency import etag_of

    endpoint = get_object_or_404(AllowedEndpoint, pk=pk)
    etag = etag_of(endpoints_api.EndpointSerializer(endpoint).data)
    answer = api_calls.call_as("DELETE", endpoints_api.EndpointDetail, request, {}, etag, pk=endpoint.pk)
    if answer.status_code == 204:
        messages.success(request, f"Scripts may no longer call {endpoint.url}.")
    else:
        messages.error(request, "Not removed: " + "; ".join(_messages_of(answer)))
    return redirect("console:endpoints")


# ---------------------------------------------------------------- secrets

@staff_console("vault.view_secret")
@require_http_methods(["GET", "POST"])
def secret_list(request):
    """Names and descriptions only: a value is written here and never shown back, not even after an error."""
    from authflow.api import secrets as secrets_api  # DRF: loaded by the console, never by login workers

    errors, values = [], {}
    if request.method == "POST":
        if not request.user.has_perm("vault.change_secret"):
            errors = ["Setting secrets needs the console permission vault.change_secret."]
        else:
            name = request.POST.get("name", "").strip()
            values = {"name": name, "description": request.POST.get("description", "")}
            if not name:
                errors = ["name: is required (letters, digits, - and _)"]
            else:
                answer = api_calls.call_as("PUT", secrets_api.SecretDetail, request,
                               {"value": request.POST.get("value", ""), "description": values["description"]}, "",
                               name=name)
                if answer.status_code in (200, 201):
                    verb = "Created" if answer.status_code == 201 else "Replaced the value of"
                    messages.success(request, f"{verb} secret {answer.data['name']}.")
                    return redirect("console:secrets")
                errors = _messages_of(answer)
    return render(request, "console/secrets.html", {
        "secrets": Secret.objects.order_by("name").only("name", "description", "updated_at"), "errors": errors,
        "values": values, "can_write": request.user.has_perm("vault.change_secret")},
        status=400 if errors else 200)


@staff_console("vault.change_secret")
@require_POST
def secret_delete(request, name):
    from authflow.api import secrets as secrets_api  # DRF: loaded by the console, never by login workers

    secret = get_object_or_404(Secret.objects.only("name"), name=name)
    answer = api_calls.call_as("DELETE", secrets_api.SecretDetail, request, {}, "", name=secret.name)
    if answer.status_code == 204:
        messages.success(request, f"Deleted secret {secret.name}.")
    else:
        messages.error(request, "Not deleted: " + "; ".join(_messages_of(answer)))
    return redirect("console:secrets")
