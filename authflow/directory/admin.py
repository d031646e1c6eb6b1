from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from .models import FederatedAssociation, Role, User, UserClaim


class ClaimInline(admin.TabularInline):
    model = UserClaim
    extra = 0


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    inlines = [ClaimInline]
    list_display = ["username", "email", "first_name", "last_name", "is_active", "failed_login_attempts"]
    fieldsets = DjangoUserAdmin.fieldsets + (
        ("Directory", {"fields": ("roles", "mobile", "date_of_birth", "failed_login_attempts")}),
    )
    filter_horizontal = DjangoUserAdmin.filter_horizontal + ("roles",)


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ["name", "description"]
    search_fields = ["name"]


@admin.register(FederatedAssociation)
class FederatedAssociationAdmin(admin.ModelAdmin):
    list_display = ["idp", "subject", "user", "created_at"]
    search_fields = ["idp", "subject", "user__username"]
