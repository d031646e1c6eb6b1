from django import forms
from django.contrib import admin

from sequences.api import StepConfigError, normalize_steps

from .models import Application


class ApplicationForm(forms.ModelForm):
    class Meta:
        model = Application
        fields = ["name", "client_id", "redirect_uris", "steps", "sequence", "callbacks_sequence"]

    def clean_steps(self):
        try:
            return normalize_steps(self.cleaned_data["steps"])
        except StepConfigError as exc:
            raise forms.ValidationError(str(exc)) from None


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin):
    form = ApplicationForm
    list_display = ["name", "client_id", "sequence", "updated_at"]
    search_fields = ["name", "client_id"]
