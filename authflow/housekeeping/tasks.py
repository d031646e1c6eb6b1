"""The periodic task (scheduled by CELERY_BEAT_SCHEDULE in settings)."""
from authflow.celery import app

from .purge import purge_expired as purge


@app.task(name="authflow.housekeeping.purge_expired", ignore_result=True)
def purge_expired() -> None:
    purge()
