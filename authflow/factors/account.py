"""The account page's section about second factors."""
from __future__ import annotations


def section(request) -> dict | None:
    return None
