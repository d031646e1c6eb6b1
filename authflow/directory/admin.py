from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils import timezone

from authflow import keys

from . import lockout
from .models import FederatedAssociation, Role, User, UserClaim, UserStore


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
    list_display = ["username", "user_store", "email", "first_name", "last_name", "is_active", "locked",
                    "failed_login_attempts"]
    list_editable = ["failed_login_attempts"]
    list_filter = DjangoUserAdmin.list_filter + ("user_store", LockedFilter)
    readonly_fields = ["user_store", "directory"]
    fieldsets = DjangoUserAdmin.fieldsets + (
        ("Directory", {"fields": ("unique_id", "roles", "mobile", "date_of_birth")}),
        ("User store", {"fields": ("user_store", "directory"),
                        "description": "A user store's account: what its directory said at the last sign-in."}),
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


class UserStoreForm(forms.ModelForm):
    """The bind password is write-only: typed to change it, stored encrypted, never shown."""

    bind_password = forms.CharField(widget=forms.PasswordInput, required=False, strip=False,
                                    help_text="Leave empty to keep the current one.")

    class Meta:
        model = UserStore
        exclude = ["bind_password_encrypted"]

    def save(self, commit=True):
        store = super().save(commit=False)
        if self.cleaned_data.get("bind_password"):
            store.bind_password_encrypted = keys.encrypt(self.cleaned_data["bind_password"].encode(),
                                                         purpose=UserStore.BIND_PASSWORD_PURPOSE)
        if commit:
            store.save()
        return store


@admin.register(UserStore)
class UserStoreAdmin(admin.ModelAdmin):
    form = UserStoreForm
    list_display = ["name", "position", "kind", "url", "enabled"]
    ordering = ["position", "name"]
