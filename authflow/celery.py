"""The Celery application; workers start it with `celery -A authflow worker`."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "authflow.settings")

app = Celery("authflow")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
