"""The allow-list of outbound calls, and the record of each call a login flow made.

An OutboundCall keeps what an administrator needs to see what happened (the
function, method, URL, outcome, the HTTP status, who answered and when),
never the request's header values, body or authConfig: those travel only in
the task's payload, encrypted (calls.py), and are gone once the call is made.
"""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

from . import allowlist


class AllowedEndpoint(models.Model):
    url = models.CharField(
        "URL prefix", max_length=allowlist.MAX_URL_LENGTH, unique=True,
        help_text="Scripts may call URLs under this one: the same scheme, host and port, and a path at or below "
                  "this path (https://risk.example.com/api covers https://risk.example.com/api/score?user=x, "
                  "not https://risk.example.com/apix). No wildcards.")
    description = models.CharField(max_length=255, blank=True)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["url"]
        verbose_name = "allowed endpoint"

    def __str__(self):
        return self.url

    def clean(self):
        try:
            self.url = allowlist.normalise(self.url.strip(), prefix=True).url
        except allowlist.NotAllowed as exc:
            raise ValidationError({"url": str(exc)}) from None

    def save(self, *args, **kwargs):
        self.url = allowlist.normalise(self.url.strip(), prefix=True).url
        super().save(*args, **kwargs)


def allowed(address: allowlist.Address) -> bool:
    """Whether an enabled allowed endpoint covers `address`."""
    endpoints = []
    for url in AllowedEndpoint.objects.filter(enabled=True).values_list("url", flat=True):
        try:
            endpoints.append(allowlist.normalise(url, prefix=True))
        except allowlist.NotAllowed:  # stored before a rule changed: it allows nothing
            continue
    return allowlist.covered(address, endpoints)


class OutboundCall(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        DONE = "done"

    class Outcome(models.TextChoices):
        SUCCESS = "success"
        FAIL = "fail"
        TIMEOUT = "timeout"

    class AnsweredBy(models.TextChoices):
        AT_ONCE = "at once", "at once (refused before any request)"
        WORKER = "worker", "the worker that made the request"
        DEADLINE = "deadline", "the deadline (no result in time)"

    flow = models.ForeignKey("flows.LoginFlow", on_delete=models.CASCADE, related_name="outbound_calls")
    # The journal position the call's outcome answers.
    position = models.PositiveIntegerField()
    function = models.CharField(max_length=32)
    method = models.CharField(max_length=8)
    url = models.TextField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    # Why it failed, in a few words ("not on the allow-list", "HTTP 500"); never a response body.
    detail = models.CharField(max_length=200, blank=True)
    answered_by = models.CharField(max_length=16, choices=AnsweredBy.choices, blank=True)
    # Whether the outcome reached the flow (False when the flow had moved on, ended or expired).
    delivered = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # After this the flow is answered "timeout" by whoever notices first (the browser's page, its status poll).
    deadline = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["flow", "position"], name="one_call_per_flow_position")]
        indexes = [models.Index(fields=["status", "deadline"])]

    def __str__(self):
        return f"{self.function} {self.method} {self.url[:80]} ({self.outcome or self.status})"


def put_endpoint(url: str, description: str = "", enabled: bool = True) -> str:
    """Create or update the allowed endpoint `url` (configuration as code); "created", "updated" or "unchanged"."""
    url = allowlist.normalise(url.strip(), prefix=True).url
    endpoint = AllowedEndpoint.objects.filter(url=url).first()
    if endpoint is None:
        AllowedEndpoint.objects.create(url=url, description=description, enabled=enabled)
        return "created"
    if (endpoint.description, endpoint.enabled) == (description, enabled):
        return "unchanged"
    endpoint.description, endpoint.enabled = description, enabled
    endpoint.save(update_fields=["description", "enabled", "updated_at"])
    return "updated"


def endpoints() -> list[dict]:
    """Every allowed endpoint, as configuration as code writes it."""
    return [{"url": url, "description": description, "enabled": enabled}
            for url, description, enabled in AllowedEndpoint.objects.values_list("url", "description", "enabled")]
