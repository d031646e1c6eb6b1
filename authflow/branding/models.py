"""A Brand: the look of one application's login pages, or (application empty) of every page by default.

Unset fields fall back to the default brand, then to the built-in look.  The logo is kept in the database
(any worker serves it) with the type and size logos.check found.
"""
from __future__ import annotations

import hashlib

from django.core.exceptions import ValidationError
from django.db import models

from . import rules


class Brand(models.Model):
    application = models.OneToOneField("applications.Application", null=True, blank=True, on_delete=models.CASCADE,
                                       related_name="brand", help_text="Empty: the default brand of every page.")
    display_name = models.CharField(max_length=80, blank=True, help_text="Shown in the page header.")
    text = models.CharField(max_length=7, blank=True, help_text="#rrggbb")
    background = models.CharField(max_length=7, blank=True, help_text="#rrggbb")
    accent = models.CharField(max_length=7, blank=True, help_text="#rrggbb: buttons and links")
    accent_text = models.CharField(max_length=7, blank=True, help_text="#rrggbb: the text on buttons")
    privacy_url = models.URLField(max_length=500, blank=True)
    terms_url = models.URLField(max_length=500, blank=True)
    help_url = models.URLField(max_length=500, blank=True)
    logo = models.BinaryField(null=True, blank=True, editable=False)
    logo_type = models.CharField(max_length=16, blank=True, editable=False)
    logo_width = models.PositiveIntegerField(default=0, editable=False)
    logo_height = models.PositiveIntegerField(default=0, editable=False)
    logo_digest = models.CharField(max_length=16, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["application__name"]

    def __str__(self):
        return f"brand of {self.application.name}" if self.application_id else "default brand"

    @property
    def theme(self) -> dict:
        return {"text": self.text, "background": self.background, "accent": self.accent,
                "accent_text": self.accent_text}

    @property
    def links(self) -> dict:
        return {"privacy": self.privacy_url, "terms": self.terms_url, "help": self.help_url}

    def set_logo(self, data: bytes | None, content_type: str = "", width: int = 0, height: int = 0) -> None:
        """A logo logos.check accepted (or None: no logo)."""
        self.logo = data or None
        self.logo_type = content_type if data else ""
        self.logo_width, self.logo_height = (width, height) if data else (0, 0)
        self.logo_digest = hashlib.sha256(data).hexdigest()[:16] if data else ""

    def clean(self):
        if self.application_id is None and Brand.objects.filter(application__isnull=True).exclude(pk=self.pk).exists():
            raise ValidationError("There is a default brand already: change that one.")
        default = None if self.application_id is None else Brand.objects.filter(application__isnull=True).first()
        try:
            self.display_name = rules.check_display_name(self.display_name)
            links = rules.check_links(self.links)
            theme = rules.check_theme(self.theme, default.theme if default else None)
        except rules.BrandError as exc:
            raise ValidationError(str(exc)) from None
        self.privacy_url, self.terms_url, self.help_url = links["privacy"], links["terms"], links["help"]
        for name, value in theme.items():
            setattr(self, name, value)

