from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils import timezone

from . import lockout
from .models import FederatedAssociation, Role, User, UserClaim


class ClaimInline(admin.TabularInline):
    model = UserClaim
    extra = 0


class LockedFilter(admin.SimpleListFilter):
    title = "locked"
    parameter_name = "locked"

    def lookups(self, request, model_admin):
        return [("yes", "Locked now"), ("no", "Not locked")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(locked_until__gt=timezone.now())
        if self.value() == "no":
            return queryset.exclude(locked_until__gt=timezone.now())
        return queryset


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Users; a locked account shows in the list, and setting its failed sign-ins to 0 (there or on its page) unlocks it."""

    inlines = [ClaimInline]
    list_display = ["username", "email", "first_name", "last_name", "is_active", "locked", "failed_login_attempts"]
    list_editable = ["failed_login_attempts"]
    list_filter = DjangoUserAdmin.list_filter + (LockedFilter,)
    fieldsets = DjangoUserAdmin.fieldsets + (
        ("Directory", {"fields": ("unique_id", "roles", "mobile", "date_of_birth")}),
        ("Lockout", {"fields": ("failed_login_attempts", "locked_until"),
                     "description": "Set the failed sign-ins to 0 to unlock the account."}),
    )
    filter_horizontal = DjangoUserAdmin.filter_horizontal + ("roles",)
    readonly_fields = ("unique_id",)  # scripts and outside systems key on it: never edited

    @admin.display(boolean=True, description="locked")
    def locked(self, user):
        return user.account_locked

    def save_model(self, request, obj, form, change):
        if change and "failed_login_attempts" in form.changed_data and obj.failed_login_attempts == 0:
            lockout.unlock(obj, by=request.user.get_username())
        super().save_model(request, obj, form, change)


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ["name", "description"]
    search_fields = ["name"]


@admin.register(FederatedAssociation)
class FederatedAssociationAdmin(admin.ModelAdmin):
    list_display = ["idp", "subject", "user", "created_at"]
    search_fields = ["idp", "subject", "user__username"]
