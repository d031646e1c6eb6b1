"""Email templates as `apply` reads them and `export` writes them, each with its per-language variants:

    check_entry(entry) -> dict          checked by the models' own rules (placeholders, one-line subject,
                                        a shipped language other than the default); raises TemplateEntryError
    put_template(checked) -> "created" | "changed" | "unchanged"   the variants listed are all it keeps
    export_entries() -> list[dict]      the templates an administrator changed or translated (the shipped,
                                        unchanged ones are the migration's, not configuration)
"""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from . import defaults
from .models import EmailTemplate, EmailTemplateVariant

TEMPLATE_KEYS = {"template_id", "description", "subject", "text_body", "html_body", "variants"}
VARIANT_KEYS = {"language", "subject", "text_body", "html_body"}
_TEXTS = ("subject", "text_body", "html_body")


class TemplateEntryError(ValueError):
    pass


def _text(entry: dict, key: str, where: str, required: bool = True) -> str:
    value = entry.get(key, None if required else "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise TemplateEntryError(f"{where}{key}: {'is required (text)' if required else 'must be text'}")
    return value


def _unknown(entry, allowed: set, where: str) -> None:
    if not isinstance(entry, dict):
        raise TemplateEntryError(f"{where}expected a mapping with {', '.join(sorted(allowed))}")
    unknown = sorted(map(str, set(entry) - allowed))
    if unknown:
        raise TemplateEntryError(f"{where}unknown keys {', '.join(unknown)} (known: {', '.join(sorted(allowed))})")


def _checked(instance, where: str, exclude: list[str]) -> None:
    try:
        instance.clean_fields(exclude=exclude)
        instance.clean()
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise TemplateEntryError(f"{where}{'' if field == '__all__' else field + ': '}{' '.join(messages)}") from None


def check_entry(entry) -> dict:
    """{"template": fields, "variants": [fields]} of one `email_templates:` entry, or TemplateEntryError."""
    _unknown(entry, TEMPLATE_KEYS, "")
    template = EmailTemplate(template_id=_text(entry, "template_id", ""),
                             description=_text(entry, "description", "", required=False),
                             **{key: _text(entry, key, "", required=key != "html_body") for key in _TEXTS})
    _checked(template, "", exclude=[])
    variants, languages = [], set()
    raw = entry.get("variants", [])
    if not isinstance(raw, list):
        raise TemplateEntryError("variants: expected a list of {language, subject, text_body, html_body}")
    for index, item in enumerate(raw):
        where = f"variants[{index}]: "
        _unknown(item, VARIANT_KEYS, where)
        language = _text(item, "language", where)
        where = f"variants[{index}] ({language[:8]}): "
        if language in languages:
            raise TemplateEntryError(f"{where}a second variant in this language")
        languages.add(language)
        variant = EmailTemplateVariant(template=template, language=language,
                                       **{key: _text(item, key, where, required=key != "html_body") for key in _TEXTS})
        _checked(variant, where, exclude=["template"])
        variants.append({"language": language, **{key: getattr(variant, key) for key in _TEXTS}})
    fields = {key: getattr(template, key) for key in ("template_id", "description", *_TEXTS)}
    return {"template": fields, "variants": sorted(variants, key=lambda v: v["language"])}


def _entry_of(template: EmailTemplate) -> dict:
    return {"template": {key: getattr(template, key) for key in ("template_id", "description", *_TEXTS)},
            "variants": [{"language": v.language, **{key: getattr(v, key) for key in _TEXTS}}
                         for v in template.variants.order_by("language")]}


@transaction.atomic
def put_template(checked: dict) -> str:
    fields = checked["template"]
    template = EmailTemplate.objects.select_for_update().filter(template_id=fields["template_id"]).first()
    if template is not None and _entry_of(template) == checked:
        return "unchanged"
    created = template is None
    template = template or EmailTemplate(template_id=fields["template_id"])
    for key, value in fields.items():
        setattr(template, key, value)
    template.save()
    template.variants.exclude(language__in=[v["language"] for v in checked["variants"]]).delete()
    for variant in checked["variants"]:
        EmailTemplateVariant.objects.update_or_create(template=template, language=variant["language"],
                                                      defaults={key: variant[key] for key in _TEXTS})
    return "created" if created else "changed"


def export_entries() -> list[dict]:
    entries = []
    for template in EmailTemplate.objects.prefetch_related("variants").order_by("template_id"):
        variants = sorted(template.variants.all(), key=lambda v: v.language)
        if defaults.is_shipped_text(template) and not variants:
            continue
        entry = {"template_id": template.template_id}
        if template.description:
            entry["description"] = template.description
        entry.update(subject=template.subject, text_body=template.text_body)
        if template.html_body:
            entry["html_body"] = template.html_body
        if variants:
            entry["variants"] = [{"language": v.language, "subject": v.subject, "text_body": v.text_body,
                                  **({"html_body": v.html_body} if v.html_body else {})} for v in variants]
        entries.append(entry)
    return entries
