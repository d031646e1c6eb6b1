"""The baseline of bench/login_throughput.py: a plain Django + django-oauth-toolkit provider.

Django's own LoginView behind django-oauth-toolkit's OpenID Connect provider, the same
password and client-secret hashers as authflow, the same database and server.  It has no
scripts, no flows, no second factors: what a login costs without an orchestrator.
"""
