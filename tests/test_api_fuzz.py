"""Schema-driven fuzzing of the management API (schemathesis): every operation of /api/v1/schema/, with
generated bodies, query strings, headers and path parameters, through the whole Django stack, by a client
holding every scope. No answer may be a server error or break the schema (status, content type, body)."""
import json

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

from authflow.api.scopes import API_SCOPES
from tests.support.api import api_client



def _load_schema():
    """The schema /api/v1/schema/ serves, generated without a request (a request at collection time would run
    outside the test's database transaction), and the whole WSGI application the cases go through."""
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    raw = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
    loaded = schemathesis.openapi.from_dict(raw)
    loaded.app = get_wsgi_application()
    return loaded


schema = _load_schema()

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _seed() -> dict:
    """One of each resource, named "fuzz", so that cases also reach existing resources (random names 404)."""
    from authflow.applications.models import Application
    from authflow.branding.models import Brand
    from authflow.directory.models import Role, User
    from authflow.flows import service as flows
    from authflow.outbound.models import AllowedEndpoint
    from authflow.vault.models import Secret
    from sequences.api import SavedScenario, request_inputs, save_version

    version, _ = save_version("fuzz", "var onLoginRequest = function (context) { executeStep(1); };")
    app = Application.objects.create(name="fuzz", client_id="fuzz-app", sequence=version.sequence, client_type="public",
                                     steps={"1": [{"authenticator": "BasicAuthenticator", "idp": "LOCAL"}]})
    # brands (the default and the application's), so that the brands' detail cases reach one
    Brand.objects.create(application=None, display_name="Fuzz Corp")
    Brand.objects.create(application=app, display_name="Fuzz", accent="#7a1f5c")
    Role.objects.create(name="fuzz")
    User.objects.create_user(username="fuzz", password="a long and unusual pass phrase 42")
    secret = Secret(name="fuzz")
    secret.set_value("fuzz-value")
    secret.save()
    endpoint = AllowedEndpoint.objects.create(url="https://fuzz.example/api")
    flow = flows.start_flow(app, request_inputs("203.0.113.9", {}, {}, {}))
    # a saved scenario, so that the scenarios' detail and run cases reach one (random ids 404)
    scenario = SavedScenario.objects.create(sequence=version.sequence, name="fuzz", expect={"status": "success"},
                                            scenario={"users": {"fuzz": {}},
                                                      "outcomes": [{"step": 1, "result": "success", "user": "fuzz"}]})
    return {"name": "fuzz", "number": 1, "username": "fuzz", "template_id": "email-otp", "id": endpoint.pk,
            "flow_id": str(flow.id), "pk": scenario.pk}


@pytest.fixture
def seeded(db):
    return _seed()


@pytest.fixture
def token(seeded):
    """A bearer token with every scope; requests keep the test's database connection (as Django's test client
    does), so each example runs in the test's transaction."""
    from django.core import signals
    from django.db import close_old_connections

    token = api_client(*API_SCOPES, name="fuzzer")._credentials["HTTP_AUTHORIZATION"]
    # After the test client's requests: each reconnects these receivers when it is done.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield token
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=8, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_no_server_error_and_no_answer_outside_the_schema(case, token, seeded):
    case.call_and_validate(headers={"Authorization": token}, checks=CHECKS)
    if case.path_parameters:  # the same case against the seeded resource
        case.path_parameters = {key: seeded.get(key, value) for key, value in case.path_parameters.items()}
        case.call_and_validate(headers={"Authorization": token}, checks=CHECKS)


def test_the_schema_covers_every_api_route():
    """Every route of authflow/api/urls.py (but the schema, its page and the JSON 404) is fuzzed above."""
    import re

    from authflow.api.urls import urlpatterns

    def shape(route):
        return re.sub(r"<[^>]+>|\{[^}]+\}", "{}", route)

    routes = {shape("/api/v1/" + str(p.pattern)) for p in urlpatterns if p.name not in ("schema", "docs", None)}
    documented = {shape(path) for path in schema.raw_schema["paths"]}
    assert len(routes) > 20 and routes == documented
