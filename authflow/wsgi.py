import os

from django.core.wsgi import get_wsgi_application

from authflow.memory import keep_large_blocks_unmapped

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "authflow.settings")
keep_large_blocks_unmapped()  # the web process's allocator setting (authflow/memory.py)
application = get_wsgi_application()
