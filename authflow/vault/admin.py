"""Secrets in the admin console: the value is written, never shown back (a blank value keeps the old one)."""
from django import forms
from django.contrib import admin

from .models import Secret


class SecretForm(forms.ModelForm):
    value = forms.CharField(widget=forms.PasswordInput(render_value=False), required=False, strip=False,
                            help_text="Write a new value to replace the stored one; it is never shown again.")

    class Meta:
        model = Secret
        fields = ["name", "description"]

    def clean(self):
        cleaned = super().clean()
        if not self.instance.pk and not cleaned.get("value"):
            self.add_error("value", "A new secret needs a value.")
        if self.instance.pk and "name" in self.changed_data:
            self.add_error("name", "A secret cannot be renamed (its value is bound to its name): add a new one.")
        return cleaned

    def save(self, commit=True):
        secret = super().save(commit=False)
        if self.cleaned_data.get("value"):
            secret.set_value(self.cleaned_data["value"])
        if commit:
            secret.save()
        return secret


@admin.register(Secret)
class SecretAdmin(admin.ModelAdmin):
    form = SecretForm
    list_display = ["name", "description", "updated_at"]
    search_fields = ["name", "description"]
    fields = ["name", "description", "value"]
