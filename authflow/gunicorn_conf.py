"""gunicorn's settings for production: `gunicorn -c python:authflow.gunicorn_conf authflow.wsgi`.

Each value can be changed from the environment without editing this file.
Workers are processes with a few threads each: a login spends most of its
time hashing a password (Argon2 releases the GIL) or waiting on PostgreSQL,
so threads keep a worker busy without the memory of another process.
"""
import multiprocessing
import os

bind = os.environ.get("AUTHFLOW_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("AUTHFLOW_WEB_WORKERS", str(multiprocessing.cpu_count())))
threads = int(os.environ.get("AUTHFLOW_WEB_THREADS", "4"))
# A request may wait for its script's sandbox (3 s round-trip budget) and a call's outcome page
# polls rather than waits, so 30 s is generous; a stuck worker is replaced instead of hanging.
timeout = int(os.environ.get("AUTHFLOW_WEB_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
# Replace each worker now and then, staggered, so that no slow leak can grow without bound.
max_requests = int(os.environ.get("AUTHFLOW_WEB_MAX_REQUESTS", "5000"))
max_requests_jitter = max_requests // 10
# The reverse proxy in front buffers slow clients; only its address may set X-Forwarded-* headers.
forwarded_allow_ips = os.environ.get("AUTHFLOW_FORWARDED_ALLOW_IPS", "127.0.0.1")
# Requests are logged by the application (structured, with the flow id and without query strings).
accesslog = None
errorlog = "-"
# Nothing is loaded before the fork: each worker starts its own sandbox processes when it needs them.
preload_app = False
