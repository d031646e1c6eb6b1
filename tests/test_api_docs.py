"""The OpenAPI schema and its documentation page: served from this server, under the pages' CSP."""
import re

import pytest

pytestmark = pytest.mark.django_db


def test_the_schema_is_openapi_3_and_documents_scopes_and_errors(client):
    answer = client.get("/api/v1/schema/?format=json")
    assert answer.status_code == 200
    schema = answer.json()
    assert schema["openapi"].startswith("3.")
    assert schema["components"]["securitySchemes"]["apiToken"]["scheme"] == "bearer"
    publish = schema["paths"]["/api/v1/sequences/{name}/publish/"]["post"]
    assert {"412", "428", "403"} <= set(publish["responses"])
    assert publish["responses"]["412"]["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/Errors"


def test_the_docs_page_has_no_inline_script_and_loads_only_from_here(client):
    page = client.get("/api/v1/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    policy = page["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "<style" not in html
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all('src="/' in attributes and not body.strip() for attributes, body in scripts)
    for url in re.findall(r'(?:src|href)="(/[^"]+)"', html):
        assert client.get(url.replace("&amp;", "&")).status_code == 200, url
    start = client.get("/api/v1/docs/?script=")
    assert start["Content-Type"].startswith("application/javascript") and "SwaggerUIBundle" in start.content.decode()
    assert "http://" not in html and "https://" not in html  # no CDN
