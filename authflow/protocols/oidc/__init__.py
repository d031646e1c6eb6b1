"""The OpenID Connect provider.

django-oauth-toolkit speaks the protocol (discovery, JWKS, authorization code
with PKCE, tokens, userinfo, end-session); this package decides who the user
is: an authorization request for an application that has not authenticated
the user in this browser session starts that application's login flow.
"""
