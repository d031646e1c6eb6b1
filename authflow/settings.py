"""Settings for the authflow service.

Everything that differs between the embedded default (SQLite, tasks run inline)
and production (PostgreSQL, Redis-backed Celery) is read from the environment,
so the same module serves development, tests and deployment.
"""
import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("AUTHFLOW_VAR_DIR", BASE_DIR / "var"))


def _env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = _env_bool("AUTHFLOW_DEBUG", False)
SECRET_KEY = os.environ.get("AUTHFLOW_SECRET_KEY", "")
if not SECRET_KEY:
    if DEBUG or os.environ.get("AUTHFLOW_ALLOW_DEV_SECRET"):
        SECRET_KEY = "dev-only-insecure-secret-key-change-me"
    else:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            "AUTHFLOW_SECRET_KEY is not set (set AUTHFLOW_DEBUG=1 for a development key)"
        )

ALLOWED_HOSTS = [h for h in os.environ.get("AUTHFLOW_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]

INSTALLED_APPS = [
    "authflow.console.ConsoleConfig",  # django.contrib.admin, its site behind the account application
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # Django REST framework serves the APIs without being an installed app: as one it adds only its template
    # tags (for the browsable API; these APIs speak JSON only), which Django's template engine imports in
    # every web worker at its first page, with DRF's serializers and pygments.
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, served from here (no CDN)
    "django_otp",
    "oauth2_provider",
    "authflow.directory",
    "authflow.applications",
    "authflow.flows",
    "authflow.configuration",
    "authflow.protocols",
    "authflow.sso",
    "authflow.factors",
    "authflow.mail",
    "authflow.outbound",
    "authflow.sms",
    "authflow.passkeys",
    "authflow.vault",
    "authflow.federation",
    "authflow.housekeeping",
    "authflow.api",
    "authflow.callbacks",
    "authflow.custom_authenticators",
    "authflow.console_pages",
    "authflow.branding",
    "authflow.languages",  # its template tags (the texts of the pages' scripts)
    "sequences",
    "demo_rp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files straight from the web process: no separate file server to run, and the
    # responses still get the security headers above.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "authflow.content_security.ContentSecurityPolicyMiddleware",
    "authflow.nul_bytes.NulByteMiddleware",  # before anything reads a cookie or a field
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "authflow.sso.middleware.SignOnSessionMiddleware",
    # After the sign-on session's check: it reads the user the session names (their saved language).
    "authflow.languages.middleware.LanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "authflow.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "authflow.languages.context_processors.languages",
            ],
        },
    },
]

WSGI_APPLICATION = "authflow.wsgi.application"

