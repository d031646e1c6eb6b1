"""Authenticators: the plugins a step offers (password, identifier first, active sessions limit...).

base.py says what an authenticator is; registry.py finds them by the names
scripts use.  Adding one means adding a module with an `Authenticator`
subclass and naming it in settings.AUTHFLOW_AUTHENTICATORS.
"""
