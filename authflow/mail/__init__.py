"""Email: templates administrators edit, sent by a Celery task through Django's email backends."""
