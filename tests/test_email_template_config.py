"""Email templates and their per-language variants in `apply`/`export`: checked by the models' own rules before
anything is written, applied idempotently (the variants listed are the ones kept), and round-tripped."""
import io

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from authflow.mail import service
from authflow.mail.models import EmailTemplate, EmailTemplateVariant
from tests.test_configuration import apply_text

pytestmark = pytest.mark.django_db

TEMPLATES = """
email_templates:
  - template_id: email-otp
    description: The sign-in code
    subject: "Your code for {{ application }}"
    text_body: "Hello {{ username }}, your code is {{ code }}."
    variants:
      - language: de
        subject: "Ihr Code für {{ application }}"
        text_body: "Hallo {{ username }}, Ihr Code lautet {{ code }}."
        html_body: "<p>Hallo {{ username }}, Ihr Code lautet <strong>{{ code }}</strong>.</p>"
      - language: fr
        subject: "Votre code pour {{ application }}"
        text_body: "Bonjour {{ username }}, votre code est {{ code }}."
  - template_id: welcome
    subject: "Welcome, {{ first_name }}"
    text_body: "Welcome aboard."
"""


def _export() -> str:
    out = io.StringIO()
    call_command("export", stdout=out)
    return out.getvalue()


def test_templates_and_their_variants_are_applied_and_exported_back_the_same(tmp_path):
    output = apply_text(tmp_path, TEMPLATES)
    assert "1 email templates created" in output and "1 email templates changed" in output
    otp = EmailTemplate.objects.get(template_id="email-otp")
    assert sorted(otp.variants.values_list("language", flat=True)) == ["de", "fr"]
    # The service sends the German variant to a German reader.
    assert service._in_language("email-otp", "de").subject == "Ihr Code für {{ application }}"
    assert service._in_language("email-otp", "es").subject == "Your code for {{ application }}"

    first = _export()
    exported = yaml.safe_load(first)["email_templates"]
    assert [t["template_id"] for t in exported] == ["email-otp", "welcome"]
    assert [v["language"] for v in exported[0]["variants"]] == ["de", "fr"]
    assert "unchanged" in apply_text(tmp_path, first, "exported.yaml") and "created" not in apply_text(
        tmp_path, first, "again.yaml")
    EmailTemplate.objects.filter(template_id="welcome").delete()
    EmailTemplateVariant.objects.all().delete()
    apply_text(tmp_path, first, "exported.yaml")
    assert _export() == first

    # A variant the file no longer lists is removed.
    apply_text(tmp_path, TEMPLATES.replace("      - language: fr", "      - language: es"), "es.yaml")
    assert sorted(otp.variants.values_list("language", flat=True)) == ["de", "es"]


def test_the_shipped_templates_are_not_exported_until_changed():
    assert "email_templates" not in yaml.safe_load(_export())


@pytest.mark.parametrize("change, message", [
    (("Ihr Code lautet {{ code }}.\"", "Ihr Code.\""), "variants[0] (de): text_body: This template must contain {{ code }}"),
    (("language: fr", "language: xx"), "variants[1] (xx): language: Not one of the languages"),
    (("language: fr", "language: en"), "The template itself is in the default language"),
    (("language: fr", "language: de"), "variants[1] (de): a second variant in this language"),
    (('subject: "Welcome, {{ first_name }}"', 'subject: "Welcome, {% if x %}"'), "welcome): subject: Not a placeholder"),
    (("    variants:", "    colour: red\n    variants:"), "unknown keys colour"),
    (("  - template_id: welcome", "  - template_id: welcome\n    subject: x\n    text_body: y\n  - template_id: welcome"),
     "template_id 'welcome' appears twice"),
])
def test_a_bad_template_is_refused_and_nothing_written(tmp_path, change, message):
    text = TEMPLATES.replace(*change)
    assert text != TEMPLATES
    before = list(EmailTemplate.objects.values_list("template_id", "subject")), EmailTemplateVariant.objects.count()
    with pytest.raises(CommandError) as refused:
        apply_text(tmp_path, text)
    assert message in str(refused.value)
    assert (list(EmailTemplate.objects.values_list("template_id", "subject")),
            EmailTemplateVariant.objects.count()) == before
