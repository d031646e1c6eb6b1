"""The account application: how people sign in to this server's own pages (the account page, the admin console).

It is the application named by AUTHFLOW_ACCOUNT_APPLICATION, configured like
any other.  When it does not exist, the first sign-in to these pages creates
it from account.yaml, so that a server never lets staff into the admin
console with a password alone: a password or a passkey, and for staff a
second factor too (an authenticator app or a passkey, set up on the spot).
From then on its steps and script are the administrators' to change.
"""
from __future__ import annotations

import logging
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction

from authflow.applications.models import Application

from .apply import apply_config
from .schema import parse

logger = logging.getLogger("authflow.configuration")

DEFAULT = Path(__file__).resolve().parent / "account.yaml"


def account_application() -> Application:
    """The account application, created with its default when missing; ConfigError when it cannot be."""
    name = settings.AUTHFLOW_ACCOUNT_APPLICATION
    application = Application.objects.filter(name=name).first()
    if application is not None:
        return application
    import yaml  # PyYAML: imported by the first use of a configuration, not by every worker

    data = yaml.safe_load(DEFAULT.read_text(encoding="utf-8"))
    data["applications"][0].update(name=name, client_id=name)
    config = parse(data)
    try:
        with transaction.atomic():
            apply_config(config)
    except IntegrityError:  # another request created it first
        pass
    else:
        logger.info("account application created with its default script", extra={"application": name})
    return Application.objects.get(name=name)
