"""Housekeeping: deleting what has outlived its use (finished flows, dead sessions, expired tokens).

`purge.purge_expired()` does it; `manage.py purge_expired` runs it once (for
cron) and the Celery task `authflow.housekeeping.purge_expired` runs it on
the beat schedule (`celery -A authflow beat`).  Each app says what of its own
is dead; this app only decides when.
"""
