"""The account page's section about passkeys: list, name and remove them, and add one."""
from __future__ import annotations

from . import service


def section(request) -> dict | None:
    return {"template": "account/_passkeys.html", "passkeys": list(service.passkeys_of(request.user))}
