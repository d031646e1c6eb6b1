"""Brands in the admin console: the checked fields, and a logo upload checked by its content (logos.check)."""
from django import forms
from django.contrib import admin
from django.utils.html import format_html

from . import logos
from .models import Brand


class BrandForm(forms.ModelForm):
    logo_upload = forms.FileField(required=False, label="Logo", help_text=(
        f"PNG, JPEG or WebP, at most {logos.MAX_BYTES // 1024} KiB, {logos.MIN_SIDE} to {logos.MAX_SIDE} pixels a side. "
        "SVG is not accepted."))
    remove_logo = forms.BooleanField(required=False)

    class Meta:
        model = Brand
        fields = ["application", "display_name", "text", "background", "accent", "accent_text", "privacy_url",
                  "terms_url", "help_url"]

    def clean_logo_upload(self):
        upload = self.cleaned_data.get("logo_upload")
        if not upload:
            return None
        if upload.size > logos.MAX_BYTES:
            raise forms.ValidationError(f"The logo is too large: at most {logos.MAX_BYTES // 1024} KiB.")
        data = upload.read(logos.MAX_BYTES + 1)
        try:
            kind, width, height = logos.check(data, upload.name or "")
        except logos.LogoError as exc:
            raise forms.ValidationError(f"This logo cannot be used: {exc}.") from None
        return data, kind, width, height

    def save(self, commit=True):
        brand = super().save(commit=False)
        if self.cleaned_data.get("logo_upload"):
            brand.set_logo(*self.cleaned_data["logo_upload"])
        elif self.cleaned_data.get("remove_logo"):
            brand.set_logo(None)
        if commit:
            brand.save()
        return brand


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin):
    form = BrandForm
    list_display = ["__str__", "display_name", "accent", "updated_at"]
    readonly_fields = ["current_logo"]

    @admin.display(description="current logo")
    def current_logo(self, obj):
        if not obj or not obj.logo_digest:
            return "-"
        return format_html("{} ({}×{})", obj.logo_type, obj.logo_width, obj.logo_height)
