"""Read-only admin pages for sign-on sessions."""
from django.contrib import admin

from .models import SessionApplication, UserSession


class ApplicationInline(admin.TabularInline):
    model = SessionApplication
    fields = ["application", "subject", "first_at", "last_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(UserSession)
class UserSessionAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "ip", "browser", "platform", "login_at", "last_access_at", "ended_at", "end_reason"]
    list_filter = ["end_reason"]
    search_fields = ["id", "user__username", "ip"]
    inlines = [ApplicationInline]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in UserSession._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
