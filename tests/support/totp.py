"""The code an authenticator app shows for a TOTP secret (as the setup page prints it, base32)."""
import base64

from django_otp.oath import totp


def code_for(secret: str, offset: int = 0) -> str:
    secret = secret.replace(" ", "")
    return f"{totp(base64.b32decode(secret + '=' * (-len(secret) % 8)), drift=offset):06d}"
