from django.contrib import admin

from authflow.readonly_admin import ReadOnlyAdmin

from .models import Passkey


@admin.register(Passkey)
class PasskeyAdmin(ReadOnlyAdmin):
    """Users' passkeys, read-only; an administrator may delete one (a lost or stolen key)."""

    list_display = ("name", "user", "discoverable", "created_at", "last_used_at")
    list_filter = ("discoverable",)
    search_fields = ("user__username", "name")
    fields = ("user", "name", "discoverable", "credential", "aaguid", "transports", "sign_count", "created_at",
              "last_used_at")

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    @admin.display(description="credential")
    def credential(self, obj):
        return obj.fingerprint
