"""The directory: users with the attributes common claims map to, roles, and other claims."""
import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models


class Role(models.Model):
    name = models.CharField(max_length=150, unique=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class User(AbstractUser):
    # Attributes that well-known claim URIs map to (see claims.py); any other
    # claim is a UserClaim row.
    mobile = models.CharField(max_length=32, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    failed_login_attempts = models.PositiveIntegerField(default=0)
    # The failures in a row a successful sign-in ended (kept until the next success that ends some, or a
    # script or administrator sets it): what the reference's login-attempts templates step up on.
    failed_login_attempts_before_success = models.PositiveIntegerField(default=0)
    # Set when too many sign-ins failed in a row (see lockout.py).
    locked_until = models.DateTimeField(null=True, blank=True)
    roles = models.ManyToManyField(Role, blank=True, related_name="users")
    # What scripts read as user.uniqueId: stable for the account's life, unlike a username an administrator
    # may change, and revealing nothing (a device cookie or an outside system can key on it).
    unique_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    @property
    def account_locked(self) -> bool:
        from django.utils import timezone

        return self.locked_until is not None and self.locked_until > timezone.now()


class UnknownUsername(models.Model):
    """Failed sign-ins with a username no account has, counted as an account's would be (see lockout.py).

    So that the lockout does not tell which accounts exist.  The name is kept
    as a keyed digest: people type passwords into the username field too.
    """

    name_digest = models.CharField(max_length=64, unique=True)
    failed_login_attempts = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)


class UserClaim(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="claim_values")
    uri = models.CharField(max_length=255)
    value = models.TextField()

    class Meta:
        ordering = ["user", "uri"]
        constraints = [models.UniqueConstraint(fields=["user", "uri"], name="unique_claim_per_user")]

    def __str__(self):
        return f"{self.user.username} {self.uri}"


class FederatedAssociation(models.Model):
    """A local account linked to an identity at a federated identity provider (doAssociationWithLocalUser)."""

    idp = models.CharField(max_length=100)
    subject = models.CharField(max_length=255)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="federated_associations")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["idp", "subject"]
        constraints = [models.UniqueConstraint(fields=["idp", "subject"], name="one_local_user_per_federated_identity")]

    def __str__(self):
        return f"{self.idp}:{self.subject} -> {self.user}"
