"""The console's brand pages: the default brand and each application's (display name, colours, footer links,
logo), written through the API's own views (its checks, ETag concurrency and audit entries), with the contrast
errors beside the colours and a preview of the colours through a generated stylesheet (no inline styles)."""
from __future__ import annotations

import base64

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from authflow.applications.models import Application
from authflow.branding import colours, logos, rules
from authflow.branding.models import Brand

from . import api_calls
from .access import staff_console

READ = "branding.view_brand"
WRITE = "branding.change_brand"
COLOUR_LABELS = {"text": "Text", "background": "Background", "accent": "Accent (buttons and links)",
                 "accent_text": "Text on buttons"}
LINK_LABELS = {"privacy": "Privacy policy", "terms": "Terms of use", "help": "Help"}


@staff_console(READ)
@require_http_methods(["GET", "POST"])
def default_brand(request):
    return _page(request, None)


@staff_console(READ)
@require_http_methods(["GET", "POST"])
def application_brand(request, name):
    return _page(request, get_object_or_404(Application, name=name))


@staff_console(READ)
@require_GET
def preview_stylesheet(request):
    """The preview's colours as CSS: each value checked as #rrggbb (anything else: the built-in colour)."""
    shown = {}
    for name in colours.NAMES:
        try:
            shown[name] = colours.normalised("#" + request.GET.get(name, "")[:6]) or colours.DEFAULTS[name]
        except colours.ThemeError:
            shown[name] = colours.DEFAULTS[name]
    css = (f".brand-preview {{ color: {shown['text']}; background: {shown['background']}; "
           f"border-color: {shown['text']}; }}\n"
           f".brand-preview .brand-preview-link {{ color: {shown['accent']}; }}\n"
           f".brand-preview .brand-preview-button {{ background: {shown['accent']}; color: {shown['accent_text']}; "
           f"border-color: {shown['accent']}; }}\n")
    response = HttpResponse(css, content_type="text/css; charset=utf-8")
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _page(request, application: Application | None):
    from authflow.api import brands as brands_api  # DRF: loaded by the console, never by login workers
    from authflow.api.concurrency import etag_of

    brand = Brand.objects.select_related("application").filter(application=application).first() \
        if application is not None else Brand.objects.filter(application__isnull=True).first()
    here = (reverse("console:application-brand", args=[application.name]) if application is not None
            else reverse("console:default-brand"))
    errors: list[dict] = []
    posted = None
    if request.method == "POST":
        if not request.user.has_perm(WRITE):
            messages.error(request, f"Changing brands needs the console permission {WRITE}.")
            return redirect(here)
        posted = request.POST
        fields, errors = _posted(request)
        if not errors:
            if brand is None:
                answer = api_calls.call(brands_api.BrandList, request, {
                    "application": application.name if application is not None else None, **fields}, "")
            else:
                kwargs = {"name": application.name} if application is not None else {}
                view = brands_api.ApplicationBrandDetail if application is not None else brands_api.DefaultBrandDetail
                answer = api_calls.call_as("PATCH", view, request, fields, request.POST.get("etag", ""), **kwargs)
            if answer.status_code in (200, 201):
                messages.success(request, f"Saved the {_whose(application)}.")
                return redirect(here)
            errors = api_calls.error_list(answer)
            if answer.status_code in (412, 428):
                errors = [{"field": None, "message": "Someone changed this brand since the page was loaded: "
                                                     "reload it and make your change again."}]
    current = brands_api.entry(brand) if brand is not None else None
    values = _values(posted, current)
    default = Brand.objects.filter(application__isnull=True).first() if application is not None else None
    shown = colours.effective({n: v for n, v in values["colors"].items() if _is_colour(v)},
                              default.theme if default else None)
    by_field: dict[str, list[str]] = {}
    general = []
    for error in errors:
        field = (error.get("field") or "").split(".")[0]
        if field in ("display_name", "colors", "links", "logo"):
            by_field.setdefault(field, []).append(error["message"])
        else:
            general.append(error["message"])
    context = {
        "application": application, "whose": _whose(application), "brand": brand, "values": values,
        "etag": etag_of(current) if current is not None else "",
        "colour_fields": [{"name": n, "label": COLOUR_LABELS[n], "value": values["colors"][n],
                           "shown": shown[n]} for n in colours.NAMES],
        "link_fields": [{"name": n, "label": LINK_LABELS[n], "value": values["links"][n]} for n in rules.LINK_NAMES],
        "contrasts": [{"what": what, "ratio": f"{colours.contrast(shown[fg], shown[bg]):.2f}",
                       "ok": colours.contrast(shown[fg], shown[bg]) >= colours.MIN_CONTRAST}
                      for fg, bg, what in colours.PAIRS],
        "preview_query": "&".join(f"{n}={shown[n][1:]}" for n in colours.NAMES),
        "field_errors": by_field, "errors": general, "has_errors": bool(errors),
        "logo_limits": f"PNG, JPEG or WebP, at most {logos.MAX_BYTES // 1024} KiB, {logos.MIN_SIDE} to "
                       f"{logos.MAX_SIDE} pixels a side; SVG is not accepted",
        "can_write": request.user.has_perm(WRITE),
        "logo_url": reverse("branding-logo", args=[brand.pk, brand.logo_digest, brand.logo_type.split("/")[1]])
        if brand is not None and brand.logo_digest else "",
        "applications": Application.objects.order_by("name").values_list("name", flat=True),
    }
    return render(request, "console/brand.html", context, status=400 if errors else 200)


def _whose(application) -> str:
    return f"brand of {application.name}" if application is not None else "default brand"


def _is_colour(value: str) -> bool:
    try:
        return bool(colours.normalised(value))
    except colours.ThemeError:
        return False


def _values(post, current: dict | None) -> dict:
    if post is not None:
        return {"display_name": post.get("display_name", ""),
                "colors": {n: post.get(f"color-{n}", "") for n in colours.NAMES},
                "links": {n: post.get(f"link-{n}", "") for n in rules.LINK_NAMES},
                "has_logo": bool(current and current["logo"])}
    current = current or {"display_name": "", "colors": {}, "links": {}, "logo": None}
    return {"display_name": current["display_name"],
            "colors": {n: current["colors"].get(n, "") for n in colours.NAMES},
            "links": {n: current["links"].get(n, "") for n in rules.LINK_NAMES}, "has_logo": bool(current["logo"])}


def _posted(request) -> tuple[dict, list[dict]]:
    """The API call's fields from the form; the logo only when one is uploaded or removed."""
    post = request.POST
    fields = {"display_name": post.get("display_name", ""),
              "colors": {n: post.get(f"color-{n}", "").strip() for n in colours.NAMES},
              "links": {n: post.get(f"link-{n}", "").strip() for n in rules.LINK_NAMES}}
    upload = request.FILES.get("logo")
    if upload is not None:
        if upload.size > logos.MAX_BYTES:
            return fields, [{"field": "logo", "message": f"the logo is too large: at most {logos.MAX_BYTES // 1024} KiB"}]
        data = upload.read(logos.MAX_BYTES + 1)
        try:
            logos.check(data, upload.name or "")  # the name too: a .jpg holding a PNG is refused, as in the admin
        except logos.LogoError as exc:
            return fields, [{"field": "logo", "message": str(exc)}]
        fields["logo"] = base64.b64encode(data).decode()
    elif post.get("remove_logo"):
        fields["logo"] = None
    return fields, []