# The embedded default is a SQLite file under var/; production and the test
# suite set DATABASE_URL to a PostgreSQL database.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'authflow.sqlite3'}"),
        conn_max_age=int(os.environ.get("AUTHFLOW_DB_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # Wait for the writer lock instead of failing at once when two requests
    # resume flows at the same moment.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20

AUTH_USER_MODEL = "directory.User"

# Argon2 first: new and re-hashed passwords use it.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    # Client secrets (OAUTH2_PROVIDER["CLIENT_SECRET_HASHER"]), checked at every token request.
    "authflow.protocols.oidc.hashers.ClientSecretHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# The pages' languages (authflow.languages chooses one per request): English and the complete translations
# in locale/ (README: adding a language).  Arabic is written right to left.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("de", "German"), ("fr", "French"), ("es", "Spanish"), ("ar", "Arabic")]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600  # the switcher's choice, for a year
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
# WhiteNoise serves the files where the finders find them (a few dozen KB): no collectstatic step
# to forget, and a page never refers to a file that was not collected.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Django's database sessions, minus the query that checks a new key is free (the INSERT says so).
SESSION_ENGINE = "authflow.session_store"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# Served over HTTPS: cookies are sent back over HTTPS only.  On unless
# AUTHFLOW_DEBUG (the embedded default runs on http://localhost:8000).
AUTHFLOW_HTTPS = _env_bool("AUTHFLOW_HTTPS", not DEBUG)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = AUTHFLOW_HTTPS
X_FRAME_OPTIONS = "DENY"
CSRF_FAILURE_VIEW = "authflow.login.views.csrf_failure"
SECURE_CONTENT_TYPE_NOSNIFF = True
# Browsers that once reached this server over HTTPS refuse plain HTTP to it for a year.
SECURE_HSTS_SECONDS = int(os.environ.get("AUTHFLOW_HSTS_SECONDS", str(365 * 24 * 3600 if AUTHFLOW_HTTPS else 0)))
# Whether HSTS also covers subdomains, and the preload list, are decisions about the whole domain
# that only its owner can take: off unless set, and not reported by `check --deploy`.
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("AUTHFLOW_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = _env_bool("AUTHFLOW_HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS = ["security.W005", "security.W021"]
# Over HTTPS, a plain-HTTP request is redirected to HTTPS.  Behind a proxy that terminates TLS,
# set AUTHFLOW_TRUSTED_PROXY_COUNT so its X-Forwarded-Proto is believed (else every request loops).
SECURE_SSL_REDIRECT = _env_bool("AUTHFLOW_SSL_REDIRECT", AUTHFLOW_HTTPS)
# The Content-Security-Policy of every page (authflow/content_security.py); empty: none.
AUTHFLOW_CONTENT_SECURITY_POLICY = os.environ.get(
    "AUTHFLOW_CONTENT_SECURITY_POLICY",
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")

# Celery: Redis in production and in the tests that are about it; inline on
# the embedded default (no broker configured).
_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not _BROKER_URL
# Run inline, a task still passes through a producer that serialises its arguments: give it the in-memory
# transport rather than an AMQP connection to nowhere (kombu's "No hostname was supplied" on every task).
CELERY_BROKER_URL = _BROKER_URL or "memory://localhost/"
CELERY_TASK_EAGER_PROPAGATES = True
# `celery -A authflow beat` runs the housekeeping (authflow/housekeeping/) this often.
CELERY_BEAT_SCHEDULE = {
    "purge-expired": {"task": "authflow.housekeeping.purge_expired",
                      "schedule": float(os.environ.get("AUTHFLOW_PURGE_INTERVAL_SECONDS", "3600"))},
}

# The script engine (sequences). Limits apply to every run of a script.
SEQUENCES = {
    "RUN_TIMEOUT_MS": int(os.environ.get("AUTHFLOW_SCRIPT_TIMEOUT_MS", "250")),
    "RUN_MEMORY_MB": int(os.environ.get("AUTHFLOW_SCRIPT_MEMORY_MB", "64")),
    # Idle sandbox processes a web worker keeps for the next runs (at least 1; see README, "Scaling out").
    "MAX_IDLE_SANDBOXES": int(os.environ.get("AUTHFLOW_SANDBOX_MAX_IDLE", "4")),
    # Sandboxes forked by one fork server per machine, which has initialised V8 once (Linux; see README,
    # "Scaling out"); off: each sandbox is a fresh process (about 20 MB more of its own each).
    "SANDBOX_FORK_SERVER": os.environ.get("AUTHFLOW_SANDBOX_FORK_SERVER", "1") != "0",
    # Host round trips (lookups and effects) one HTTP request may make.
    "MAX_HOST_CALLS_PER_ADVANCE": 64,
    # How `manage.py simulate` signs and encrypts scenario cookies (as setCookie does).
    "COOKIE_CODEC": "authflow.cookies",
    # The server's checks `manage.py simulate` applies (authenticator names, allowed endpoints, authConfig).
    "SERVER_RULES": "authflow.server_rules",
    # How `manage.py simulate` reads what an execute() script returned (custom authenticators' status codes).
    "EXECUTE_RESULTS": "authflow.custom_authenticators.engine",
}

# Shared state across processes (rate limits): Redis when configured, else per process.
_CACHE_URL = os.environ.get("AUTHFLOW_CACHE_URL", "")
# Short socket timeouts: a Redis that hangs must not hang sign-ins (authflow/ratelimit.py lifts the limits).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _CACHE_URL,
                      "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}
          if _CACHE_URL else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Brute force: lock an account after this many failed passwords in a row, and
# refuse an address after this many failures in the window.
AUTHFLOW_LOCKOUT_THRESHOLD = int(os.environ.get("AUTHFLOW_LOCKOUT_THRESHOLD", "5"))
AUTHFLOW_LOCKOUT_SECONDS = int(os.environ.get("AUTHFLOW_LOCKOUT_SECONDS", "900"))
# Passwords of one account are checked one at a time (authflow/directory/lockout.py); an attempt that waits
# longer than this for the others is told to try again in a moment (not counted, not locked).
AUTHFLOW_SIGN_IN_WAIT_SECONDS = int(os.environ.get("AUTHFLOW_SIGN_IN_WAIT_SECONDS", "10"))
AUTHFLOW_ADDRESS_FAILURE_LIMIT = int(os.environ.get("AUTHFLOW_ADDRESS_FAILURE_LIMIT", "30"))
AUTHFLOW_ADDRESS_FAILURE_WINDOW_SECONDS = 900
# Login flows one client address may start per minute (0: no limit).
AUTHFLOW_FLOW_STARTS_PER_MINUTE = int(os.environ.get("AUTHFLOW_FLOW_STARTS_PER_MINUTE", "120"))
# Failed client authentications at the token endpoint one address may make per window before it is refused
# (each costs an Argon2 check).
AUTHFLOW_CLIENT_AUTH_FAILURE_LIMIT = int(os.environ.get("AUTHFLOW_CLIENT_AUTH_FAILURE_LIMIT", "20"))

# The demo relying party (demo_rp/, served under /demo/) is on for the embedded default.
AUTHFLOW_DEMO_RP = {"client_id": os.environ.get("AUTHFLOW_DEMO_CLIENT_ID", "demo-client")} \
    if _env_bool("AUTHFLOW_DEMO_RP", DEBUG) else None

# Login flows.
AUTHFLOW_FLOW_TTL_SECONDS = int(os.environ.get("AUTHFLOW_FLOW_TTL_SECONDS", str(15 * 60)))
# Finished flows (with their journals) and ended sign-on sessions are deleted this
# long after their last change by the housekeeping (at least an hour).
AUTHFLOW_RETENTION_SECONDS = int(os.environ.get("AUTHFLOW_RETENTION_SECONDS", str(30 * 24 * 3600)))
# The authenticator plugins (authflow/authenticators/base.py): None means every
# module of authflow/authenticators; a list of dotted paths replaces them.
AUTHFLOW_AUTHENTICATORS = None
# The application whose script signs people in to this server's own pages
# (the account page, the admin console).
AUTHFLOW_ACCOUNT_APPLICATION = os.environ.get("AUTHFLOW_ACCOUNT_APPLICATION", "account")
# Sign-on sessions end after this long without use, and after this long in any case.
AUTHFLOW_SESSION_IDLE_SECONDS = int(os.environ.get("AUTHFLOW_SESSION_IDLE_SECONDS", str(30 * 60)))
AUTHFLOW_SESSION_MAX_SECONDS = int(os.environ.get("AUTHFLOW_SESSION_MAX_SECONDS", str(10 * 3600)))
SESSION_COOKIE_AGE = AUTHFLOW_SESSION_MAX_SECONDS
# Keys for secrets kept at rest (authflow/keys.py): comma-separated base64 32-byte
# keys, newest first; without them one is derived from SECRET_KEY.
AUTHFLOW_ENCRYPTION_KEYS = os.environ.get("AUTHFLOW_ENCRYPTION_KEYS", "")

# Changing how one signs in (second factors, passkeys) needs a sign-in at most this old.
AUTHFLOW_REAUTH_SECONDS = int(os.environ.get("AUTHFLOW_REAUTH_SECONDS", "600"))

# Second factors.
AUTHFLOW_TOTP_ISSUER = os.environ.get("AUTHFLOW_TOTP_ISSUER", "authflow")  # the name authenticator apps show
OTP_TOTP_THROTTLE_FACTOR = 1  # django-otp: after n failures, wait 2^(n-1) s before the next try
AUTHFLOW_EMAIL_OTP_TTL_SECONDS = int(os.environ.get("AUTHFLOW_EMAIL_OTP_TTL_SECONDS", "300"))
AUTHFLOW_MAGIC_LINK_TTL_SECONDS = int(os.environ.get("AUTHFLOW_MAGIC_LINK_TTL_SECONDS", "600"))
AUTHFLOW_SMS_OTP_TTL_SECONDS = int(os.environ.get("AUTHFLOW_SMS_OTP_TTL_SECONDS", "300"))
# Text messages of the SMS OTP authenticator (authflow/sms): "console" prints them (development), "http" posts
# them to AUTHFLOW_SMS_GATEWAY_URL (which must be on the allow-list of allowed endpoints) with the bearer token
# AUTHFLOW_SMS_GATEWAY_TOKEN; or the dotted path of a sender class.
AUTHFLOW_SMS_SENDER = os.environ.get("AUTHFLOW_SMS_SENDER", "console" if DEBUG else "http")
AUTHFLOW_SMS_GATEWAY_URL = os.environ.get("AUTHFLOW_SMS_GATEWAY_URL", "")
AUTHFLOW_SMS_GATEWAY_TOKEN = os.environ.get("AUTHFLOW_SMS_GATEWAY_TOKEN", "")
AUTHFLOW_SMS_FROM = os.environ.get("AUTHFLOW_SMS_FROM", "authflow")
AUTHFLOW_SMS_QUEUE = os.environ.get("AUTHFLOW_SMS_QUEUE", "")  # the Celery queue of the SMS task; empty: default
# WebAuthn: the relying party id (a domain; empty: the request's host name) and the
# origins allowed to answer a ceremony (empty: the request's own origin).
AUTHFLOW_WEBAUTHN_RP_ID = os.environ.get("AUTHFLOW_WEBAUTHN_RP_ID", "")
AUTHFLOW_WEBAUTHN_RP_NAME = os.environ.get("AUTHFLOW_WEBAUTHN_RP_NAME", "authflow")
AUTHFLOW_WEBAUTHN_ORIGINS = [o for o in os.environ.get("AUTHFLOW_WEBAUTHN_ORIGINS", "").split(",") if o]

# Email through Django's backends; the embedded default prints messages to the console.
EMAIL_BACKEND = os.environ.get("AUTHFLOW_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend" if DEBUG
                               else "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("AUTHFLOW_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("AUTHFLOW_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("AUTHFLOW_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("AUTHFLOW_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _env_bool("AUTHFLOW_EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 20
DEFAULT_FROM_EMAIL = os.environ.get("AUTHFLOW_EMAIL_FROM", "authflow <no-reply@localhost>")
# At most this many emails to one account per window, whatever sends them (scripts, codes, links).
AUTHFLOW_MAIL_MAX_PER_USER = int(os.environ.get("AUTHFLOW_MAIL_MAX_PER_USER", "30"))
AUTHFLOW_MAIL_WINDOW_SECONDS = int(os.environ.get("AUTHFLOW_MAIL_WINDOW_SECONDS", "3600"))

# Outbound calls from scripts (authflow/outbound/): httpGet, httpPost and callAnalytics suspend the
# flow while a Celery task makes the request.  Scripts reach only URLs under an allowed endpoint
# (admin console, "Allowed endpoints"); any other URL fails at once.  A request has
# AUTHFLOW_CALL_TIMEOUT_SECONDS in all to connect and answer (scripts cannot change it); a flow whose
# result has not arrived AUTHFLOW_CALL_DEADLINE_MARGIN_SECONDS later is answered "timeout" anyway.
AUTHFLOW_CALL_TIMEOUT_SECONDS = float(os.environ.get("AUTHFLOW_CALL_TIMEOUT_SECONDS", "5"))
AUTHFLOW_CALL_DEADLINE_MARGIN_SECONDS = float(os.environ.get("AUTHFLOW_CALL_DEADLINE_MARGIN_SECONDS", "5"))
AUTHFLOW_CALL_MAX_RESPONSE_BYTES = int(os.environ.get("AUTHFLOW_CALL_MAX_RESPONSE_BYTES", str(64 * 1024)))
AUTHFLOW_CALL_MAX_PER_FLOW = int(os.environ.get("AUTHFLOW_CALL_MAX_PER_FLOW", "20"))
AUTHFLOW_CALL_QUEUE = os.environ.get("AUTHFLOW_CALL_QUEUE", "")  # the Celery queue of the call tasks; empty: default
AUTHFLOW_MAIL_QUEUE = os.environ.get("AUTHFLOW_MAIL_QUEUE", "")  # the Celery queue of the email tasks; empty: default
# Internal networks (comma-separated CIDRs) that host names on the allow-list may resolve to; by default a call
# reaches an internal address only when the allowed endpoint names it as an IP literal.
AUTHFLOW_CALL_INTERNAL_NETWORKS = os.environ.get("AUTHFLOW_CALL_INTERNAL_NETWORKS", "")
# The analytics endpoint (callAnalytics, publishToAnalytics) receives {"metadata", "payload"} as JSON and
# answers JSON.  The operator sets it, so it is trusted (it need not be on the allow-list); empty: no analytics.
AUTHFLOW_ANALYTICS_URL = os.environ.get("AUTHFLOW_ANALYTICS_URL", "")
AUTHFLOW_ANALYTICS_AUTHORIZATION = os.environ.get("AUTHFLOW_ANALYTICS_AUTHORIZATION", "")  # its Authorization header
# callChoreo's token endpoint (the client credentials grant for the script's consumerKey/consumerSecret).  The
# operator sets it, so it need not be on the allow-list (the URL callChoreo posts to must be); empty: refused.
AUTHFLOW_CHOREO_TOKEN_ENDPOINT = os.environ.get("AUTHFLOW_CHOREO_TOKEN_ENDPOINT", "")

# http:// redirect URIs for applications (see OAUTH2_PROVIDER below).
AUTHFLOW_HTTP_REDIRECT_URIS = _env_bool("AUTHFLOW_HTTP_REDIRECT_URIS", not AUTHFLOW_HTTPS)

# Reverse proxies in front of the server whose X-Forwarded-For is trusted (authflow/net.py).
AUTHFLOW_TRUSTED_PROXY_COUNT = int(os.environ.get("AUTHFLOW_TRUSTED_PROXY_COUNT", "0"))
if AUTHFLOW_TRUSTED_PROXY_COUNT:
    # The proxy terminates TLS and says so.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Where an unauthenticated authorization request goes: it starts a login flow.
LOGIN_URL = "login-start"
# sendError may redirect to relative URLs and to these prefixes only.
AUTHFLOW_ERROR_URL_ALLOW_LIST = [u for u in os.environ.get("AUTHFLOW_ERROR_URL_ALLOW_LIST", "").split(",") if u]
# What scripts read as context.tenantDomain and user.tenantDomain: one tenant per server, named like the
# reference's default so that scripts comparing it with 'carbon.super' keep working.
AUTHFLOW_TENANT_DOMAIN = os.environ.get("AUTHFLOW_TENANT_DOMAIN", "").strip() or "carbon.super"
# The attributes a sign-in identifier may be (resolveMultiAttributeLoginIdentifier), as claim URIs; the
# environment may also name them briefly: username, email, mobile.  Only the username unless configured:
# email addresses and mobile numbers identify an account only where each belongs to one account.
_LOGIN_IDENTIFIER_NAMES = {"username": "http://wso2.org/claims/username",
                           "email": "http://wso2.org/claims/emailaddress",
                           "mobile": "http://wso2.org/claims/mobile"}
AUTHFLOW_LOGIN_IDENTIFIER_ATTRIBUTES = [
    _LOGIN_IDENTIFIER_NAMES.get(name.strip().lower(), name.strip())
    for name in os.environ.get("AUTHFLOW_LOGIN_IDENTIFIER_ATTRIBUTES", "username").split(",") if name.strip()]


def _oidc_private_key():
    """The RSA key that signs ID tokens: from the environment, else from var/ (embedded default)."""
    pem = os.environ.get("AUTHFLOW_OIDC_RSA_PRIVATE_KEY", "")
    if pem:
        return pem
    key_file = Path(os.environ.get("AUTHFLOW_OIDC_RSA_KEY_FILE", VAR_DIR / "oidc-rsa.pem"))
    return key_file.read_text() if key_file.exists() else ""


# OpenID Connect provider (django-oauth-toolkit); see authflow/protocols/oidc/.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
# A client secret that passed its Argon2 check is recognised by a keyed hash in the same process for this
# long (authflow/protocols/oidc/secret_checks.py); 0 checks every token request's secret with Argon2.
AUTHFLOW_CLIENT_SECRET_CACHE_SECONDS = int(os.environ.get("AUTHFLOW_CLIENT_SECRET_CACHE_SECONDS", "300"))
OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": _oidc_private_key(),
    "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
    "OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT": False,
    "PKCE_REQUIRED": True,
    "SCOPES": {"openid": "Sign you in", "profile": "Your name", "email": "Your email address",
               "custom_authenticators": "Register and use your custom authenticators (mobile apps)"},
    # The library's OpenID Connect server, plus the custom authenticator grant (authflow/custom_authenticators).
    "OIDC_SERVER_CLASS": "authflow.protocols.oidc.server.Server",
    "DEFAULT_SCOPES": ["openid"],
    # The management API's scopes go to API clients only, by client credentials (authflow/api/scopes.py);
    # SMART on FHIR scopes to applications with a callbacks script (authflow/callbacks/scopes.py, built on it).
    "SCOPES_BACKEND_CLASS": "authflow.callbacks.scopes.SmartScopes",
    # Applications with a callbacks script get signed JWT access tokens (RFC 9068) carrying the claims their
    # onTokenGenerating adds; others, and every refresh token, stay opaque (authflow.callbacks.tokens).
    "ACCESS_TOKEN_GENERATOR": "authflow.callbacks.tokens.access_token_generator",
    "REFRESH_TOKEN_GENERATOR": "oauthlib.oauth2.rfc6749.tokens.random_token_generator",
    "OAUTH2_VALIDATOR_CLASS": "authflow.protocols.oidc.validator.Validator",
    "CLIENT_SECRET_HASHER": "argon2_client",
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,
    # Over HTTPS only https redirect URIs, unless AUTHFLOW_HTTP_REDIRECT_URIS allows http (native
    # apps' loopback redirects, RFC 8252); the embedded default allows it for local development.
    # Redirect URIs are matched exactly either way.
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https", "http"] if AUTHFLOW_HTTP_REDIRECT_URIS else ["https"],
    # RFC 9700 (OAuth 2.0 Security BCP): no implicit or password grant (they would also bypass
    # the login scripts), S256 PKCE only, no tokens in query strings, `iss` in authorization
    # responses (RFC 9207), tokens stored as hashes, a replayed refresh token revokes its family.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
}

# The management API (/api/v1/): JSON only, one error shape, an OpenAPI schema from the code.
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "authflow.api.errors.exception_handler",
    "DEFAULT_AUTHENTICATION_CLASSES": ["authflow.api.access.ApiTokenAuthentication",
                                       "authflow.api.access.StaffSessionAuthentication"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "authflow management API",
    "DESCRIPTION": "Scripts, versions, simulation, applications, users and the audit log. Authenticate with an "
                   "access token of an API client (client-credentials grant at /o/token/).",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "PREPROCESSING_HOOKS": ["authflow.api.docs.only_the_management_api"],
    # Every operation documents the error shape for the refusals any request can get (authflow/api/errors.py).
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
                             "authflow.api.errors.document_errors"],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "authflow.logging.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["console"], "level": os.environ.get("AUTHFLOW_LOG_LEVEL", "INFO")},
    "loggers": {"django": {"level": "WARNING"}},
}

# Custom authenticators (authflow/custom_authenticators): attempts per user and authenticator, for each of
# registration and authentication, in a window; past it the API answers 429. The per-registration limit of
# failed authentications in a row is each authenticator's own (max_failed_attempts).
AUTHFLOW_CUSTOM_AUTHENTICATOR_RATE_LIMIT = {
    "attempts": int(os.environ.get("AUTHFLOW_CUSTOM_AUTHENTICATOR_ATTEMPTS", "10")),
    "window_seconds": int(os.environ.get("AUTHFLOW_CUSTOM_AUTHENTICATOR_WINDOW_SECONDS", "60")),
}
# The client_ids that may use the token endpoint's custom authenticator grant (tokens for the factor alone).
AUTHFLOW_CUSTOM_AUTHENTICATOR_GRANT_CLIENTS = [
    c for c in os.environ.get("AUTHFLOW_CUSTOM_AUTHENTICATOR_GRANT_CLIENTS", "").split(",") if c]
