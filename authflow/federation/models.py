"""An identity provider users may sign in with: what scripts name in `{idp: ...}`, and how to reach it.

The client secret is kept encrypted with the server's keys (authflow.keys),
bound to the provider's name: it never leaves the server in clear.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models

if TYPE_CHECKING:
    from joserfc.jwk import RSAKey

from authflow import keys


class IdentityProvider(models.Model):
    class Protocol(models.TextChoices):
        OIDC = "oidc", "OpenID Connect"
        SAML = "saml", "SAML 2.0"

    class ClientAuth(models.TextChoices):
        BASIC = "client_secret_basic", "client_secret_basic (HTTP Basic)"
        POST = "client_secret_post", "client_secret_post (in the request body)"
        # A JWT signed with a key this server made for the provider; its public half is served at
        # /federation/oidc/<name>/jwks.json for the provider to fetch (or to register there).
        PRIVATE_KEY_JWT = "private_key_jwt", "private_key_jwt (a key of this server)"

    class UserPolicy(models.TextChoices):
        # The login carries the remote identity ("<name>:<sub>"); a script links it to a local account.
        NONE = "none", "No local account"
        # Create (or update) a local account from the mapped claims, linked to the remote identity.
        PROVISION = "provision", "Just-in-time provisioning"
        # An identity linked to a local account signs in as that account; one not linked yet is the remote
        # identity, which a script links after the user proves a local account (doAssociationWithLocalUser).
        LINK = "link", "Link to an existing account"

    name = models.SlugField(max_length=100, unique=True, help_text="What scripts name in {idp: '...'}.")
    display_name = models.CharField(max_length=200, blank=True)
    enabled = models.BooleanField(default=True)
    protocol = models.CharField(max_length=20, choices=Protocol.choices, default=Protocol.OIDC)
    issuer = models.URLField(max_length=500, blank=True, help_text="OpenID Connect: the provider's issuer; its "
                             "discovery document is <issuer>/.well-known/openid-configuration.")
    client_id = models.CharField(max_length=255, blank=True)
    encrypted_client_secret = models.TextField(blank=True, editable=False)
    encrypted_private_key = models.TextField(blank=True, editable=False)
    client_auth_method = models.CharField(max_length=30, choices=ClientAuth.choices, default=ClientAuth.BASIC)
    scopes = models.CharField(max_length=500, default="openid profile email")
    extra_params = models.JSONField(default=dict, blank=True,
                                    help_text="Parameters added to every authorization request (e.g. {\"prompt\": \"login\"}).")
    use_userinfo = models.BooleanField(default=True, help_text="Also read the claims of the userinfo endpoint.")
    claim_mapping = models.JSONField(default=dict, blank=True,
                                     help_text="Remote claim -> local claim URI, e.g. {\"email\": \"http://wso2.org/claims/emailaddress\"}.")
    user_policy = models.CharField(max_length=20, choices=UserPolicy.choices, default=UserPolicy.NONE)
    username_claim = models.CharField(max_length=100, default="sub", help_text=(
        "Provisioning: the remote claim whose value becomes the local username (prefixed with username_prefix)."))
    username_prefix = models.CharField(max_length=50, blank=True)
    # Roles of users this provider provisions: granted when the account is made, and mapped from a remote
    # claim (its value, or each value of a list) at every login: {remote value: local role name}.
    provisioning_roles = models.JSONField(default=list, blank=True,
                                          help_text="Roles granted to an account this provider provisions.")
    role_claim = models.CharField(max_length=100, blank=True,
                                  help_text="The remote claim whose values role_mapping maps to roles.")
    role_mapping = models.JSONField(default=dict, blank=True,
                                    help_text="Remote value -> local role, e.g. {\"corp-admins\": \"admin\"}.")

    # SAML 2.0: the IdP's metadata (fetched from a URL, or inline XML), which of its entities to use, and the
    # NameID format asked for.  This server's SP key is made per provider and kept encrypted; the certificate
    # is public (it is in the SP metadata).
    saml_metadata_url = models.URLField(max_length=500, blank=True)
    saml_metadata_xml = models.TextField(blank=True)
    saml_entity_id = models.CharField(max_length=500, blank=True, help_text="The IdP's entity id.")
    saml_nameid_format = models.CharField(max_length=200, blank=True,
                                          default="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent")
    encrypted_sp_key = models.TextField(blank=True, editable=False)
    sp_certificate = models.TextField(blank=True, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.display_name or self.name

    @property
    def label(self) -> str:
        return self.display_name or self.name

    def save(self, *args, **kwargs):
        if self.client_auth_method == self.ClientAuth.PRIVATE_KEY_JWT and not self.encrypted_private_key:
            from joserfc.jwk import RSAKey  # joserfc: imported by federation's first use, not by every worker

            pem = RSAKey.generate_key(2048, private=True).as_pem(private=True)
            self.encrypted_private_key = keys.encrypt(pem, purpose=key_purpose(self.name))
        if self.protocol == self.Protocol.SAML and not self.encrypted_sp_key:
            from .saml_keys import new_sp_key_pair

            key_pem, self.sp_certificate = new_sp_key_pair(self.name)
            self.encrypted_sp_key = keys.encrypt(key_pem, purpose=sp_key_purpose(self.name))
        super().save(*args, **kwargs)

    def signing_key(self) -> RSAKey | None:
        """The private key of private_key_jwt (kid: its thumbprint), or None."""
        if not self.encrypted_private_key:
            return None
        from joserfc.jwk import RSAKey

        key = RSAKey.import_key(keys.decrypt(self.encrypted_private_key, purpose=key_purpose(self.name)))
        return RSAKey.import_key(key.as_dict(private=True), parameters={"kid": key.thumbprint(), "use": "sig",
                                                                        "alg": "RS256"})

    def public_jwks(self) -> dict:
        key = self.signing_key()
        return {"keys": [key.as_dict(private=False)] if key is not None else []}

    def sp_key_pem(self) -> bytes:
        """The SP's private key (PEM), to sign AuthnRequests with."""
        return keys.decrypt(self.encrypted_sp_key, purpose=sp_key_purpose(self.name))

    def set_client_secret(self, value: str) -> None:
        self.encrypted_client_secret = keys.encrypt(value.encode(), purpose=secret_purpose(self.name)) if value else ""

    def client_secret(self) -> str:
        if not self.encrypted_client_secret:
            return ""
        return keys.decrypt(self.encrypted_client_secret, purpose=secret_purpose(self.name)).decode()


