"""The provider's oauthlib server: the library's OpenID Connect server plus this project's extension grants."""
from oauthlib.openid import Server as OpenIDServer

from authflow.custom_authenticators.grant import GRANT_TYPE, CustomAuthenticatorGrant


class Server(OpenIDServer):
    def __init__(self, request_validator, *args, **kwargs):
        super().__init__(request_validator, *args, **kwargs)
        self._grant_types[GRANT_TYPE] = CustomAuthenticatorGrant(request_validator)
