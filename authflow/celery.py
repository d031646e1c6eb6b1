"""The Celery application; workers start it with `celery -A authflow worker`."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "authflow.settings")

app = Celery("authflow")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def registered_task(name: str):
    """The task called `name`, queued by name.

    Web processes import Celery and the apps' task modules when they first queue something (Celery is
    about 8 MB of each web worker, most of which never queue anything); the worker finds them at start.
    """
    if name not in app.tasks:
        app.autodiscover_tasks(force=True)
    return app.tasks[name]
