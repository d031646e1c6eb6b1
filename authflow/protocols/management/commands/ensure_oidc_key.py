"""`manage.py ensure_oidc_key`: create the embedded default's ID-token signing key if there is none."""
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Write an RSA signing key to AUTHFLOW_OIDC_RSA_KEY_FILE (default var/oidc-rsa.pem) unless one exists."

    def handle(self, *args, **options):
        if os.environ.get("AUTHFLOW_OIDC_RSA_PRIVATE_KEY"):
            self.stdout.write("signing key: from AUTHFLOW_OIDC_RSA_PRIVATE_KEY")
            return
        path = Path(os.environ.get("AUTHFLOW_OIDC_RSA_KEY_FILE", settings.VAR_DIR / "oidc-rsa.pem"))
        if path.exists():
            self.stdout.write(f"signing key: {path}")
            return
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        self.stdout.write(f"signing key: created {path}")
