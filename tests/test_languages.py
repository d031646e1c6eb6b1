"""The pages' languages: complete, compiled catalogs; the language each request gets, in order; the switcher;
emails and script prompts in the user's language."""
import gettext
import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command
from django.test import Client, RequestFactory
from django.utils import translation

from authflow.directory.models import User
from authflow.languages import choice
from authflow.mail import defaults
from authflow.mail.models import EmailTemplate, EmailTemplateVariant
from authflow.mail.service import send_template
from tests.support.config import CALLBACK, public_app
from tests.support.po import messages, parse
from tests.support.worker import broker_url, mail_worker, mailer  # noqa: F401  (the mailer fixture and its own)

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = [code for code, _ in settings.LANGUAGES if code != settings.LANGUAGE_CODE]
# What README's "Adding a language" runs: the pages, messages and emails users see (not the admin console's).
MAKEMESSAGES_IGNORE = [".venv", "node_modules", "tests", "bench", "var/*", "templates/console/*",
                       "authflow/console_pages/*", "templates/demo_rp/*", "demo_rp/*"]


def catalog(language: str, root: Path = ROOT):
    return messages(parse((root / "locale" / language / "LC_MESSAGES" / "django.po").read_text()))


# ------------------------------------------------------------------ the catalogs

@pytest.mark.parametrize("language", SHIPPED)
def test_every_message_of_a_shipped_language_is_translated_and_none_is_fuzzy(language):
    entries = catalog(language)
    assert len(entries) > 250
    untranslated = [e.msgid for e in entries if not e.translated]
    fuzzy = [e.msgid for e in entries if "fuzzy" in e.flags]
    assert untranslated == [] and fuzzy == []


