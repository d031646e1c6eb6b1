"""`manage.py create_api_client NAME --scopes sequences:read sequences:write`: an OAuth client for the API.

Prints the client id and a new secret once (only its hash is stored); the
client gets access tokens at /o/token/ with the client-credentials grant,
for the scopes listed here and no others.
"""
import secrets

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from oauth2_provider.models import get_application_model

from authflow.api.models import ApiClient
from authflow.api.scopes import API_SCOPES


class Command(BaseCommand):
    help = "Create an API client (client-credentials grant) allowed the given scopes; prints its secret once."

    def add_arguments(self, parser):
        parser.add_argument("name", help="a name for the client (its client_id unless --client-id)")
        parser.add_argument("--scopes", nargs="+", required=True, help=f"any of: {', '.join(API_SCOPES)}")
        parser.add_argument("--client-id", help="the client_id (default: the name)")

    @transaction.atomic
    def handle(self, *args, name, scopes, client_id=None, **options):
        scopes = list(dict.fromkeys(s for scope in scopes for s in scope.replace(",", " ").split()))
        unknown = [s for s in scopes if s not in API_SCOPES]
        if unknown:
            raise CommandError(f"unknown scope(s) {', '.join(unknown)} (known: {', '.join(API_SCOPES)})")
        Client = get_application_model()
        client_id = client_id or name
        if Client.objects.filter(client_id=client_id).exists():
            raise CommandError(f"a client with client_id {client_id!r} already exists")
        secret = secrets.token_urlsafe(32)
        client = Client.objects.create(name=f"API: {name}", client_id=client_id, client_secret=secret,
                                       client_type=Client.CLIENT_CONFIDENTIAL,
                                       authorization_grant_type=Client.GRANT_CLIENT_CREDENTIALS, redirect_uris="")
        ApiClient.objects.create(oauth_client=client, scopes=scopes)
        self.stdout.write(f"client_id: {client_id}\nclient_secret: {secret}\nscopes: {' '.join(scopes)}\n"
                          "(the secret is shown only now)")
