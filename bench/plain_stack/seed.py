"""Creates the plain stack's user and applications: `python -m plain_stack.seed USER PASSWORD CALLBACK CLIENT=SECRET...`."""
import os
import sys

import django


def main(username, password, callback, *clients):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "plain_stack.settings")
    django.setup()
    from django.contrib.auth.models import User
    from oauth2_provider.models import Application

    user, _ = User.objects.get_or_create(username=username, defaults={"email": "alice@example.com"})
    user.set_password(password)
    user.save()
    for pair in clients:
        client_id, secret = pair.split("=", 1)
        Application.objects.filter(client_id=client_id).delete()
        Application.objects.create(
            name=client_id, client_id=client_id, client_secret=secret, redirect_uris=callback,
            client_type=Application.CLIENT_CONFIDENTIAL, authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
            algorithm=Application.RS256_ALGORITHM, skip_authorization=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
