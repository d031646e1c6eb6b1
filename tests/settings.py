"""Test settings: the production settings on PostgreSQL, with a development secret."""
import os

os.environ.setdefault("AUTHFLOW_ALLOW_DEV_SECRET", "1")
os.environ.setdefault("AUTHFLOW_HTTPS", "0")  # the test servers speak plain HTTP
os.environ.setdefault("DATABASE_URL", "postgres://postgres:postgres@127.0.0.1:5432/authflow")

from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402

from authflow.settings import *  # noqa: E402,F401,F403  (Argon2 hashing stays on: tests check it)

# The signing key: AUTHFLOW_OIDC_RSA_PRIVATE_KEY when set (the server processes a test starts share one,
# see tests/support/servers.py), else one made for this test run.
OAUTH2_PROVIDER = dict(OAUTH2_PROVIDER, OIDC_RSA_PRIVATE_KEY=os.environ.get("AUTHFLOW_OIDC_RSA_PRIVATE_KEY") or
                       rsa.generate_private_key(65537, 2048).private_bytes(serialization.Encoding.PEM,
                       serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode())

# The demo relying party is part of the end-to-end tests.
AUTHFLOW_DEMO_RP = {"client_id": "demo-client"}
