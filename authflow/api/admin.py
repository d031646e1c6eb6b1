"""The audit log and API clients in the admin console: the log read-only, nobody edits or deletes it there."""
from django.contrib import admin

from authflow.readonly_admin import ReadOnlyAdmin

from .models import ApiClient, AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor", "via", "action", "target_type", "target_id", "ip"]
    list_filter = ["via", "action", "target_type"]
    search_fields = ["actor", "target_id"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ApiClient)
class ApiClientAdmin(ReadOnlyAdmin):
    list_display = ["oauth_client", "scopes", "created_at"]
