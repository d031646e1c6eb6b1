"""Read-only admin pages for login flows and the effects each one applied."""
from django.contrib import admin

from authflow.readonly_admin import ReadOnlyAdmin, ReadOnlyInline

from .models import EffectRecord, LoginFlow


class EffectInline(ReadOnlyInline):
    model = EffectRecord
    fields = ["index", "name", "args", "result", "applied_at"]


@admin.register(LoginFlow)
class LoginFlowAdmin(ReadOnlyAdmin):
    list_display = ["id", "application", "status", "subject", "sequence_version", "created_at", "expires_at"]
    list_filter = ["status", "application"]
    search_fields = ["id", "subject"]
    inlines = [EffectInline]
