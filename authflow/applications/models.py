"""An application is a relying party: who may ask for a login, and which steps its script can run."""
from django.conf import settings
from django.db import models


class Application(models.Model):
    class ClientType(models.TextChoices):
        CONFIDENTIAL = "confidential"  # a server that keeps a client secret
        PUBLIC = "public"  # a browser or mobile app: PKCE only

    name = models.SlugField(max_length=100, unique=True)
    client_id = models.CharField(max_length=100, unique=True)
    redirect_uris = models.JSONField(default=list, blank=True)
    # Normalised step configuration: {"1": [{"authenticator": ..., "idp": ...}], ...}
    steps = models.JSONField(default=dict)
    # The authentication script; without one, the configured steps run in order.
    sequence = models.ForeignKey(
        "sequences.Sequence", null=True, blank=True, on_delete=models.PROTECT, related_name="applications",
        limit_choices_to={"kind": "script"},
    )
    # The callbacks script (onAuthenticateSuccess, ...: authflow.callbacks); none: the login grants what it asked.
    callbacks_sequence = models.ForeignKey(
        "sequences.Sequence", null=True, blank=True, on_delete=models.PROTECT, related_name="callback_applications",
        limit_choices_to={"kind": "callbacks"},
    )
    client_type = models.CharField(max_length=16, choices=ClientType.choices, default=ClientType.CONFIDENTIAL)
    # The OpenID Connect client registration the protocol library works with;
    # kept in step with this row by authflow.protocols.oidc.clients.
    oidc_client = models.OneToOneField(
        settings.OAUTH2_PROVIDER_APPLICATION_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="authflow_app",
    )
    # What its login pages show of its brand and the default brand, kept by authflow.branding when either
    # changes: loaded with the application (every login page already loads it), so branding costs no query.
    branding_snapshot = models.JSONField(default=dict, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name
