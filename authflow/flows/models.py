"""A login flow's durable state, and the record of each effect it applied."""
import uuid

from django.db import models


class LoginFlow(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        ERROR = "error"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    application = models.ForeignKey("applications.Application", on_delete=models.CASCADE, related_name="flows")
    # Pinned at start: publishing a new version never changes a flow in progress.
    # Null when the application has no script (its steps run in order).
    sequence_version = models.ForeignKey(
        "sequences.SequenceVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="flows"
    )
    # The engine's state as stored (sequences.api.FlowState.to_stored: plain JSON, its secrets sealed by
    # sealing.py); everything else is derived by replay.  Other apps read it through sequences.api's accessors.
    state = models.JSONField()
    # The command the flow waits on (derived, kept so a page renders without a replay).
    pending = models.JSONField(null=True, blank=True)
    result = models.JSONField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    # How to go back to whoever asked for the login (for OpenID Connect: the
    # authorization request, its validated redirect_uri and state).
    return_to = models.JSONField(default=dict, blank=True)
    # SHA-256 of the browser cookie that started the flow: only that browser may continue it.
    browser_hash = models.CharField(max_length=64, blank=True)
    subject = models.CharField(max_length=150, blank=True)
    revision = models.PositiveIntegerField(default=0)
    # When the browser was sent back with the outcome: a finished flow is
    # delivered once (a reloaded or replayed link cannot sign in again).
    concluded_at = models.DateTimeField(null=True, blank=True)
    # When the authorization endpoint issued the login's code (OpenID Connect): claimed with a conditional
    # update, so of many requests presenting the same finished login exactly one gets a code.
    code_issued_at = models.DateTimeField(null=True, blank=True)
    # Cookies the script set (setCookie) that the next response to the flow's browser carries, sealed (sealing.py).
    outbox = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "expires_at"])]

    def __str__(self):
        return f"flow {self.id} ({self.status})"


class EffectRecord(models.Model):
    """One effect a flow's script caused, applied exactly once (unique per flow and index)."""

    flow = models.ForeignKey(LoginFlow, on_delete=models.CASCADE, related_name="effects")
    index = models.PositiveIntegerField()
    name = models.CharField(max_length=64)
    args = models.JSONField()
    result = models.JSONField(null=True)
    applied_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["flow", "index"]
        constraints = [models.UniqueConstraint(fields=["flow", "index"], name="effect_applied_once")]
