"""Roles of users an identity provider provisions: granted when the account is made (provisioning_roles), and
mapped from a remote claim at every login (role_claim, role_mapping), with a real OpenID provider (oidc-provider).
"""
import io
import secrets

import pytest
import requests
import yaml
from authlib.integrations.requests_client import OAuth2Session
from django.core.management import call_command

from authflow.configuration.export import identity_provider_entry
from authflow.directory.claims import read_claims
from authflow.directory.models import Role, User
from authflow.federation.models import IdentityProvider
from tests.support.browser import Browser
from tests.support.config import CALLBACK, public_app
from tests.support.oidc_op import OpenIDProvider

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "roles-client-secret-" + "z" * 16
ACCOUNTS = {"ann": {"password": "ann-at-the-provider", "claims": {
    "preferred_username": "ann", "groups": ["corp-admins", "corp-unmapped"]}}}
SCRIPT = """
    var onLoginRequest = function (context) {
        executeStep(1, {authenticationOptions: [{idp: 'corproles'}]}, {
            onSuccess: function (context) {
                var user = context.steps[1].subject;
                user.localClaims['urn:test:is-admin'] = String(hasRole(user, 'admin'));
            }
        });
    };
"""


@pytest.fixture(scope="module")
def op(live_server, tmp_path_factory):
    provider = OpenIDProvider(tmp_path_factory.mktemp("op-roles"), accounts=ACCOUNTS, clients=[{
        "client_id": "authflow-roles", "client_secret": SECRET,
        "redirect_uris": [f"{live_server.url}/federation/oidc/corproles/callback/"]}]).start()
    yield provider
    provider.stop()


@pytest.fixture
def base(op, live_server, tmp_path):
    entry = {"name": "corproles", "issuer": op.issuer, "client_id": "authflow-roles", "client_secret": SECRET,
             "scopes": "openid profile groups", "user_policy": "provision", "username_claim": "preferred_username",
             "username_prefix": "r-", "provisioning_roles": ["employee"], "role_claim": "groups",
             "role_mapping": {"corp-admins": "admin", "corp-auditors": "auditor"}}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"roles": ["employee", "admin", "auditor", "staff"],
                                    "identity_providers": [entry]})
                    + "applications:\n" + public_app("shop", "{1: [{idp: corproles}]}", SCRIPT))
    call_command("apply", "-f", str(path), stdout=io.StringIO())
    return live_server.url


def sign_in(base, op):
    discovery = requests.get(base + "/o/.well-known/openid-configuration", timeout=30).json()
    browser = Browser(base, stop_at=CALLBACK)
    client = OAuth2Session("shop", None, scope="openid", redirect_uri=CALLBACK, code_challenge_method="S256")
    uri, _ = client.create_authorization_url(discovery["authorization_endpoint"],
                                             code_verifier=secrets.token_urlsafe(48))
    page = browser.get(uri)
    done = browser.submit({"login": "ann", "password": ACCOUNTS["ann"]["password"]}, url=page.url, keep=())
    assert done.callback and "code=" in done.callback, (done.status_code, done.text[:300])


def roles_of(username):
    return set(User.objects.get(username=username).roles.values_list("name", flat=True))


def test_a_provisioned_user_gets_the_provisioning_roles_and_the_roles_its_groups_map_to(op, base):
    sign_in(base, op)
    assert roles_of("r-ann") == {"employee", "admin"}
    # The script, run after the provider's step, sees the mapped role.
    assert read_claims(User.objects.get(username="r-ann"))["urn:test:is-admin"] == "true"


def test_each_login_takes_away_mapped_roles_the_claim_no_longer_names_and_keeps_the_others(op, base):
    sign_in(base, op)
    user = User.objects.get(username="r-ann")
    user.roles.remove(Role.objects.get(name="employee"))  # an administrator's change: provisioning is over
    user.roles.add(Role.objects.get(name="auditor"), Role.objects.get(name="staff"))
    sign_in(base, op)
    # auditor is mapped from a group ann is not in: taken away; staff is not the provider's to manage: kept;
    # employee is granted at provisioning only.
    assert roles_of("r-ann") == {"admin", "staff"}


def test_role_settings_round_trip_through_export_and_bad_ones_are_refused(op, base, tmp_path):
    entry = identity_provider_entry(IdentityProvider.objects.get(name="corproles"))
    assert entry["provisioning_roles"] == ["employee"] and entry["role_claim"] == "groups"
    assert entry["role_mapping"] == {"corp-admins": "admin", "corp-auditors": "auditor"}
    from django.core.management.base import CommandError

    for bad, message in ((dict(entry, role_mapping={"corp-admins": ["admin"]}), "role_mapping must map"),
                         (dict(entry, role_claim="", role_mapping={"a": "admin"}), "role_mapping needs role_claim"),
                         (dict(entry, provisioning_roles="employee"), "provisioning_roles")):
        bad.pop("client_secret_encrypted", None)
        path = tmp_path / "bad.yaml"
        path.write_text(yaml.safe_dump({"identity_providers": [dict(bad, client_secret=SECRET)]}))
        with pytest.raises(CommandError, match=message):
            call_command("apply", "-f", str(path), stdout=io.StringIO())
