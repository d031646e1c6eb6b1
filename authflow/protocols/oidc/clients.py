"""Keeping each application's OpenID Connect client registration in step with the application."""
from __future__ import annotations

from django.contrib.auth.hashers import check_password
from oauth2_provider.models import get_application_model


class ClientConfigError(ValueError):
    pass


def sync_client(app, client_secret: str | None = None) -> bool:
    """Create or update the protocol library's client for `app`; returns True when something changed.

    The secret is stored hashed; without one, an existing client keeps its secret.
    """
    Client = get_application_model()
    client = app.oidc_client
    created = client is None
    if created:
        client = Client.objects.filter(client_id=app.client_id).first() or Client(client_id=app.client_id)
    if created and client.pk is None and app.client_type == "confidential" and not client_secret:
        raise ClientConfigError(f"application {app.name!r} is a confidential client: it needs a client_secret")
    wanted = {
        "client_id": app.client_id,
        "name": app.name,
        "client_type": app.client_type,
        "authorization_grant_type": Client.GRANT_AUTHORIZATION_CODE,
        "redirect_uris": " ".join(app.redirect_uris),
        "post_logout_redirect_uris": " ".join(app.redirect_uris),
        "algorithm": Client.RS256_ALGORITHM,
        # Consent, when an application wants it, is a prompt in its script.
        "skip_authorization": True,
    }
    changed = created or any(getattr(client, field) != value for field, value in wanted.items())
    for field, value in wanted.items():
        setattr(client, field, value)
    if client_secret:
        # A hash (from an export) is stored as it is; plain text is hashed on save.
        if client.pk is None or (client_secret != client.client_secret
                                 and not check_password(client_secret, client.client_secret)):
            client.client_secret = client_secret
            changed = True
    elif app.client_type == "public":
        client.client_secret = ""
    if changed:
        client.save()
    if app.oidc_client_id != client.pk:
        app.oidc_client = client
        app.save(update_fields=["oidc_client"])
    return changed
