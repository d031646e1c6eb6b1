"""Email templates administrators edit, and the one-time secrets the email authenticators send.

An EmailTemplate is a subject, a text body and an optional HTML body with
`{{ name }}` placeholders (see placeholders.py); it is never Django template
code.  A OneTimeCode is what an email OTP code or a magic link proves: the
server keeps only a keyed digest of it (authflow.keys.mac), with the flow
and the step position it answers, when it expires, when it was used and
how many wrong tries it had.
"""
from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import models
from django.utils import timezone

from . import placeholders

# Templates the authenticators send, and the placeholders each must contain to be of any use.
REQUIRED_PLACEHOLDERS = {
    "email-otp": {"code"},
    "magic-link": {"link"},
}
# Filled in for every template from the recipient's account (a sendEmail map may override them).
USER_PLACEHOLDERS = ("username", "first_name", "last_name", "email")


class EmailTemplate(models.Model):
    template_id = models.CharField(
        max_length=64, unique=True, validators=[validate_slug],
        help_text="The name scripts pass to sendEmail(user, templateId, placeholders).")
    description = models.CharField(max_length=255, blank=True)
    subject = models.CharField(max_length=255, help_text="One line; placeholders such as {{ username }} work here.")
    text_body = models.TextField(help_text="The plain text message. Placeholders: {{ name }}.")
    html_body = models.TextField(
        blank=True, help_text="Optional HTML version. Placeholder values are HTML-escaped here.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["template_id"]
        verbose_name = "email template"

    def __str__(self):
        return self.template_id

    @property
    def placeholder_names(self) -> list[str]:
        return sorted(placeholders.names(self.subject) | placeholders.names(self.text_body)
                      | placeholders.names(self.html_body))

    @property
    def required_placeholders(self) -> set[str]:
        return REQUIRED_PLACEHOLDERS.get(self.template_id, set())

    def clean(self):
        errors = {}
        for field in ("subject", "text_body", "html_body"):
            bad = placeholders.problems(getattr(self, field))
            if bad:
                errors[field] = (f"Not a placeholder: {', '.join(bad)}. Placeholders are written {{{{ name }}}} "
                                 f"(letters, digits, _ . -); template code is not supported.")
        if "\n" in self.subject or "\r" in self.subject:
            errors.setdefault("subject", "The subject is one line.")
        for name in sorted(self.required_placeholders):
            if name not in placeholders.names(self.text_body):
                errors.setdefault("text_body", f"This template must contain {{{{ {name} }}}}.")
            if self.html_body and name not in placeholders.names(self.html_body):
                errors.setdefault("html_body", f"This template must contain {{{{ {name} }}}} (or leave it empty).")
        if errors:
            raise ValidationError(errors)

    def render(self, values: dict[str, str]) -> tuple[str, str, str, set[str]]:
        """(subject, text body, HTML body or "", placeholder names that had no value)."""
        subject, missing = placeholders.render(self.subject, values, one_line=True)
        text, more = placeholders.render(self.text_body, values)
        missing |= more
        html = ""
        if self.html_body:
            html, more = placeholders.render(self.html_body, values, html=True)
            missing |= more
        return subject, text, html, missing


class EmailTemplateVariant(models.Model):
    """A template's text in one more language; the template itself is the default language's.

    The service sends the variant of the recipient's language when there is one, else the template.
    """

    template = models.ForeignKey(EmailTemplate, on_delete=models.CASCADE, related_name="variants")
    language = models.CharField(max_length=8, help_text="A language code of settings.LANGUAGES, such as de.")
    subject = models.CharField(max_length=255)
    text_body = models.TextField()
    html_body = models.TextField(blank=True)

    class Meta:
        ordering = ["template__template_id", "language"]
        constraints = [models.UniqueConstraint(fields=["template", "language"], name="one_variant_per_language")]
        verbose_name = "email template in another language"

    def __str__(self):
        return f"{self.template_id} ({self.language})"

    @property
    def template_id(self) -> str:
        return self.template.template_id

    @property
    def required_placeholders(self) -> set[str]:
        return REQUIRED_PLACEHOLDERS.get(self.template.template_id, set())

    def clean(self):
        if self.language not in dict(settings.LANGUAGES):
            raise ValidationError({"language": "Not one of the languages this server ships: "
                                               + ", ".join(code for code, _ in settings.LANGUAGES) + "."})
        if self.language == settings.LANGUAGE_CODE:
            raise ValidationError({"language": "The template itself is in the default language."})
        EmailTemplate.clean(self)

    def render(self, values: dict[str, str]):
        return EmailTemplate.render(self, values)


class OneTimeCode(models.Model):
    """A code or link sent (by email or text message) for one step of one login flow; only its keyed digest is kept."""

    class Purpose(models.TextChoices):
        EMAIL_OTP = "email-otp"
        MAGIC_LINK = "magic-link"
        SMS_OTP = "sms-otp"

    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="one_time_codes")
    flow = models.ForeignKey("flows.LoginFlow", on_delete=models.CASCADE, related_name="one_time_codes")
    # The flow's position (its journal index) when the code was sent: the code answers that very step.
    position = models.PositiveIntegerField()
    step = models.PositiveIntegerField()
    # Magic links: the public half of the link, to find the record (the other half is only digested).
    selector = models.CharField(max_length=32, unique=True, null=True, blank=True)
    digest = models.CharField(max_length=80)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    # Replaced by a newer code for the same step, or voided after too many wrong tries.
    voided_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["flow", "purpose", "position"])]
        verbose_name = "one-time code"

    def __str__(self):
        return f"{self.purpose} for {self.user_id} (flow {self.flow_id}, position {self.position})"

    @property
    def expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def state(self) -> str:
        if self.used_at:
            return "used"
        if self.voided_at:
            return "void"
        if self.expired:
            return "expired"
        return "active"


class CodeStepCount(models.Model):
    """The wrong codes and new codes of one OTP step of a flow, against the limits its script set.

    One row per flow and step number (however often the step is shown again), changed only by conditional
    UPDATEs (authflow.mail.step_limits), so concurrent submissions cannot exceed a limit.
    """

    flow = models.ForeignKey("flows.LoginFlow", on_delete=models.CASCADE, related_name="code_step_counts")
    step = models.PositiveIntegerField()
    # Codes checked (a slot is taken before each check: a correct code ends the step anyway).
    tries = models.PositiveIntegerField(default=0)
    resends = models.PositiveIntegerField(default=0)
    # Set when a limit ended the step: every later answer of the step fails.
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["flow", "step"], name="one_code_count_per_flow_step")]
        verbose_name = "code step count"

    def __str__(self):
        return f"step {self.step} of flow {self.flow_id}: {self.tries} tries, {self.resends} resends"
