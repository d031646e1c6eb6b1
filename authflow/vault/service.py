"""Reading a secret for a script."""
from __future__ import annotations

import logging

from authflow import keys

from .models import Secret

logger = logging.getLogger("authflow.vault")


def value_of(name) -> str | None:
    """The secret's value, or None when there is none by that name (or it cannot be decrypted any more)."""
    if not isinstance(name, str):
        return None
    secret = Secret.objects.filter(name=name).first()
    if secret is None:
        return None
    try:
        return secret.value()
    except keys.InvalidValue:
        logger.error("a secret cannot be decrypted with the configured keys", extra={"secret": name})
        return None
