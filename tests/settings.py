"""Test settings: the production settings on PostgreSQL, with a development secret."""
import os

os.environ.setdefault("AUTHFLOW_ALLOW_DEV_SECRET", "1")
os.environ.setdefault("DATABASE_URL", "postgres://postgres:postgres@127.0.0.1:5432/authflow")

from authflow.settings import *  # noqa: E402,F401,F403  (Argon2 hashing stays on: tests check it)
