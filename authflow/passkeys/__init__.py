"""Passkeys and security keys (FIDO2/WebAuthn): the credentials users register and the ceremonies that use them."""
