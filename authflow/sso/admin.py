"""Read-only admin pages for sign-on sessions."""
from django.contrib import admin

from authflow.readonly_admin import ReadOnlyAdmin, ReadOnlyInline

from .models import SessionApplication, UserSession


class ApplicationInline(ReadOnlyInline):
    model = SessionApplication
    fields = ["application", "subject", "first_at", "last_at"]


@admin.register(UserSession)
class UserSessionAdmin(ReadOnlyAdmin):
    list_display = ["id", "user", "ip", "browser", "platform", "login_at", "last_access_at", "ended_at", "end_reason"]
    list_filter = ["end_reason"]
    search_fields = ["id", "user__username", "ip"]
    inlines = [ApplicationInline]
