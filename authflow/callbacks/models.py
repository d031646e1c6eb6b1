"""What an application's callbacks decided for one login: kept with the login, read when its tokens are made."""
from django.db import models


class LoginGrant(models.Model):
    """The outcome of onAuthenticateSuccess (and of the context selection) for the login flow `flow_id`.

    Like IssuedCode, it names the flow by id: the token endpoint finds it from
    the authorization code, and it goes when the flow does (housekeeping).
    """

    flow_id = models.UUIDField(unique=True)
    username = models.CharField(max_length=150)
    authorities = models.JSONField(default=list)  # [{"permission", "argument"?}]
    user_data = models.JSONField(default=dict)
    approved_scopes = models.JSONField(default=list)  # the scopes the token carries, in order
    launch = models.JSONField(default=dict)  # SMART launch context parameters: {"patient": "123", ...}
    fhir_context = models.JSONField(default=list)  # [{"reference", "role"?}]
    # The context of the EHR launch the login came with (authflow.callbacks.launches): {"patient", "encounter"?}.
    ehr_launch = models.JSONField(default=dict)
    # Context selection (onSmartLoginPreContextSelection): the people offered, until one is chosen.
    people = models.JSONField(default=list)
    translations = models.JSONField(default=dict)
    chosen = models.PositiveIntegerField(null=True, blank=True)  # index into people
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"grant of login {self.flow_id}"

    @property
    def awaits_choice(self) -> bool:
        return bool(self.people) and self.chosen is None
