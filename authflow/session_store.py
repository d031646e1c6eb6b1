"""Django's database session store, with fewer queries per sign-in (issue 18).

- No query to check that a new session key is free.  Every sign-in makes a new session key (no fixation).
  Django first asks the database whether the random key is taken, then inserts it: the INSERT alone says
  so (the key is the primary key; a clash, 32 random characters of 36, fails it and Django draws again),
  so the check is one query per sign-in that decides nothing.
- A sign-in's new key is inserted once, with the data, when the response saves the session.  Django's
  cycle_key() (login()) inserts the new row at once, and the response then updates it with what the rest
  of the request added (the sign-on session, the authorization): one INSERT instead of INSERT + UPDATE.
  The old key's row is still deleted at once, so it signs nobody in from then on.
- A changed session is written with one UPDATE, and a new one with one INSERT, not inside a transaction
  of their own (BEGIN and COMMIT, or a savepoint): one statement needs none.  (Inside another transaction
  the INSERT keeps Django's savepoint: a clash of keys must not break that transaction.)  An UPDATE that
  finds no row (the session was deleted meanwhile) raises UpdateError, as Django's does.
- A session marked modified whose data is what was read is not written again (unless
  SESSION_SAVE_EVERY_REQUEST, which writes to push the expiry on).
"""
from django.conf import settings
from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError, UpdateError
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import IntegrityError, router, transaction
from django.utils.crypto import get_random_string


class SessionStore(DatabaseSessionStore):
    _loaded = None  # the data as read from the database (serialized), to tell whether it changed

    def _get_new_session_key(self):
        return get_random_string(32, VALID_KEY_CHARS)

    def load(self):
        data = super().load()
        if self._session_key is not None:  # (None: no such session, or it expired: a new one is made)
            self._loaded = self._serialized(data)
        return data

    def _serialized(self, data) -> bytes:
        return self.serializer().dumps(data)

    def cycle_key(self):
        """A new key for the same data, inserted when the session is saved (see the module's docstring)."""
        data = self._session
        key = self.session_key
        self._session_key = None
        self._loaded = None
        self._session_cache = data
        self.modified = True
        if key:
            self.delete(key)

    def save(self, must_create=False):
        if self.session_key is None:
            return self.create()  # (which saves with must_create)
        if must_create:
            self._loaded = None
            return self._insert()
        data = self._get_session()
        serialized = self._serialized(data)
        if self._loaded is not None and not settings.SESSION_SAVE_EVERY_REQUEST and serialized == self._loaded:
            return  # nothing changed since it was read
        obj = self.create_model_instance(data)
        updated = self.model._default_manager.using(router.db_for_write(self.model, instance=obj)).filter(
            session_key=obj.session_key).update(session_data=obj.session_data, expire_date=obj.expire_date)
        if not updated:
            raise UpdateError
        self._loaded = serialized

    def delete(self, session_key=None):
        """One DELETE (Django reads the row first, then deletes it)."""
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        self.model._default_manager.filter(session_key=session_key).delete()

    def _insert(self):
        """The new session's row, inserted in one statement: Django wraps it in a transaction of its own so
        that a clash of keys can be caught in the middle of another; outside any, the INSERT needs none."""
        data = self._get_session(no_load=True)
        obj = self.create_model_instance(data)
        using = router.db_for_write(self.model, instance=obj)
        if transaction.get_connection(using).in_atomic_block:
            return super().save(must_create=True)
        try:
            self.model._default_manager.using(using).bulk_create([obj])
        except IntegrityError:
            raise CreateError from None
