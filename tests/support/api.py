"""API clients for the management API's tests: a real OAuth client, a real token from /o/token/."""
from __future__ import annotations

import base64
import io

from django.core.management import call_command
from rest_framework.test import APIClient


def create_client(name: str, *scopes: str) -> tuple[str, str]:
    """`manage.py create_api_client`; returns (client_id, client_secret) as it printed them."""
    out = io.StringIO()
    call_command("create_api_client", name, "--scopes", *scopes, stdout=out)
    lines = dict(line.split(": ", 1) for line in out.getvalue().splitlines() if ": " in line)
    return lines["client_id"], lines["client_secret"]


def token_for(client_id: str, secret: str, scope: str | None = None):
    """The token endpoint's answer to a client-credentials request (a Django test response)."""
    data = {"grant_type": "client_credentials"}
    if scope is not None:
        data["scope"] = scope
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return APIClient().post("/o/token/", data, HTTP_AUTHORIZATION=f"Basic {basic}")


def api_client(*scopes: str, name: str | None = None) -> APIClient:
    """An APIClient sending a bearer token that carries exactly `scopes`."""
    name = name or "ci-" + "-".join(s.replace(":", "_") for s in scopes)
    client_id, secret = create_client(name, *scopes)
    answer = token_for(client_id, secret)
    assert answer.status_code == 200, answer.content
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {answer.json()['access_token']}")
    client.client_id = client_id
    return client
