"""`make run` as a newcomer meets it: one host in every link, a demo seeded once, an icon on every page."""
import io
import re
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

from authflow.applications.models import Application
from authflow.directory.models import User
from sequences.api import save_version

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent


def test_readme_links_the_host_make_run_serves_and_the_demo_registers():
    """Cookies are per host name: a README mixing localhost and 127.0.0.1 signs the reader in twice."""
    address = re.search(r"^RUN_ADDRESS \?= (\S+)$", (ROOT / "Makefile").read_text(), re.M).group(1)
    host, port = address.split(":")
    links = re.findall(rf"http://([\w.]+):{port}/", (ROOT / "README.md").read_text())
    assert links and set(links) == {host}
    demo = yaml.safe_load((ROOT / "authflow/configuration/demo.yaml").read_text())
    assert f"http://{address}/demo/callback" in demo["applications"][0]["redirect_uris"]


def test_make_run_seeds_once_and_leaves_an_administrator_s_edits_alone(settings):
    settings.DEBUG = True  # seed_demo runs on the embedded default only
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert "1 applications created" in out.getvalue() and "2 users created" in out.getvalue()
    edited = "var onLoginRequest = function (context) { executeStep(1); }; // edited in the console\n"
    save_version("demo", edited)
    admin = User.objects.get(username="admin")
    admin.set_password("a-new-admin-passphrase")
    admin.save()
    out = io.StringIO()
    call_command("seed_demo", stdout=out)  # the next `make run`
    assert "already there, left as it is" in out.getvalue()
    assert Application.objects.get(name="demo").sequence.published_version().source == edited
    assert User.objects.get(username="admin").check_password("a-new-admin-passphrase")
    User.objects.filter(username="alice").delete()
    call_command("seed_demo", stdout=io.StringIO())  # what is missing is created again
    assert User.objects.get(username="alice").check_password("demo-alice-password")
    assert Application.objects.get(name="demo").sequence.published_version().source == edited


def test_every_page_has_an_icon_under_the_content_security_policy(client):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon["Content-Type"] == "image/x-icon"
    assert icon.content[:4] == b"\x00\x00\x01\x00" and "Content-Security-Policy" in icon.headers
    assert '<link rel="icon" href="/favicon.ico">' in client.get("/").content.decode()
