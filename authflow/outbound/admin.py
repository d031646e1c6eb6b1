"""The allow-list of outbound calls (editable) and the calls flows made (read-only)."""
from django.contrib import admin

from authflow.readonly_admin import ReadOnlyAdmin

from .models import AllowedEndpoint, OutboundCall


@admin.register(AllowedEndpoint)
class AllowedEndpointAdmin(admin.ModelAdmin):
    list_display = ["url", "description", "enabled", "updated_at"]
    list_filter = ["enabled"]
    search_fields = ["url", "description"]
    fields = ["url", "description", "enabled"]


@admin.register(OutboundCall)
class OutboundCallAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "flow", "function", "method", "url", "status", "outcome", "http_status",
                    "answered_by", "delivered", "finished_at"]
    list_filter = ["status", "outcome", "function", "answered_by"]
    search_fields = ["flow__id", "url"]
    list_select_related = ["flow"]
