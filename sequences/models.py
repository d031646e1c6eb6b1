"""Sequences (named authentication scripts, and libraries of shared functions) and their immutable versions.

A login flow pins the version it started with, so a version is never edited:
saving new text creates a new version, and publishing it only moves the
sequence's one live pointer, which says the version *new* flows start on.
Publishing an older version is a rollback; flows in progress keep theirs.
"""
import hashlib

from django.conf import settings
from django.db import models


class Sequence(models.Model):
    class Kind(models.TextChoices):
        SCRIPT = "script"  # an application's authentication script
        LIBRARY = "library"  # shared functions scripts load (loadLocalLibrary / require)
        CALLBACKS = "callbacks"  # an application's callback functions (onAuthenticateSuccess, ...)
        # A custom authenticator's scripts (authflow.custom_authenticators), each defining execute().
        CUSTOM_REGISTRATION = "custom-registration"
        CUSTOM_AUTHENTICATION = "custom-authentication"
        CUSTOM_DEREGISTRATION = "custom-deregistration"

    name = models.SlugField(max_length=100, unique=True)
    kind = models.CharField(max_length=24, choices=Kind.choices, default=Kind.SCRIPT)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The version new flows start on (None: never published). One pointer, so there is
    # exactly one live version whichever order versions were published in.
    live_version = models.ForeignKey("SequenceVersion", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def published_version(self):
        """The version new flows start on: the live one, read from the database (not this instance's cache)."""
        return Sequence.published_version_of(self.pk)

    @staticmethod
    def published_version_of(sequence_id):
        """published_version() of the sequence with this id, in one query (the sequence's row is not read)."""
        live = Sequence.objects.filter(pk=sequence_id).values("live_version_id")[:1]
        return SequenceVersion.objects.filter(pk=models.Subquery(live)).first()

    def latest_version(self):
        return self.versions.order_by("-number").first()


class ImmutableVersionError(Exception):
    pass


class SequenceVersion(models.Model):
    sequence = models.ForeignKey(Sequence, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    source = models.TextField()
    source_sha256 = models.CharField(max_length=64, editable=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # What the author says changed (given when the version is saved, like the source: never edited).
    note = models.CharField(max_length=500, blank=True, default="")
    published = models.BooleanField(default=False)  # has been live at some time
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["sequence", "number"]
        constraints = [
            models.UniqueConstraint(fields=["sequence", "number"], name="unique_version_number"),
        ]

    def __str__(self):
        return f"{self.sequence.name} v{self.number}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            # Only the publication fields may change after creation.
            update_fields = kwargs.get("update_fields")
            if update_fields is None or not set(update_fields) <= {"published", "published_at"}:
                raise ImmutableVersionError(f"{self} is immutable; create a new version instead")
        else:
            self.source_sha256 = hashlib.sha256(self.source.encode("utf-8")).hexdigest()
        super().save(*args, **kwargs)


class SavedScenario(models.Model):
    """A scenario saved with a login script, and the decision it must keep taking: rerun on every new version,
    and a version that fails one is not published unless an administrator overrides (sequences/saved_scenarios.py)."""

    sequence = models.ForeignKey(Sequence, on_delete=models.CASCADE, related_name="saved_scenarios")
    name = models.CharField(max_length=100)
    scenario = models.JSONField()  # the `manage.py simulate` scenario
    expect = models.JSONField()  # sequences.expectations: {"status", "subject", "steps", "effects"}
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["sequence", "name"]
        constraints = [models.UniqueConstraint(fields=["sequence", "name"], name="unique_saved_scenario_name")]

    def __str__(self):
        return f"{self.sequence.name}: {self.name}"


class ScenarioResult(models.Model):
    """One saved scenario's run on one version: versions are immutable, so a result stays true."""

    scenario = models.ForeignKey(SavedScenario, on_delete=models.CASCADE, related_name="results")
    version = models.ForeignKey(SequenceVersion, on_delete=models.CASCADE, related_name="scenario_results")
    passed = models.BooleanField()
    status = models.CharField(max_length=16)  # how the simulated login ended
    reasons = models.JSONField(default=list)  # what differed from the expectation
    ran_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["scenario", "version"]
        constraints = [models.UniqueConstraint(fields=["scenario", "version"], name="unique_scenario_result")]
