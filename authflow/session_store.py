"""Django's database session store, without the query that checks a new session key is free.

Every sign-in makes a new session key (no fixation).  Django first asks the database whether the
random key is taken, then inserts it: the INSERT alone says so (the key is the primary key; a
clash, 32 random characters of 36, fails it and Django draws again), so the check is one query
per sign-in that decides nothing.
"""
from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.utils.crypto import get_random_string


class SessionStore(DatabaseSessionStore):
    def _get_new_session_key(self):
        return get_random_string(32, VALID_KEY_CHARS)
