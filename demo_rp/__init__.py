"""A demo relying party: an application that signs its users in through this server.

It is served by the same process on the embedded default (`make run`), and
is what a newcomer clicks to see a whole login: its "Sign in" button sends an
OpenID Connect authorization request (code + PKCE + nonce), and its callback
exchanges the code and shows the validated ID token's claims. It uses only
public endpoints of the provider, like any other client.
"""
