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
    # The user store the account belongs to: PRIMARY (this database), or a named read-only store such as an
    # LDAP directory.  A store's user is a local shadow row named "<STORE>/<name>" (so sessions, roles scripts
    # grant and the lockout work as for anyone); `directory` holds what the store said at the last sign-in:
    # {"roles": [...], "groups": [...], "claims": {uri: value}} (see services._sync_shadow).
    user_store = models.CharField(max_length=64, default="PRIMARY", db_index=True)
    directory = models.JSONField(default=dict, blank=True)
    # The language the pages and emails use for this user when a login does not ask for one (ui_locales) and
    # this browser picked none (authflow.languages); "" for the browser's own.
    preferred_language = models.CharField(max_length=8, blank=True, default="")

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


class UserStore(models.Model):
    """A named user store besides PRIMARY, tried in `position` order (see stores/).

    Only LDAP directories for now, read-only: users, their groups (mapped to
    roles) and attributes (mapped to claims) are the directory's.  The bind
    password is kept encrypted (authflow.keys, purpose BIND_PASSWORD_PURPOSE).
    """

    class Kind(models.TextChoices):
        LDAP = "ldap", "LDAP directory"

    name = models.CharField(max_length=64, unique=True)
    position = models.PositiveIntegerField(default=0)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.LDAP)
    enabled = models.BooleanField(default=True)
    url = models.CharField(max_length=255)
    bind_dn = models.CharField(max_length=500, blank=True)
    bind_password_encrypted = models.TextField(blank=True)
    user_search_base = models.CharField(max_length=500)
    user_filter = models.CharField(max_length=500, default="(objectClass=inetOrgPerson)")
    username_attribute = models.CharField(max_length=64, default="uid")
    group_search_base = models.CharField(max_length=500, blank=True)
    group_filter = models.CharField(max_length=500, default="(objectClass=groupOfNames)")
    group_member_attribute = models.CharField(max_length=64, default="member")
    group_name_attribute = models.CharField(max_length=64, default="cn")
    # {group name: [role names]} and {claim URI: attribute name}.
    role_mapping = models.JSONField(default=dict, blank=True)
    claim_mapping = models.JSONField(default=dict, blank=True)
    timeout_seconds = models.PositiveIntegerField(default=5)

    BIND_PASSWORD_PURPOSE = "directory.userstore.bind-password"

    class Meta:
        ordering = ["position", "name"]

    def __str__(self):
        return self.name
