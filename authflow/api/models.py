"""API clients (which scopes an OAuth client may ask for) and the audit log of administrators' writes."""
from django.conf import settings
from django.db import models


class ApiClient(models.Model):
    """An OAuth client of this server allowed the client-credentials grant for the scopes listed."""

    oauth_client = models.OneToOneField(settings.OAUTH2_PROVIDER_APPLICATION_MODEL, on_delete=models.CASCADE,
                                        related_name="api_client")
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.oauth_client.client_id} ({' '.join(self.scopes)})"


class AuditEntry(models.Model):
    """One write by an administrator: who, what, when, from where. Never updated nor deleted by the API."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.CharField(max_length=200)  # "client:<client_id>" or "user:<username>"
    via = models.CharField(max_length=16)  # "api" or "admin"
    action = models.CharField(max_length=32)  # create, update, delete, publish, unlock, set_password, ...
    target_type = models.CharField(max_length=64)
    target_id = models.CharField(max_length=200)
    detail = models.JSONField(default=dict, blank=True)  # what changed, never a secret's value
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor} {self.action} {self.target_type} {self.target_id}"
