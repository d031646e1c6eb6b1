"""Authenticators: the plugins a step offers (password, TOTP, passkey...). See registry.py."""
