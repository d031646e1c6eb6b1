"""Configuration as code: `manage.py apply -f FILE` and `manage.py export`."""
