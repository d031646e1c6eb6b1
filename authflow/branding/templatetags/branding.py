"""{% brand_of application as brand %}: what a page of `application` (or of none) shows (services.page_brand)."""
from django import template

from authflow.branding import services

register = template.Library()


@register.simple_tag(takes_context=True)
def brand_of(context, application=None):
    request = context.get("request")
    application_id = getattr(application, "pk", None)
    memo = getattr(request, "_authflow_brands", None) if request is not None else None
    if memo is None:
        memo = {}
        if request is not None:
            request._authflow_brands = memo
    if application_id not in memo:
        memo[application_id] = services.page_brand(application)
    return memo[application_id]
