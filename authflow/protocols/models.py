"""What the protocol endpoints remember about a login after the flow handed it over."""
from django.db import models


class IssuedCode(models.Model):
    """The login flow an OpenID Connect authorization code came from.

    The ID token is made later, at the token endpoint; this is how it gets
    what the flow decided for this login (the script's `user.claims`, the
    authentication methods used).  The code itself is not stored, only its
    SHA-256.
    """

    code_sha256 = models.CharField(max_length=64, unique=True)
    flow = models.ForeignKey("flows.LoginFlow", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
