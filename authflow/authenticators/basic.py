"""BasicAuthenticator: a username and password, checked by Django's auth backends (Argon2 hashes).

The password of a username is checked while no other attempt of that
username is (so concurrent wrong passwords are checked no more often than
the lockout allows, and concurrent right ones all succeed), and a locked
username is refused without a check (see authflow.directory.lockout);
failures also count against the client address.  Known and unknown
usernames get the same messages and cost the same Argon2 work, so the page
does not tell which accounts exist.  After an earlier step identified the
user, or when the script passes the username (authenticatorParams
{username, inputType: 'identifierFirst'}, as after
promptIdentifierForStep), only the password is asked for.

Users of other user stores (an LDAP directory) sign in here too: the typed
name is first resolved to a local username ("CORP/alice", see
directory.services.sign_in_name), so the lockout counts the same account
whichever way its name was typed; a directory that cannot answer gives its
own message, and the attempt is not counted when no password was checked.
"""
from __future__ import annotations

from django.contrib.auth.hashers import make_password
from django.utils.translation import gettext_noop

from authflow.directory import lockout, services as directory
from authflow.net import client_ip

from .base import Authenticator, Step, username_field

FAILURE = gettext_noop("The username or password is not correct.")


class BasicAuthenticator(Authenticator):
    name = "BasicAuthenticator"
    display_name = gettext_noop("Username & Password")
    identifies_user = True
    template = "login/password.html"
    amr = "pwd"

    def is_enrolled(self, user) -> bool:
        # A user store's account has its password in the directory (its local row has none).
        return user.has_usable_password() or user.user_store != "PRIMARY"

    def context(self, request, step: Step) -> dict:
        return {"fixed_username": fixed_username(step)}

    def answer(self, request, step: Step) -> dict:
        username = step.subject or fixed_username(step) or username_field(request)
        password = request.POST.get("password", "")
        ip = client_ip(request)
        params = {"username": [username]}
        if lockout.address_blocked(ip):
            return step.failure(lockout.NETWORK_BLOCKED, params)
        try:
            # The typed name resolved to its local username (directory.sign_in_name) as its row is locked.
            with lockout.password_attempt(username, flow_id=step.flow_id,
                                          resolve=directory.sign_in_name) as attempt:
                username = attempt.username
                if attempt.allowed:
                    try:
                        user = directory.check_password(request, username, password, account=attempt.account)
                    except directory.DirectoryUnavailable as exc:
                        return step.failure(exc.message, params)
                    if user is None:
                        lockout.attempt_failed(attempt, ip)
                        return step.failure(FAILURE, params, user=username if attempt.known else None)
                    lockout.record_success(user, attempt)
        except directory.DirectoryUnavailable as exc:  # resolving the name: nothing checked, nothing counted
            return step.failure(exc.message, params)
        if not attempt.allowed:
            # As long as a check: a locked account answers no faster than an unknown username (whose password
            # Django hashes for the same reason); after the block, so the other attempts do not wait for it.
            make_password(password)
            return step.failure(attempt.message, params)
        directory.remember_checked(request, user)  # the replay and the sign-in that follow need not read it
        return step.success(user.username, params)


def fixed_username(step: Step) -> str:
    """The username a script gave the step (authenticatorParams {username, inputType: 'identifierFirst'}), if any."""
    if str(step.param("inputType", "")) == "identifierFirst" and isinstance(step.param("username"), str):
        return step.param("username").strip()[:150]
    return ""
