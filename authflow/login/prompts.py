"""The pages of prompt(templateId, data, handlers).

Templates: `genericForm` (data.inputs: [{id, label, type, required, options}],
with a Skip button when data.skippable), `consent` (Allow, or Deny: the
onDeny handler), `choice` (data.options: [{value, label}]; the pick arrives
as params.choice), `identifierForStep` (promptIdentifierForStep: the
username arrives as params.username; Skip calls onSkip).  The answer carries only the fields the prompt asked for.
An unknown templateId is shown as a genericForm.

Languages: any text a script passes (title, message, labels, items) may be an object of texts per language,
`{en: 'Your role', de: 'Ihre Rolle'}`: the page's language is shown, else the default language's, else the
first.  A template may have a variant per language, login/prompt_<templateId>.<language>.html, used before
login/prompt_<templateId>.html.
"""
from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpResponse
from django.template.loader import select_template
from django.utils import translation
from django.utils.translation import gettext as _

from sequences.api import prompt_answer

from . import binding

logger = logging.getLogger("authflow.login")

INPUT_TYPES = {"text", "password", "email", "number", "tel", "date", "checkbox", "select"}
MAX_VALUE_LENGTH = 1000


class _Again(Exception):
    pass


def _inputs(data: dict) -> list[dict]:
    inputs = []
    for raw in data.get("inputs") or []:
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or not raw["id"]:
            continue
        kind = raw.get("type") if raw.get("type") in INPUT_TYPES else "text"
        options = [_option(o) for o in raw.get("options") or [] if _option(o)] if kind == "select" else []
        inputs.append({"id": raw["id"][:100], "label": str(localized(raw.get("label")) or raw["id"])[:200], "type": kind,
                       "required": bool(raw.get("required")), "options": options,
                       "value": str(raw.get("value") or "")[:MAX_VALUE_LENGTH]})
    return inputs


def _option(raw) -> dict | None:
    if isinstance(raw, str):
        return {"value": raw, "label": raw}
    if isinstance(raw, dict) and raw.get("value") is not None:
        return {"value": str(raw["value"]), "label": str(localized(raw.get("label")) or raw["value"])}
    return None


def localized(value):
    """A script's text for the page's language: `value` itself, or its entry in a {language: text} object."""
    if not isinstance(value, dict):
        return value
    texts = {str(k).lower(): v for k, v in value.items() if isinstance(v, str)}
    current = (translation.get_language() or settings.LANGUAGE_CODE).lower()
    for code in (current, current.split("-")[0], settings.LANGUAGE_CODE.lower()):
        if code in texts:
            return texts[code]
    return next(iter(texts.values()), "")


_TEXTS = ("title", "message", "allowLabel", "denyLabel")


def _page_data(data: dict) -> dict:
    """The prompt's data with its texts in the page's language."""
    shown = dict(data)
    for name in _TEXTS:
        if name in shown:
            shown[name] = localized(shown[name])
    if isinstance(shown.get("items"), list):
        shown["items"] = [localized(item) for item in shown["items"]]
    return shown


def _template(command) -> str:
    template_id = command["templateId"]
    if template_id in ("genericForm", "consent", "choice", "identifierForStep"):
        return template_id
    logger.warning("prompt with an unknown templateId shown as a genericForm",
                   extra={"template_id": template_id[:100]})
    return "genericForm"


def show(request, flow, *, error: str | None = None, status: int = 200):
    command = flow.pending
    data = command.get("data") if isinstance(command.get("data"), dict) else {}
    template = _template(command)
    context = {"flow": flow, "application": flow.application, "command": command, "position": command["position"],
               "form_token": binding.form_token(request, flow), "error": error, "data": _page_data(data),
               "inputs": _inputs(data), "choices": [c for c in map(_option, data.get("options") or []) if c]}
    language = translation.get_language() or settings.LANGUAGE_CODE
    page = select_template([f"login/prompt_{template}.{language}.html", f"login/prompt_{template}.html"])
    return HttpResponse(page.render(context, request), status=status)


def answer(request, flow):
    """The prompt answer for the submitted page, or (None, the page again with what is missing)."""
    command = flow.pending
    data = command.get("data") if isinstance(command.get("data"), dict) else {}
    template = _template(command)
    action = request.POST.get("action", "success")
    try:
        if template == "consent":
            if action not in ("success", "deny"):
                raise _Again(_("Choose Allow or Deny."))
            return prompt_answer(command["templateId"], action, {}), None
        if template == "choice":
            allowed = {c["value"] for c in map(_option, data.get("options") or []) if c}
            picked = request.POST.get("choice", "")
            if picked not in allowed:
                raise _Again(_("Choose one of the options."))
            return prompt_answer(command["templateId"], "success", {"choice": [picked]}), None
        if template == "identifierForStep":
            if action == "skip":
                return prompt_answer(command["templateId"], "skip", {}), None
            username = request.POST.get("username", "").strip()[:150]
            if not username:
                raise _Again(_("Enter your username."))
            return prompt_answer(command["templateId"], "success", {"username": [username]}), None
        if action == "skip" and data.get("skippable"):
            return prompt_answer(command["templateId"], "skip", {}), None
        params = {}
        for field in _inputs(data):
            values = [v[:MAX_VALUE_LENGTH] for v in request.POST.getlist(field["id"])]
            if field["type"] == "checkbox":
                values = ["true" if values else "false"]
            if field["required"] and not any(v.strip() for v in values):
                raise _Again(_("%(field)s is required.") % {"field": field["label"]})
            params[field["id"]] = values
        # What was typed into password inputs is kept sealed at rest (authflow/flows/sealing.py).
        secret = [field["id"] for field in _inputs(data) if field["type"] == "password"]
        return prompt_answer(command["templateId"], "success", params, secret=secret), None
    except _Again as exc:
        return None, show(request, flow, error=str(exc), status=400)