def test_the_catalogs_hold_every_string_marked_in_the_code_and_templates(tmp_path):
    """Extract the marked strings again (Django's makemessages, GNU xgettext) from a copy of the project."""
    if shutil.which("xgettext") is None:
        pytest.fail("xgettext is missing: scripts/ensure-gettext.sh installs it")
    for part in ("authflow", "templates", "sequences", "demo_rp", "locale"):
        shutil.copytree(ROOT / part, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    shutil.copy(ROOT / "manage.py", tmp_path / "manage.py")
    command = [sys.executable, "manage.py", "makemessages", "--no-location", "--no-obsolete",
               *[f"--ignore={pattern}" for pattern in MAKEMESSAGES_IGNORE], *[f"-l{code}" for code in SHIPPED]]
    env = {**os.environ, "AUTHFLOW_DEBUG": "1", "DJANGO_SETTINGS_MODULE": "authflow.settings"}
    env.pop("DATABASE_URL", None)
    subprocess.run(command, cwd=tmp_path, env=env, check=True, capture_output=True, timeout=300)
    for language in SHIPPED:
        extracted = {(e.msgid, e.msgid_plural) for e in catalog(language, tmp_path)}
        shipped = {(e.msgid, e.msgid_plural) for e in catalog(language)}
        assert extracted - shipped == set(), f"{language}: marked but not in locale/ (run makemessages, translate)"
        assert shipped - extracted == set(), f"{language}: in locale/ but no longer marked anywhere"
        fresh = catalog(language, tmp_path)
        assert all(e.translated and "fuzzy" not in e.flags for e in fresh), language


@pytest.mark.parametrize("language", SHIPPED)
def test_the_committed_compiled_catalog_is_the_po_file(language):
    """The .mo files are committed (running the service needs no gettext): each must say what its .po says."""
    mo = ROOT / "locale" / language / "LC_MESSAGES" / "django.mo"
    with mo.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    expected = {}
    for entry in catalog(language):
        if entry.msgid_plural is None:
            expected[entry.msgid] = entry.msgstr[0]
        else:
            expected.update({(entry.msgid, index): text for index, text in entry.msgstr.items()})
    actual = {key: value for key, value in compiled._catalog.items() if key != ""}
    assert actual == expected, f"locale/{language}: run `manage.py compilemessages` and commit the .mo"


# ------------------------------------------------------------------ which language a request gets

def _request(*, cookie=None, accept="", user=None):
    request = RequestFactory().get("/", HTTP_ACCEPT_LANGUAGE=accept)
    if cookie:
        request.COOKIES[settings.LANGUAGE_COOKIE_NAME] = cookie
    request.user = user or AnonymousUser()
    return request


@pytest.mark.django_db
def test_the_language_comes_from_the_switcher_then_ui_locales_then_the_user_then_the_browser_then_the_default():
    user = User.objects.create_user("ana", password="ana-password-123", preferred_language="es")
    everything = dict(cookie="ar", accept="fr-CH, fr;q=0.9, en;q=0.5", user=user)
    assert choice.choose(_request(**everything), ui_locales="ja de-AT") == "ar"
    del everything["cookie"]
    assert choice.choose(_request(**everything), ui_locales="ja de-AT") == "de"  # the first supported one
    assert choice.choose(_request(**everything), ui_locales="ja") == "es"
    assert choice.choose(_request(**everything)) == "es"
    del everything["user"]
    assert choice.choose(_request(**everything)) == "fr"
    assert choice.choose(_request(accept="ja, zh;q=0.8")) == "en"
    assert choice.choose(_request(cookie="xx-evil", accept="de")) == "de"  # an unknown cookie value is ignored


@pytest.fixture
def portal(tmp_path):
    script = "var onLoginRequest = function (context) { executeStep(1); };"
    config = "applications:\n" + public_app("portal", '{1: ["BasicAuthenticator"]}', script)
    config += "users:\n  - {username: ben, password: ben-password-123}\n"
    path = tmp_path / "portal.yaml"
    path.write_text(config)
    call_command("apply", "-f", str(path), stdout=io.StringIO())


def _authorize(client, **extra):
    page = client.get("/o/authorize/", {
        "client_id": "portal", "response_type": "code", "scope": "openid", "redirect_uri": CALLBACK,
        "state": "s", "code_challenge": "E9Melhoa2OwvFrEMTJguCQaoWrCXFnwS4VCgf5qE_Hg",
        "code_challenge_method": "S256", **extra}, follow=True)
    assert page.status_code == 200
    return page.redirect_chain[-1][0], page


def _lang(page) -> str:
    return re.search(r'<html lang="([^"]+)" dir="([^"]+)"', page.content.decode()).group(1)


@pytest.mark.django_db(transaction=True)
def test_ui_locales_is_kept_on_the_flow_and_beats_the_browsers_language(portal):
    client = Client(HTTP_ACCEPT_LANGUAGE="fr")
    url, page = _authorize(client, ui_locales="ja de")
    assert _lang(page) == "de" and page["Content-Language"] == "de"
    assert "Passwort" in page.content.decode() and "Anmelden" in page.content.decode()
    failed = client.post(url, {**_fields(page), "username": "ben", "password": "wrong"}, follow=True)
    assert "Der Benutzername oder das Passwort ist nicht korrekt." in failed.content.decode()  # an error too
    _, other = _authorize(Client(HTTP_ACCEPT_LANGUAGE="fr"))  # the same browser language, no ui_locales
    assert _lang(other) == "fr" and "Mot de passe" in other.content.decode()


def _fields(page) -> dict:
    return dict(re.findall(r'name="(form_token|position)" value="([^"]*)"', page.content.decode()))


@pytest.mark.django_db(transaction=True)
def test_the_switcher_keeps_the_login_where_it_was_and_needs_the_csrf_token(portal):
    client = Client(enforce_csrf_checks=True)
    url, page = _authorize(client, ui_locales="de")
    html = page.content.decode()
    assert 'id="language-switcher"' in html and f'name="next" value="{url.replace("http://testserver", "")}"' in html
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    assert client.post("/language/", {"language": "fr", "next": url}).status_code == 403  # no token: refused
    switched = client.post("/language/", {"language": "fr", "next": url, "csrfmiddlewaretoken": token})
    assert switched.status_code == 302 and switched["Location"] == url
    again = client.get(url)
    assert _lang(again) == "fr" and "Mot de passe" in again.content.decode()
    assert _fields(again)["position"] == _fields(page)["position"]  # the same step of the same login
    done = client.post(url, {**_fields(again), "username": "ben", "password": "ben-password-123"})
    assert done.status_code == 302  # signed in: on to the authorization endpoint
    assert client.get(done["Location"])["Location"].startswith(CALLBACK + "?code=")
    # Signing in rotated the CSRF token: the account page's switcher carries the new one.
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', client.get("/account/").content.decode()).group(1)
    elsewhere = client.post("/language/", {"language": "es", "next": "https://evil.example/",
                                           "csrfmiddlewaretoken": token})
    assert elsewhere["Location"] == "/"  # back to a page of this site only
    assert client.post("/language/", {"language": "xx", "csrfmiddlewaretoken": token}).status_code == 400


@pytest.mark.django_db(transaction=True)
def test_a_signed_in_users_choice_is_saved_as_their_preference(portal):
    client = Client()
    url, page = _authorize(client)
    done = client.post(url, {**_fields(page), "username": "ben", "password": "ben-password-123"})
    client.get(done["Location"])
    client.post("/language/", {"language": "es", "next": "/account/"})
    assert User.objects.get(username="ben").preferred_language == "es"
    client.cookies.pop(settings.LANGUAGE_COOKIE_NAME)
    account = client.get("/account/")
    assert _lang(account) == "es" and "Sus sesiones" in account.content.decode()


@pytest.mark.django_db(transaction=True)
def test_an_arabic_page_is_right_to_left():
    page = Client(HTTP_ACCEPT_LANGUAGE="ar").get("/login/error/")
    assert re.search(r'<html lang="ar" dir="rtl">', page.content.decode())
    assert "رُفض تسجيل الدخول" in page.content.decode()


# ------------------------------------------------------------------ emails and prompts

@pytest.mark.django_db(transaction=True)
def test_emails_go_out_in_the_pages_language_with_variants_and_the_default_as_fallback(mailer):
    user = User.objects.create_user("ana", email="ana@example.com", password="ana-password-123")
    with translation.override("de"):
        assert send_template(user, "email-otp", {"code": "123456", "application": "Portal", "minutes": "5"})
    german = mailer.inbox.wait_for(lambda m: "Portal" in m.subject)
    assert german.subject == "Ihr Anmeldecode für Portal" and "123456" in german.text
    template, _ = EmailTemplate.objects.get_or_create(template_id="email-otp", defaults=defaults.BY_ID["email-otp"])
    variant = EmailTemplateVariant(template=template, language="fr", subject="Code {{ code }} pour {{ application }}",
                                   text_body="Votre code : {{ code }}")
    variant.full_clean()
    variant.save()
    with translation.override("fr"):
        assert send_template(user, "email-otp", {"code": "222222", "application": "Intranet"})
    assert mailer.inbox.wait_for(lambda m: "Intranet" in m.subject).subject == "Code 222222 pour Intranet"
    template.subject = "Sign-in code for {{ application }} (edited)"
    template.save()
    with translation.override("es"):  # no Spanish variant of an edited template: the template itself
        assert send_template(user, "email-otp", {"code": "333333", "application": "Shop"})
    assert mailer.inbox.wait_for(lambda m: "Shop" in m.subject).subject == "Sign-in code for Shop (edited)"


def test_a_variant_needs_a_shipped_language_other_than_the_default_and_the_required_placeholders():
    template = EmailTemplate(template_id="email-otp", subject="s", text_body="{{ code }}")
    for language, body in (("xx", "{{ code }}"), ("en", "{{ code }}"), ("de", "kein Code")):
        with pytest.raises(Exception):
            EmailTemplateVariant(template=template, language=language, subject="s", text_body=body).clean()


@pytest.mark.django_db(transaction=True)
def test_a_prompts_texts_follow_the_pages_language(tmp_path):
    script = """
    var onLoginRequest = function (context) {
        prompt('genericForm', {title: {en: 'Your role', de: 'Ihre Rolle'},
                               inputs: [{id: 'role', label: {en: 'Role', de: 'Rolle'}}]}, {
            onSuccess: function (context) { executeStep(1); }});
    };"""
    path = tmp_path / "app.yaml"
    path.write_text("applications:\n" + public_app("portal", '{1: ["BasicAuthenticator"]}', script))
    call_command("apply", "-f", str(path), stdout=io.StringIO())
    _, german = _authorize(Client(), ui_locales="de")
    assert "Ihre Rolle" in german.content.decode() and ">Rolle</label>" in german.content.decode()
    _, english = _authorize(Client(HTTP_ACCEPT_LANGUAGE="ja"))
    assert "Your role" in english.content.decode() and ">Role</label>" in english.content.decode()
