"""Email templates in the admin console (editable, with the placeholders each uses, and their other languages), one-time codes read-only."""
from django.contrib import admin
from django.utils.html import format_html_join

from authflow.readonly_admin import ReadOnlyAdmin

from .models import REQUIRED_PLACEHOLDERS, EmailTemplate, EmailTemplateVariant, OneTimeCode


class VariantInline(admin.StackedInline):
    """The template in other languages: sent to users whose page spoke that language."""

    model = EmailTemplateVariant
    extra = 0
    fields = ["language", "subject", "text_body", "html_body"]


@admin.register(EmailTemplate)
class EmailTemplateAdmin(admin.ModelAdmin):
    inlines = [VariantInline]
    list_display = ["template_id", "subject", "description", "placeholders", "updated_at"]
    search_fields = ["template_id", "subject", "description"]
    readonly_fields = ["placeholders", "updated_at"]
    fields = ["template_id", "description", "subject", "text_body", "html_body", "placeholders", "updated_at"]

    @admin.display(description="placeholders used")
    def placeholders(self, obj):
        names = obj.placeholder_names if obj else []
        if not names:
            return "-"
        return format_html_join(", ", "<code>{{{{ {} }}}}</code>", ((name,) for name in names))

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.template_id in REQUIRED_PLACEHOLDERS:
            fields.append("template_id")  # the authenticators send it by this name
        return fields

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.template_id in REQUIRED_PLACEHOLDERS:
            return False
        return super().has_delete_permission(request, obj)


@admin.register(OneTimeCode)
class OneTimeCodeAdmin(ReadOnlyAdmin):
    list_display = ["purpose", "user", "flow", "position", "created_at", "expires_at", "used_at", "voided_at",
                    "attempts"]
    list_filter = ["purpose"]
    search_fields = ["user__username", "flow__id"]
    exclude = ["digest", "selector"]

    def get_readonly_fields(self, request, obj=None):
        return [f for f in super().get_readonly_fields(request, obj) if f not in ("digest", "selector")]
