"""What the ID token and userinfo say about the user (from the directory, by granted scope)."""
from __future__ import annotations

from oauth2_provider.oauth2_validators import OAuth2Validator

from authflow.directory import claims as directory_claims


class Validator(OAuth2Validator):
    def get_additional_claims(self, request):
        user = request.user
        known = directory_claims.read_claims(user)
        out = {
            "preferred_username": user.username,
            "email": known.get(directory_claims.EMAIL),
            "given_name": known.get(directory_claims.GIVEN_NAME),
            "family_name": known.get(directory_claims.LAST_NAME),
            "birthdate": known.get(directory_claims.DATE_OF_BIRTH),
        }
        return {key: value for key, value in out.items() if value}

    # prompt=none: the login flow decides whether the request can be answered
    # without the user (authflow.login.views.start), and there is no consent
    # screen to skip (consent is a prompt in the application's script).
    def validate_silent_login(self, request):
        return True

    def validate_silent_authorization(self, request):
        return True
