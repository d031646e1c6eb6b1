"""Admin pages: an authenticator is edited with its scripts' text; each save of changed text is a new version."""
from django import forms
from django.contrib import admin
from django.core.validators import validate_slug

from authflow.authenticators import registry
from sequences.api import ScriptSyntaxError, check_syntax

from .models import CustomAuthenticator, Registration
from .services import put_authenticator, scripts_named_elsewhere

_CODE = forms.Textarea(attrs={"rows": 18, "cols": 100, "spellcheck": "false", "style": "font-family: monospace"})
_SCRIPTS = {"registration": "registration_script", "authentication": "authentication_script",
            "deregistration": "deregistration_script"}


class CustomAuthenticatorForm(forms.ModelForm):
    registration = forms.CharField(widget=_CODE, strip=False,
                                   help_text="execute(requestPayload, userIdentifier): returns {status, "
                                             "registrationData, responsePayload}.")
    authentication = forms.CharField(widget=_CODE, strip=False,
                                     help_text="execute(requestPayload, userIdentifier, registrationData).")
    deregistration = forms.CharField(widget=_CODE, strip=False, required=False,
                                     help_text="Optional: execute(requestPayload, userIdentifier, registrationData); "
                                               "leave empty to remove registrations without a script.")

    class Meta:
        model = CustomAuthenticator
        fields = ["name", "display_name", "max_failed_attempts", "enabled"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["name"].disabled = True  # scripts and registrations are named after it
            for field, attribute in _SCRIPTS.items():
                sequence = getattr(self.instance, attribute)
                version = sequence.published_version() if sequence is not None else None
                if version is not None:
                    self.initial[field] = version.source

    def clean_name(self):
        name = self.cleaned_data["name"]
        validate_slug(name)
        if len(name) > 80:
            raise forms.ValidationError("At most 80 characters.")
        if registry.is_built_in(name):
            raise forms.ValidationError("This is the name of a built-in authenticator; choose another.")
        return name

    def _clean_script(self, field):
        source = self.cleaned_data.get(field) or ""
        if not source.strip():
            return None
        try:
            check_syntax(source, kind="custom-authenticator")
        except ScriptSyntaxError as exc:
            raise forms.ValidationError(str(exc)) from None
        return source

    def clean_registration(self):
        return self._clean_script("registration")

    def clean_authentication(self):
        return self._clean_script("authentication")

    def clean_deregistration(self):
        return self._clean_script("deregistration")

    def clean(self):
        cleaned = super().clean()
        name = cleaned.get("name") or self.instance.name
        if name:
            clash = scripts_named_elsewhere(name)
            if clash:
                raise forms.ValidationError(clash)
        return cleaned


@admin.register(CustomAuthenticator)
class CustomAuthenticatorAdmin(admin.ModelAdmin):
    form = CustomAuthenticatorForm
    list_display = ["name", "display_name", "enabled", "max_failed_attempts", "created_at"]
    search_fields = ["name", "display_name"]
    fields = ["name", "display_name", "registration", "authentication", "deregistration", "max_failed_attempts",
              "enabled"]

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        put_authenticator(obj.name, data["display_name"], registration=data["registration"],
                          authentication=data["authentication"], deregistration=data.get("deregistration"),
                          max_failed_attempts=data["max_failed_attempts"], enabled=data["enabled"])
        saved = CustomAuthenticator.objects.get(name=obj.name)
        obj.pk, obj.created_at = saved.pk, saved.created_at  # the admin's messages and redirect need it


@admin.register(Registration)
class RegistrationAdmin(admin.ModelAdmin):
    """Registrations can be looked at and removed (the user registers again); their data is never shown."""

    list_display = ["user", "authenticator", "failed_attempts", "created_at", "last_used_at"]
    list_filter = ["authenticator"]
    search_fields = ["user__username"]
    fields = ["user", "authenticator", "failed_attempts", "created_at", "last_used_at"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
