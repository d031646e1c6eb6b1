"""Production serving: the deployment checks pass with the production settings, and gunicorn with
the project's configuration serves pages and their static files with the security headers."""
import os
import subprocess
import sys
import time

import pytest
import requests

from tests.support.servers import ROOT, free_port
from tests.support.processes import end_with_parent

SECRET = "production-test-" + "k" * 48


def production_env(tmp_path, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTHFLOW_", "DJANGO_"))}
    env.update(DJANGO_SETTINGS_MODULE="authflow.settings", AUTHFLOW_SECRET_KEY=SECRET,
               DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3", AUTHFLOW_VAR_DIR=str(tmp_path), **extra)
    return env


def deploy_check(env):
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_the_production_settings_pass_django_s_deployment_checks(tmp_path):
    result = deploy_check(production_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_allowing_http_redirect_uris_in_production_is_reported(tmp_path):
    result = deploy_check(production_env(tmp_path, AUTHFLOW_HTTP_REDIRECT_URIS="1"))
    assert result.returncode != 0 and "W008" in result.stdout + result.stderr


def test_an_http_redirect_uri_is_refused_by_apply_in_production(tmp_path):
    config = tmp_path / "app.yaml"
    config.write_text("applications:\n  - {name: shop, client_id: shop, redirect_uris: ['http://shop.example/cb'],"
                      " steps: {1: [BasicAuthenticator]}}\n")
    env = production_env(tmp_path)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=300)
    result = subprocess.run([sys.executable, "manage.py", "apply", "-f", str(config)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "'http://shop.example/cb' is not an https URL" in result.stderr


@pytest.fixture
def gunicorn_server(tmp_path):
    """The production command from README, on a free port, with the production settings over plain HTTP
    (as behind a proxy that terminates TLS) and an HTTPS variant started by the test that wants it."""
    processes = []

    def start(**extra):
        port = free_port()
        env = production_env(tmp_path, AUTHFLOW_BIND=f"127.0.0.1:{port}", AUTHFLOW_WEB_WORKERS="1", **extra)
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=300)
        log = open(tmp_path / f"gunicorn-{port}.log", "wb")
        process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "python:authflow.gunicorn_conf",
                                    "authflow.wsgi"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                    preexec_fn=end_with_parent)
        processes.append(process)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (tmp_path / f"gunicorn-{port}.log").read_text()
            try:
                requests.get(url + "/favicon.ico", timeout=2, allow_redirects=False)
                return url
            except (requests.ConnectionError, requests.Timeout):  # not listening yet, or a worker still starting
                assert time.monotonic() < deadline, "gunicorn did not answer within 60 s"
                time.sleep(0.2)

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=30)


def test_gunicorn_serves_the_pages_and_their_static_files(gunicorn_server):
    url = gunicorn_server(AUTHFLOW_HTTPS="0")
    page = requests.get(url + "/", timeout=30)
    assert page.status_code == 200 and "/static/css/authflow.css" in page.text
    css = requests.get(url + "/static/css/authflow.css", timeout=30)
    assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css")
    assert css.content == (ROOT / "static" / "css" / "authflow.css").read_bytes()
    assert css.headers["X-Content-Type-Options"] == "nosniff"
    assert requests.get(url + "/static/css/missing.css", timeout=30).status_code == 404
    assert requests.get(url + "/static/../authflow/settings.py", timeout=30).status_code == 404


def test_over_https_a_plain_http_request_is_sent_to_https(gunicorn_server):
    url = gunicorn_server(AUTHFLOW_HTTPS="1")
    response = requests.get(url + "/account/", timeout=30, allow_redirects=False)
    assert response.status_code == 301 and response.headers["Location"].startswith("https://127.0.0.1:")
    # A proxy that terminates TLS says so; once it is trusted, the request is served with HSTS.
    trusted = gunicorn_server(AUTHFLOW_HTTPS="1", AUTHFLOW_TRUSTED_PROXY_COUNT="1")
    response = requests.get(trusted + "/favicon.ico", timeout=30, allow_redirects=False,
                            headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"})
    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
