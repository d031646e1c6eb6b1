"""Read-only admin pages for login flows and the effects each one applied."""
from django.contrib import admin

from .models import EffectRecord, LoginFlow


class EffectInline(admin.TabularInline):
    model = EffectRecord
    fields = ["index", "name", "args", "result", "applied_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(LoginFlow)
class LoginFlowAdmin(admin.ModelAdmin):
    list_display = ["id", "application", "status", "subject", "sequence_version", "created_at", "expires_at"]
    list_filter = ["status", "application"]
    search_fields = ["id", "subject"]
    inlines = [EffectInline]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in LoginFlow._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
