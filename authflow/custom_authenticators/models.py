"""Custom authenticators (a factor an administrator defines in scripts) and users' registrations with them.

Each script is a versioned sequence of its own kind; an authenticator runs
the published version of each. A registration holds what the registration
script returned as `registrationData`, encrypted at rest: it is often a key
or a secret the factor proves possession of.
"""
from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models

from sequences.models import Sequence


class CustomAuthenticator(models.Model):
    name = models.SlugField(max_length=100, unique=True, help_text="What mobile apps and scripts call it by.")
    display_name = models.CharField(max_length=200)
    registration_script = models.ForeignKey(
        Sequence, on_delete=models.PROTECT, related_name="+",
        limit_choices_to={"kind": Sequence.Kind.CUSTOM_REGISTRATION})
    authentication_script = models.ForeignKey(
        Sequence, on_delete=models.PROTECT, related_name="+",
        limit_choices_to={"kind": Sequence.Kind.CUSTOM_AUTHENTICATION})
    deregistration_script = models.ForeignKey(
        Sequence, on_delete=models.PROTECT, related_name="+", null=True, blank=True,
        limit_choices_to={"kind": Sequence.Kind.CUSTOM_DEREGISTRATION})
    max_failed_attempts = models.PositiveIntegerField(
        default=5, validators=[MinValueValidator(1)],
        help_text="Failed authentications (status 4000) in a row before the registration is blocked.")
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.display_name or self.name


class Registration(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="custom_authenticator_registrations")
    authenticator = models.ForeignKey(CustomAuthenticator, on_delete=models.CASCADE, related_name="registrations")
    # keys.encrypt() of the JSON of registrationData, bound to this user and authenticator.
    sealed_data = models.TextField(editable=False)
    failed_attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["authenticator__name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "authenticator"], name="one_registration_per_authenticator"),
        ]

    def __str__(self):
        return f"{self.user} with {self.authenticator.name}"
