"""Second factors a user sets up: TOTP devices and backup codes (django-otp devices, secrets kept encrypted or hashed)."""
