"""A database that cannot be reached: a 503 that says to try again, never a 500 or a stack trace.

The server runs in its own process against a PostgreSQL address where
nothing listens (the database is down, not mocked).
"""
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = textwrap.dedent("""
    import json
    from django.test import Client

    client = Client(raise_request_exception=False, HTTP_HOST="127.0.0.1")
    page = client.get("/login/start/?next=/account/")
    token = client.post("/o/token/", {"grant_type": "authorization_code", "code": "x", "client_id": "portal"})
    api = client.get("/api/v1/sequences/", HTTP_AUTHORIZATION="Bearer some-token")
    print(json.dumps({
        "page": [page.status_code, page.get("Retry-After"), page.content.decode()],
        "token": [token.status_code, token.get("Retry-After"), token.content.decode()],
        "api": [api.status_code, api.get("Retry-After"), api.content.decode()],
    }))
""")


def test_with_the_database_down_people_and_applications_are_told_to_try_again():
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="tests.settings",
               DATABASE_URL="postgres://postgres@127.0.0.1:9/down")  # port 9: nothing listens
    result = subprocess.run([sys.executable, "manage.py", "shell", "-c", PROBE], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    status, retry_after, page = seen["page"]
    assert (status, retry_after) == (503, "30")
    assert "Temporarily unavailable" in page and "Traceback" not in page and "OperationalError" not in page
    status, retry_after, body = seen["token"]
    assert (status, retry_after) == (503, "30") and json.loads(body)["error"] == "temporarily_unavailable"
    status, retry_after, body = seen["api"]  # the management API answers in its own error shape
    assert (status, retry_after) == (503, "30")
    assert json.loads(body)["errors"][0]["message"] == "the service is unavailable; try again shortly"
    assert "request failed: the database is unavailable" in result.stderr
