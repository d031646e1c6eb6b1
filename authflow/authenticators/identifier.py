"""IdentifierExecutor (identifier first): asks who the user is, and checks nothing.

The identifier is taken as given, whether or not such a user exists, so the
page does not tell an attacker which accounts exist; a later step verifies
it (a login needs at least one step that proves identity).  A name is
resolved to its user store as a password step would ("carol" of the CORP
directory is CORP/carol, see directory.services.sign_in_name), so that the
step that verifies it and the script see the same account.
"""
from __future__ import annotations

from django.utils.translation import gettext_noop

from authflow.directory import services as directory

from .base import Authenticator, ShowAgain, Step, username_field


class IdentifierExecutor(Authenticator):
    name = "IdentifierExecutor"
    display_name = gettext_noop("Identifier First")
    identifies_user = True
    proves_identity = False
    template = "login/identifier.html"

    def answer(self, request, step: Step) -> dict:
        username = username_field(request)
        if not username:
            raise ShowAgain(gettext_noop("Enter your username."))
        try:
            subject = directory.sign_in_name(username)
        except directory.DirectoryUnavailable as exc:
            raise ShowAgain(exc.message) from None
        return step.success(subject, {"username": [username]})
