"""IdentifierExecutor (identifier first): asks who the user is, and checks nothing.

The identifier is taken as given, whether or not such a user exists, so the
page does not tell an attacker which accounts exist; a later step verifies
it (a login needs at least one step that proves identity).
"""
from __future__ import annotations

from .base import Authenticator, ShowAgain, Step, username_field


class IdentifierExecutor(Authenticator):
    name = "IdentifierExecutor"
    display_name = "Identifier First"
    identifies_user = True
    proves_identity = False
    template = "login/identifier.html"

    def answer(self, request, step: Step) -> dict:
        username = username_field(request)
        if not username:
            raise ShowAgain("Enter your username.")
        return step.success(username, {"username": [username]})
