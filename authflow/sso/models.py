"""A user's sign-on session in one browser, and the applications it signed in to."""
import uuid

from django.conf import settings
from django.db import models


class UserSession(models.Model):
    # The session id scripts and the account page see (getUserSessions, terminateUserSession).
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sign_on_sessions")
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    # What the User-Agent says, in words (user-agents), kept for listing sessions.
    browser = models.CharField(max_length=100, blank=True)
    platform = models.CharField(max_length=100, blank=True)
    device = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The last time the user actively signed in in this session (steps taken, not skipped).
    login_at = models.DateTimeField()
    last_access_at = models.DateTimeField()
    # The authenticators passed in this session, which later flows may reuse:
    # [{"authenticator": "BasicAuthenticator", "idp": "LOCAL", "at": "<ISO time>"}]
    authenticated = models.JSONField(default=list, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-login_at"]
        indexes = [models.Index(fields=["user", "ended_at"])]

    def __str__(self):
        return f"session {self.id} of {self.user}"


class SessionApplication(models.Model):
    session = models.ForeignKey(UserSession, on_delete=models.CASCADE, related_name="applications")
    application = models.ForeignKey("applications.Application", on_delete=models.CASCADE, related_name="+")
    subject = models.CharField(max_length=150)
    first_at = models.DateTimeField(auto_now_add=True)
    last_at = models.DateTimeField()

    class Meta:
        ordering = ["first_at"]
        constraints = [models.UniqueConstraint(fields=["session", "application"], name="one_row_per_application")]
