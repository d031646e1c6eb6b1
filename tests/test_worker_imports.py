"""A web worker loads only what logins need: the libraries of the APIs, of Celery and of federation wait for
their first use (each costs megabytes in every worker; see README, "Scaling out").  A fresh process loads the
WSGI application and the whole URLconf (as a worker's first request does) and serves requests without
importing them; queuing a task then loads Celery and every app's tasks."""
import json
import os
import subprocess
import sys

from tests.support.servers import ROOT, signing_key

# Top-level packages a worker must not import before their feature is used, and why they are heavy.
DEFERRED = {
    "saml2": "pysaml2 and xmlschema (SAML providers)",
    "xmlschema": "pysaml2's schemas",
    "authlib": "Authlib's client (OpenID providers)",
    "celery": "Celery (queuing emails, texts and calls)",
    "kombu": "Celery's messaging",
    "drf_spectacular.plumbing": "the OpenAPI schema generator",
    "rest_framework.serializers": "the management API's views",
    "pygments": "DRF's browsable API",
    "rest_framework": "Django REST framework (the APIs' views; DOT's DRF classes)",
    "joserfc": "joserfc (OpenID providers' tokens)",
    "yaml": "PyYAML (configuration files)",
    "defusedxml": "defusedxml (SAML responses)",
    "fido2": "python-fido2 (passkeys' ceremonies)",
    "authflow.admin_urls": "the admin site's URLs: every app's admin module",
    "authflow.federation.admin": "an app's admin module (imported with the admin's URLs)",
    "django_otp.admin": "a library's admin module",
    "oauth2_provider.admin": "a library's admin module",
    "authflow.console_pages.urls": "the console's pages",
}

PROBE = """
import json, sys
import authflow.wsgi
from django.urls import get_resolver, reverse
get_resolver().url_patterns
reverse("api:sequences"), reverse("custom-authenticator-registrations")  # the reverse map is built
loaded = [name for name in %r if name in sys.modules]
from django.test import Client
assert Client(HTTP_HOST="localhost").get("/o/.well-known/openid-configuration").status_code == 200  # through the whole stack
assert Client(HTTP_HOST="localhost").get("/no-such-page/").status_code == 404  # a rendered page: the template engine loads its tags
after_request = [name for name in %r if name in sys.modules]
import authflow.celery, authflow.federation.saml
from authflow.celery import registered_task
registered_task("authflow.mail.send_message")
print(json.dumps({"at_start": loaded, "after_request": after_request,
                  "celery_tasks": sorted(t for t in authflow.celery.app.tasks if t.startswith("authflow."))}))
"""


def production_env():
    """The production settings (the test settings add the demo relying party, an Authlib client)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTHFLOW_", "DJANGO_"))}
    env.update(DJANGO_SETTINGS_MODULE="authflow.settings", AUTHFLOW_SECRET_KEY="worker-imports-" + "k" * 48,
               AUTHFLOW_HTTPS="0", AUTHFLOW_OIDC_RSA_PRIVATE_KEY=signing_key())
    return env


def test_a_fresh_worker_defers_the_heavy_libraries_and_finds_every_task_when_it_first_queues():
    names = sorted(DEFERRED)
    done = subprocess.run([sys.executable, "-c", PROBE % (names, names)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env=production_env())
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["at_start"] == [], {name: DEFERRED[name] for name in found["at_start"]}
    assert found["after_request"] == [], {name: DEFERRED[name] for name in found["after_request"]}
    # Queuing by name imports every app's task module: the web process knows the same tasks as the worker.
    assert {"authflow.mail.send_message", "authflow.sms.send_text", "authflow.outbound.perform_call",
            "authflow.outbound.publish_event", "authflow.housekeeping.purge_expired"} <= set(found["celery_tasks"])


ADMIN_PROBE = """
import json, sys
import authflow.wsgi
from django.contrib import admin
from django.urls import reverse
before = "authflow.admin_urls" in sys.modules or "authflow.federation.admin" in sys.modules
from django.core import checks
errors = checks.run_checks(tags=["admin"])  # as manage.py check does: it checks every app's ModelAdmin
checked = "authflow.federation.admin" in sys.modules
index = reverse("admin:index")  # a name of its namespace: imports the admin's URLconf
print(json.dumps({"before": before, "checked": checked, "errors": [str(e) for e in errors], "index": index,
                  "after": "authflow.admin_urls" in sys.modules,
                  "console": reverse("console:index"),
                  "registered": sorted(m._meta.label for m in admin.site._registry)}))
"""


def test_the_admin_site_loads_its_modules_at_first_use_with_every_model_registered():
    done = subprocess.run([sys.executable, "-c", ADMIN_PROBE], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env=production_env())
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["before"] is False
    assert found["checked"] is True and found["errors"] == []
    assert (found["index"], found["console"]) == ("/admin/", "/console/")
    assert found["after"] is True
    # The apps' admin modules and the libraries' (django-oauth-toolkit's; Django's Group) registered their models.
    assert {"auth.Group", "federation.IdentityProvider", "oauth2_provider.Application", "passkeys.Passkey",
            "sequences.Sequence", "management_api.AuditEntry", "sso.UserSession"} <= set(found["registered"])


def test_a_passkeys_ceremony_lives_as_long_as_the_models_keep_its_state():
    from authflow.passkeys import ceremonies, models

    assert models.CEREMONY_SECONDS == ceremonies.TIMEOUT_SECONDS + 60
