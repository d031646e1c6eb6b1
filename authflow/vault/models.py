"""A named secret for scripts, encrypted with the server's keys (authflow.keys, bound to its name)."""
from django.db import models
from django.utils import timezone

from authflow import keys


class Secret(models.Model):
    name = models.SlugField(max_length=100, unique=True)
    description = models.CharField(max_length=200, blank=True)
    encrypted_value = models.TextField(editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def set_value(self, value: str) -> None:
        self.encrypted_value = keys.encrypt(value.encode(), purpose=_purpose(self.name))
        self.updated_at = timezone.now()

    def value(self) -> str:
        return keys.decrypt(self.encrypted_value, purpose=_purpose(self.name)).decode()


def _purpose(name: str) -> str:
    return f"script-secret:{name}"