def secret_purpose(name: str) -> str:
    return f"identity-provider-client-secret:{name}"


def key_purpose(name: str) -> str:
    return f"identity-provider-signing-key:{name}"


def sp_key_purpose(name: str) -> str:
    return f"identity-provider-saml-sp-key:{name}"


class UpstreamSession(models.Model):
    """A provider's sign-in behind one of this server's sign-on sessions: what logging out there needs.

    Made when the provider vouches for a user (bound to the login flow), attached to the sign-on session
    the flow ends in.  OpenID Connect keeps the ID token (encrypted: it is the id_token_hint of
    RP-initiated logout) and its `sid`; SAML keeps the NameID and the SessionIndex (in `sid`).
    """
    provider = models.ForeignKey(IdentityProvider, on_delete=models.CASCADE, related_name="upstream_sessions")
    flow_id = models.UUIDField(db_index=True)
    session = models.ForeignKey("sso.UserSession", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="upstream_sessions")
    subject = models.CharField(max_length=255, help_text="The remote sub, or the SAML NameID.")
    nameid_format = models.CharField(max_length=200, blank=True)
    sid = models.CharField(max_length=255, blank=True, help_text="The ID token's sid, or the SAML SessionIndex.")
    encrypted_id_token = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["provider", "sid"]), models.Index(fields=["provider", "subject"])]

    def set_id_token(self, value: str) -> None:
        self.encrypted_id_token = keys.encrypt(value.encode(), purpose=id_token_purpose(self.provider.name))

    def id_token(self) -> str:
        if not self.encrypted_id_token:
            return ""
        return keys.decrypt(self.encrypted_id_token, purpose=id_token_purpose(self.provider.name)).decode()


def id_token_purpose(name: str) -> str:
    return f"identity-provider-id-token:{name}"
