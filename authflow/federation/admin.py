"""Identity providers in the admin console: the client secret is written, never shown back (blank keeps it)."""
from django import forms
from django.contrib import admin

from .models import IdentityProvider
from .settings_check import SettingsError, check_settings


class IdentityProviderForm(forms.ModelForm):
    issuer = forms.URLField(max_length=500, assume_scheme="https", required=False,
                            help_text=IdentityProvider._meta.get_field("issuer").help_text)
    saml_metadata_url = forms.URLField(max_length=500, assume_scheme="https", required=False,
                                       help_text="SAML: where the IdP's metadata is fetched (or paste it below).")
    client_secret = forms.CharField(widget=forms.PasswordInput(render_value=False), required=False, strip=False,
                                    help_text="Write a new secret to replace the stored one; it is never shown again.")

    class Meta:
        model = IdentityProvider
        fields = ["name", "display_name", "enabled", "protocol", "issuer", "client_id", "client_auth_method",
                  "scopes", "extra_params", "use_userinfo", "claim_mapping", "user_policy", "username_claim",
                  "username_prefix", "saml_metadata_url", "saml_metadata_xml", "saml_entity_id",
                  "saml_nameid_format", "provisioning_roles", "role_claim", "role_mapping"]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("name") == "LOCAL":
            self.add_error("name", "LOCAL names this server's own authenticators: choose another name.")
        if self.instance.pk and "name" in self.changed_data:
            self.add_error("name", "A provider cannot be renamed (its secret and links are bound to its name).")
        saml = cleaned.get("protocol") == IdentityProvider.Protocol.SAML
        if saml and bool(cleaned.get("saml_metadata_url")) == bool(cleaned.get("saml_metadata_xml")):
            self.add_error("saml_metadata_url", "Give the IdP's metadata URL or its metadata XML (one of them).")
        if not saml:
            for field in ("issuer", "client_id"):
                if not cleaned.get(field):
                    self.add_error(field, "An OpenID Connect provider needs this.")
        roles = cleaned.get("provisioning_roles") or []
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            self.add_error("provisioning_roles", "A list of role names, e.g. [\"employee\"].")
        cleaned["provisioning_roles"] = roles
        mapping = cleaned.get("role_mapping") or {}
        if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
            self.add_error("role_mapping", "Remote values to role names, e.g. {\"corp-admins\": \"admin\"}.")
        cleaned["role_mapping"] = mapping
        try:
            check_settings(scopes="openid" if saml else cleaned.get("scopes") or "",
                           extra_params={} if saml else cleaned.get("extra_params"),
                           claim_mapping=cleaned.get("claim_mapping"))
        except SettingsError as exc:
            raise forms.ValidationError(str(exc)) from None
        return cleaned

    def save(self, commit=True):
        provider = super().save(commit=False)
        if self.cleaned_data.get("client_secret"):
            provider.set_client_secret(self.cleaned_data["client_secret"])
        if commit:
            provider.save()
        return provider


@admin.register(IdentityProvider)
class IdentityProviderAdmin(admin.ModelAdmin):
    form = IdentityProviderForm
    list_display = ["name", "display_name", "protocol", "issuer", "user_policy", "enabled"]
    list_filter = ["enabled", "protocol", "user_policy"]
    search_fields = ["name", "display_name", "issuer"]
    fieldsets = [
        (None, {"fields": ["name", "display_name", "enabled", "protocol"]}),
        ("OpenID Connect", {"fields": ["issuer", "client_id", "client_secret", "client_auth_method", "scopes",
                                       "extra_params", "use_userinfo"]}),
        ("SAML 2.0 (SP metadata: /federation/saml/<name>/metadata/)", {"fields": [
            "saml_metadata_url", "saml_metadata_xml", "saml_entity_id", "saml_nameid_format"]}),
        ("Users", {"fields": ["claim_mapping", "user_policy", "username_claim", "username_prefix",
                              "provisioning_roles", "role_claim", "role_mapping"]}),
    ]
