"""Signing the test client in to the admin console, which opens to sessions that signed in through the account application."""
from __future__ import annotations

from authflow.configuration.account import account_application
from authflow.sso import service as sso
from authflow.sso.models import UserSession


def sign_in_to_console(client, user) -> None:
    """force_login, plus what the console asks: this session signed in to the account application."""
    client.force_login(user)
    session = UserSession.objects.get(pk=client.session[sso.SESSION_KEY])
    sso.record_flow(session, account_application(), user.get_username(), [])
