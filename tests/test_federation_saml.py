"""Signing in with a federated SAML 2.0 identity provider: a real one (pysaml2's own IdP, tests/support/saml_idp/).

The browser goes to an application, through this server's login flow to the IdP with a signed AuthnRequest
(HTTP-Redirect), signs in there, and comes back with a signed Response (HTTP-POST to the ACS); the step
succeeds for the user the provider's policy gives, or fails into the script's onFail.  Tampered, misaddressed,
expired, replayed or unknown answers each end on a clear page, never a 500.
"""
import base64
import io
import secrets
import textwrap

import pytest
import requests
import yaml
from authlib.integrations.requests_client import OAuth2Session
from django.core.management import CommandError, call_command

from authflow.configuration.export import identity_provider_entry
from authflow.directory.claims import read_claims
from authflow.directory.models import FederatedAssociation, User
from authflow.federation.models import IdentityProvider
from tests.support.browser import Browser
from tests.support.totp import code_for
from tests.support.config import CALLBACK, public_app
from tests.support.saml_idp import SamlIdentityProvider

pytestmark = pytest.mark.django_db(transaction=True)

USERS = {"ann": {"password": "ann-at-the-idp", "attributes": {
    "uid": ["ann"], "mail": ["ann@example.com"], "givenName": ["Ann"], "sn": ["Lee"],
    "eduPersonAffiliation": ["member", "staff"]}}}
SCRIPT = """
    var onLoginRequest = function (context) {
        executeStep(1, {authenticationOptions: [{idp: 'corp'}]}, {
            onSuccess: function (context) {
                var user = context.steps[1].subject;
                user.localClaims['urn:test:idp'] = context.steps[1].idp;
                user.localClaims['urn:test:remote-mail'] = user.remoteClaims.mail;
            },
            onFail: function (context) {
                fail({errorCode: 'access_denied', errorMessage: 'onFail ran'});
            }
        });
    };
"""


@pytest.fixture(scope="module")
def idp(live_server, tmp_path_factory):
    provider = SamlIdentityProvider(tmp_path_factory.mktemp("saml-idp"), users=USERS,
                                    sp_metadata_url=f"{live_server.url}/federation/saml/corp/metadata/").start()
    yield provider
    provider.stop()


def saml_entry(idp, **changes):
    entry = {"name": "corp", "display_name": "Corp SAML", "protocol": "saml", "metadata_url": idp.metadata_url,
             "user_policy": "provision", "username_claim": "uid", "username_prefix": "saml-",
             "claim_mapping": {"mail": "http://wso2.org/claims/emailaddress",
                               "givenName": "http://wso2.org/claims/givenname"}}
    entry.update(changes)
    return entry


@pytest.fixture
def site(live_server, tmp_path, idp):
    idp.set_mode()

    def configure(entry=None, script=SCRIPT):
        text = yaml.safe_dump({"roles": ["employee", "staff-role", "faculty-role"],
                               "identity_providers": [entry or saml_entry(idp)]}) + "applications:\n" + public_app(
            "shop", "{1: [{idp: corp, authenticator: SAMLSSOAuthenticator}]}", script)
        path = tmp_path / "config.yaml"
        path.write_text(text)
        call_command("apply", "-f", str(path), stdout=io.StringIO())
        return live_server.url
    return configure


def begin(base):
    discovery = requests.get(base + "/o/.well-known/openid-configuration", timeout=30).json()
    browser = Browser(base, stop_at=CALLBACK)
    client = OAuth2Session("shop", None, scope="openid", redirect_uri=CALLBACK, code_challenge_method="S256")
    uri, _ = client.create_authorization_url(discovery["authorization_endpoint"],
                                             code_verifier=secrets.token_urlsafe(48))
    return browser, browser.get(uri)


def answer_from_idp(browser, page, idp):
    """Sign in at the IdP; the fields of the auto-submitting form it answers with (SAMLResponse, RelayState)."""
    assert page.url.startswith(idp.base + "/sso"), (page.status_code, page.url, page.text[:500])
    assert "Test IdP sign-in" in page.text
    browser.submit({"username": "ann", "password": USERS["ann"]["password"]}, url=idp.base + "/login",
                   keep=("id", "sp", "acs", "relay_state"))
    fields = browser.hidden_fields()
    assert "SAMLResponse" in fields and "RelayState" in fields, browser.page.text[:500]
    return fields



def _post(browser, base, fields):
    response = browser.session.post(f"{base}/federation/saml/corp/acs/", data=fields, allow_redirects=False,
                                    timeout=30)
    return browser._follow(response)


def test_a_login_through_the_idp_provisions_the_user_with_the_mapped_attributes(site, idp, live_server):
    base = site()
    provider = IdentityProvider.objects.get(name="corp")
    assert provider.encrypted_sp_key and "PRIVATE KEY" not in provider.encrypted_sp_key
    metadata = requests.get(f"{base}/federation/saml/corp/metadata/", timeout=10)
    assert metadata.status_code == 200 and "AssertionConsumerService" in metadata.text
    assert f"{base}/federation/saml/corp/acs/" in metadata.text and "PRIVATE" not in metadata.text

    browser, page = begin(base)
    sent = idp.last_request()
    # The AuthnRequest was signed with the key in our SP metadata (the IdP checked it) and names our ACS.
    assert sent["signed"] is True and sent["acs"] == f"{base}/federation/saml/corp/acs/"
    assert sent["issuer"] == f"{base}/federation/saml/corp/metadata/" and len(sent["relay_state"]) >= 32
    assert sent["sig_alg"] == "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    assert sent["nameid_format"] == "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
    fields = answer_from_idp(browser, page, idp)
    done = _post(browser, base, fields)
    assert done.callback and "code=" in done.callback, (done.status_code, done.text[:1000])
    user = User.objects.get(username="saml-ann")
    assert (user.email, user.first_name, user.has_usable_password()) == ("ann@example.com", "Ann", False)
    claims = read_claims(user)
    assert claims["urn:test:idp"] == "corp" and claims["urn:test:remote-mail"] == "ann@example.com"
    assert FederatedAssociation.objects.get(idp="corp", subject="corp:ann").user == user

    # The same answer posted again: its RelayState was used, so it belongs to no sign-in.
    again = _post(Browser(base, stop_at=CALLBACK), base, fields)
    assert again.status_code == 400 and "not valid" in again.text


def failed_login(base, fields_changer, idp):
    browser, page = begin(base)
    fields = answer_from_idp(browser, page, idp)
    done = _post(browser, base, fields_changer(fields))
    assert done.status_code < 500, done.text[:1000]
    return done


def assert_on_fail(done, caplog, reason):
    # onFail ran: the script's fail() sends the application an access_denied error.
    assert done.callback and "error=access_denied" in done.callback, (done.status_code, done.text[:1000])
    assert not User.objects.filter(username="saml-ann").exists()
    # ... for the reason the test provoked, not another one.
    refused = [r.reason for r in caplog.records if r.getMessage() == "SAML response refused"]
    assert refused and reason in refused[-1], refused


def tamper(fields):
    xml = base64.b64decode(fields["SAMLResponse"]).decode()
    assert "ann@example.com" in xml
    changed = xml.replace("ann@example.com", "eve@example.com")
    return {**fields, "SAMLResponse": base64.b64encode(changed.encode()).decode()}


def test_a_tampered_assertion_fails_the_step(site, idp, caplog):
    done = failed_login(site(), tamper, idp)
    assert_on_fail(done, caplog, "signature does not verify")


def test_an_assertion_for_another_audience_fails_the_step(site, idp, caplog):
    base = site()
    idp.set_mode(audience="https://other-sp.example/metadata")
    assert_on_fail(failed_login(base, lambda f: f, idp), caplog, "another service (audience)")


def test_an_expired_assertion_fails_the_step(site, idp, caplog):
    base = site()
    idp.set_mode(clock_offset_minutes=-30)  # valid from 30 to 25 minutes ago
    assert_on_fail(failed_login(base, lambda f: f, idp), caplog, "expired")


def test_a_response_signed_with_sha1_fails_the_step(site, idp, caplog):
    base = site()
    idp.set_mode(sha1=True)
    browser, page = begin(base)
    fields = answer_from_idp(browser, page, idp)
    assert "xmldsig#rsa-sha1" in base64.b64decode(fields["SAMLResponse"]).decode()
    done = _post(browser, base, fields)
    assert done.callback and "error=access_denied" in done.callback, (done.status_code, done.text[:1000])
    assert not User.objects.filter(username="saml-ann").exists()


def test_a_response_that_is_not_xml_fails_the_step_and_an_xml_bomb_is_not_expanded(site, idp):
    base = site()
    bomb = ('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
            '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&b;</samlp:Response>')
    for bad in ("not base64 at all!", base64.b64encode(b"<unclosed").decode(), base64.b64encode(bomb.encode()).decode()):
        browser, page = begin(base)
        fields = answer_from_idp(browser, page, idp)
        done = _post(browser, base, {**fields, "SAMLResponse": bad})
        assert done.callback and "error=access_denied" in done.callback, (done.status_code, done.text[:1000])


def test_an_assertion_not_valid_yet_beyond_the_skew_fails_the_step(site, idp, caplog):
    base = site()
    idp.set_mode(clock_offset_minutes=5)  # the IdP's clock 5 minutes ahead: more than the minute of skew
    assert_on_fail(failed_login(base, lambda f: f, idp), caplog, "not valid yet")


def test_a_response_to_another_request_is_refused(site, idp, caplog):
    """A genuine answer replayed into a new sign-in (a new RelayState): InResponseTo names the old request."""
    base = site()
    browser, page = begin(base)
    old = answer_from_idp(browser, page, idp)
    browser2, page2 = begin(base)
    new = answer_from_idp(browser2, page2, idp)
    done = _post(browser2, base, {"SAMLResponse": old["SAMLResponse"], "RelayState": new["RelayState"]})
    assert_on_fail(done, caplog, "does not answer this sign-in's request")


def test_an_unknown_relay_state_is_a_clear_page(site, idp):
    base = site()
    browser, page = begin(base)
    fields = answer_from_idp(browser, page, idp)
    done = _post(browser, base, {**fields, "RelayState": secrets.token_urlsafe(32)})
    assert done.status_code == 400 and "does not belong to a sign-in" in done.text
    assert _post(browser, base, {"RelayState": "x"}).status_code == 400
    # Another browser (the flow's cookie missing) with the genuine RelayState: refused, nothing signed in.
    browser2, page2 = begin(base)
    fields2 = answer_from_idp(browser2, page2, idp)
    stranger = Browser(base, stop_at=CALLBACK)
    done = _post(stranger, base, fields2)
    assert done.status_code == 403 and not User.objects.filter(username="saml-ann").exists()


def test_an_assertion_id_is_accepted_once(site, idp):
    """The replay store: an assertion id seen before is refused until it expires."""
    from types import SimpleNamespace

    from authflow.federation import saml
    from authflow.federation.oidc import ProviderError

    site()
    provider = IdentityProvider.objects.get(name="corp")
    assertion = SimpleNamespace(id="_" + secrets.token_hex(16), conditions=SimpleNamespace(
        not_on_or_after="2999-01-01T00:00:00Z"))
    saml._accept_once(provider, assertion)
    with pytest.raises(ProviderError, match="replay"):
        saml._accept_once(provider, assertion)


def test_settings_apply_and_export_round_trip(site, idp, tmp_path):
    site()
    provider = IdentityProvider.objects.get(name="corp")
    entry = identity_provider_entry(provider)
    assert entry["protocol"] == "saml" and entry["metadata_url"] == idp.metadata_url and "issuer" not in entry
    assert "sp_key" not in str(entry) and "PRIVATE" not in str(entry)
    path = tmp_path / "again.yaml"
    path.write_text(yaml.safe_dump({"identity_providers": [entry]}))
    out = io.StringIO()
    call_command("apply", "-f", str(path), stdout=out)
    assert "identity providers unchanged" in out.getvalue() or "created" not in out.getvalue()
    for bad, message in (({"issuer": "https://x.example"}, "only for protocol: oidc"),
                         ({"metadata_xml": "<x/>"}, "metadata_url or metadata_xml"),
                         ({"metadata_url": "ftp://x"}, "https")):
        path.write_text(yaml.safe_dump({"identity_providers": [{**saml_entry(idp), **bad}]}))
        with pytest.raises(CommandError, match=message):
            call_command("apply", "-f", str(path), stdout=io.StringIO(), stderr=io.StringIO())


def test_inline_metadata_works_like_a_metadata_url(site, idp):
    site()  # the IdP reads the SP's metadata before it serves its own
    xml = requests.get(idp.metadata_url, timeout=10).text
    base = site(saml_entry(idp, metadata_url=None, metadata_xml=xml, entity_id=idp.metadata_url))
    browser, page = begin(base)
    done = _post(browser, base, answer_from_idp(browser, page, idp))
    assert done.callback and "code=" in done.callback, (done.status_code, done.text[:1000])
    assert User.objects.filter(username="saml-ann").exists()


def test_an_idp_whose_metadata_cannot_be_fetched_fails_the_step(site, idp):
    from tests.support.oidc_op import free_port

    base = site(saml_entry(idp, metadata_url=f"http://127.0.0.1:{free_port()}/metadata"))
    browser, page = begin(base)
    assert page.callback and "error=access_denied" in page.callback, (page.status_code, page.text[:1000])


# The script asks a user who came through the provider for a local second factor (an authenticator app).
FEDERATED_THEN_TOTP = """
var onLoginRequest = function (context) {
    executeStep(1, {
        onSuccess: function (context) {
            if (context.steps[1].idp === 'corp') {
                executeStep(2, {authenticationOptions: [{authenticator: 'totp'}]}, {});
            }
        }
    });
};
"""


def test_chromium_signs_in_to_the_demo_through_the_idp(site, idp, live_server, tmp_path, settings):
    """A real browser: the IdP (another site) posts back cross-site, where SameSite=Lax cookies are not sent;
    the ACS parks the answer and the browser's own GET that follows finishes the sign-in."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    from tests.support.chromium import launch, screenshot

    path = tmp_path / "demo.yaml"
    path.write_text(yaml.safe_dump({
        "identity_providers": [saml_entry(idp)],
        "applications": [{"name": "demo", "client_id": "demo-client", "client_type": "public",
                          "redirect_uris": [live_server.url + "/demo/callback"],
                          "steps": {1: ["BasicAuthenticator", {"idp": "corp"}], 2: ["totp"]},
                          "script": FEDERATED_THEN_TOTP}]}))
    call_command("apply", "-f", str(path), stdout=io.StringIO())
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page()
            page.goto(live_server.url + "/demo/")
            page.get_by_role("button", name="Sign in").click()
            page.get_by_role("link", name="Sign in with Corp SAML").click()
            page.wait_for_selector("input[name=username]")
            screenshot(page, "saml-01-at-the-idp")
            assert page.url.startswith(idp.base)
            page.fill("input[name=username]", "ann")
            page.fill("input[name=password]", USERS["ann"]["password"])
            page.get_by_role("button", name="Sign in").click()
            # Back here: the script asks for a local TOTP, which the provisioned account sets up on the spot.
            page.wait_for_selector("text=Set up your authenticator app")
            assert page.url.startswith(live_server.url), page.url
            screenshot(page, "saml-02-local-totp")
            page.fill("input[name=code]", code_for(page.inner_text("#totp-secret")))
            page.get_by_role("button", name="Set up and continue").click()
            page.wait_for_selector("#backup-codes")
            page.get_by_role("button", name="I have saved them, continue").click()
            page.wait_for_selector("#signed-in-as")
            screenshot(page, "saml-03-back-at-the-demo")
            assert page.inner_text("#signed-in-as") == "saml-ann"
            claims = page.inner_text("#claims")
            assert "ann@example.com" in claims and "otp" in claims
        finally:
            browser.close()


def test_administrators_add_a_saml_provider_whose_sp_key_is_never_shown(admin_client):
    form = {"name": "corp", "display_name": "Corp SAML", "enabled": "on", "protocol": "saml", "issuer": "",
            "client_id": "", "client_secret": "", "client_auth_method": "client_secret_basic",
            "scopes": "openid profile email", "extra_params": "{}", "claim_mapping": "{}", "user_policy": "provision",
            "username_claim": "uid", "username_prefix": "", "saml_metadata_url": "", "saml_metadata_xml": "",
            "saml_entity_id": "", "saml_nameid_format": "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"}
    refused = admin_client.post("/admin/federation/identityprovider/add/", form)
    assert refused.status_code == 200 and "metadata URL or its metadata XML" in refused.content.decode()
    form["saml_metadata_url"] = "https://idp.example/metadata"
    added = admin_client.post("/admin/federation/identityprovider/add/", form)
    assert added.status_code == 302, added.content.decode()[:2000]
    provider = IdentityProvider.objects.get(name="corp")
    assert provider.protocol == "saml" and provider.sp_certificate.startswith("-----BEGIN CERTIFICATE-----")
    assert b"PRIVATE KEY" in provider.sp_key_pem()
    page = admin_client.get(f"/admin/federation/identityprovider/{provider.pk}/change/").content.decode()
    assert provider.encrypted_sp_key not in page and "PRIVATE KEY" not in page
    # An OpenID Connect provider still needs its issuer and client id.
    refused = admin_client.post("/admin/federation/identityprovider/add/", {**form, "name": "other", "protocol": "oidc"})
    assert refused.status_code == 200 and "An OpenID Connect provider needs this." in refused.content.decode()


def test_the_management_api_writes_and_reads_a_saml_provider(idp):
    from tests.support.api import api_client

    client = api_client("identity_providers:read", "identity_providers:write")
    entry = saml_entry(idp)
    created = client.post("/api/v1/identity-providers/", entry, format="json")
    assert created.status_code == 201, created.content.decode()[:1000]
    read = client.get("/api/v1/identity-providers/corp/").json()
    assert read["protocol"] == "saml" and read["metadata_url"] == idp.metadata_url and "PRIVATE" not in str(read)
    assert IdentityProvider.objects.get(name="corp").encrypted_sp_key
    refused = client.post("/api/v1/identity-providers/", {**entry, "name": "bad", "client_id": "x"}, format="json")
    assert refused.status_code == 400 and "only for protocol: oidc" in refused.content.decode()


# ---------------------------------------------------------------- single logout

def signed_in(base, idp):
    """A browser signed in here through the IdP (the application got its code)."""
    browser, page = begin(base)
    done = _post(browser, base, answer_from_idp(browser, page, idp))
    assert done.callback and "code=" in done.callback, (done.status_code, done.text[:1000])
    return browser


def test_signing_out_here_sends_a_signed_logout_request_to_the_idp_and_checks_its_answer(site, idp):
    from authflow.federation.models import UpstreamSession
    from authflow.sso.models import UserSession

    base = site()
    metadata = requests.get(f"{base}/federation/saml/corp/metadata/", timeout=10).text
    assert "SingleLogoutService" in metadata and f"{base}/federation/saml/corp/slo/" in metadata
    browser = signed_in(base, idp)
    row = UpstreamSession.objects.get()
    assert row.subject == "ann" and row.sid == idp.last_logout()["sessions"]["ann"]
    browser.get(base + "/account/")
    done = browser.submit({}, url=f"{base}/account/sign-out/", keep=("csrfmiddlewaretoken",))
    sent = idp.last_logout()
    # The IdP checked our signature, and the request named the user and the session it signed in.
    assert sent["signed"] is True and sent["name_id"] == "ann" and sent["session_indexes"] == [row.sid]
    assert "ann" not in sent["sessions"]
    # Its signed LogoutResponse was accepted here, and the browser went on to where the sign-out was going.
    assert done.url == f"{base}/account/signed-out/" and "You are signed out" in done.text
    assert UserSession.objects.get().ended_at is not None


def test_an_unsigned_or_replayed_logout_response_gets_a_clear_page(site, idp):
    base = site()
    browser = signed_in(base, idp)
    idp.set_mode(unsigned_logout=True)
    browser.get(base + "/account/")
    browser.stop_at = f"{base}/federation/saml/corp/slo/"
    back = browser.submit({}, url=f"{base}/account/sign-out/", keep=("csrfmiddlewaretoken",))
    assert back.callback and "SAMLResponse=" in back.callback and "Signature=" not in back.callback
    browser.stop_at = CALLBACK
    refused = browser.get(back.callback)
    assert refused.status_code == 400 and "not signed" in refused.text and "You are signed out" in refused.text
    replayed = browser.get(back.callback)  # its RelayState was used by that attempt
    assert replayed.status_code == 400 and "This sign-out response is not valid" in replayed.text


def test_the_idp_signing_the_user_out_ends_the_sessions_its_login_created(site, idp):
    from authflow.sso.models import UserSession

    base = site()
    browser = signed_in(base, idp)
    assert browser.get(base + "/account/").status_code == 200
    # The IdP's own LogoutRequest (front channel, signed) arrives here; our signed answer goes back to it.
    done = browser.get(idp.logout_url("ann"))
    assert done.status_code == 200 and "Test IdP: signed out" in done.text, done.text[:500]
    answer = idp.last_logout()
    assert answer["in_response_to"] == answer["request_id"] and answer["response_signed"] is True
    assert answer["status"] == "urn:oasis:names:tc:SAML:2.0:status:Success"
    assert UserSession.objects.get().end_reason == "signed out at corp"
    assert browser.get(base + "/account/").url.startswith(f"{base}/login/")


def test_an_unsigned_or_unknown_idp_logout_request_ends_nothing_and_gets_a_clear_page(site, idp):
    from authflow.sso.models import UserSession

    base = site()
    browser = signed_in(base, idp)
    idp.set_mode(unsigned_logout=True)
    refused = browser.get(idp.logout_url("ann"))
    assert refused.status_code == 400 and "not signed" in refused.text
    idp.set_mode()
    other = browser.get(idp.logout_url("nobody", session_index="unknown"))  # valid, but names no session here
    assert other.status_code == 200 and idp.last_logout()["status"].endswith(":Success")
    assert UserSession.objects.get().ended_at is None
    assert browser.get(base + "/account/").status_code == 200
    empty = browser.get(f"{base}/federation/saml/corp/slo/")
    assert empty.status_code == 400 and "carries no SAML request or response" in empty.text



# ---------------------------------------------------------------- roles and authenticatorParams

def test_a_provisioned_user_gets_roles_from_the_provisioning_list_and_every_value_of_the_role_attribute(site, idp):
    base = site(saml_entry(idp, provisioning_roles=["employee"], role_claim="eduPersonAffiliation",
                           role_mapping={"staff": "staff-role", "faculty": "faculty-role"}))
    signed_in(base, idp)
    user = User.objects.get(username="saml-ann")
    # "staff" is ann's second affiliation: every value of the role attribute counts.
    assert set(user.roles.values_list("name", flat=True)) == {"employee", "staff-role"}


def test_authenticator_params_reach_the_idp_as_authn_request_flags_and_extra_query_parameters(site, idp):
    script = """
        var onLoginRequest = function (context) {
            executeStep(1, {authenticationOptions: [{idp: 'corp'}], authenticatorParams: {federated: {corp: {
                ForceAuthn: true, AuthnContextClassRef: 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport',
                login_hint: 'ann@corp.example', RelayState: 'chosen-by-script', SAMLRequest: 'x'}}}});
        };
    """
    base = site(script=script)
    browser, page = begin(base)
    sent = idp.last_request()
    assert sent["signed"] is True  # the signature still covers the request and its RelayState
    assert sent["force_authn"] == "true" and sent["is_passive"] is None
    assert sent["authn_context"] == ["urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"]
    assert sent["extra_query"] == {"login_hint": "ann@corp.example"}
    assert sent["relay_state"] != "chosen-by-script"
    done = _post(browser, base, answer_from_idp(browser, page, idp))
    assert done.callback and "code=" in done.callback


def test_prompt_none_asks_the_idp_for_a_passive_sign_in(site, idp):
    base = site(script="""
        var onLoginRequest = function (context) {
            executeStep(1, {authenticationOptions: [{idp: 'corp'}],
                            authenticatorParams: {common: {prompt: 'none'}}});
        };
    """)
    begin(base)
    sent = idp.last_request()
    assert sent["is_passive"] == "true" and sent["force_authn"] is None and sent["extra_query"] == {}


def test_an_idp_without_a_logout_service_is_skipped_when_signing_out(site, idp):
    import re

    from authflow.sso.models import UserSession

    site()  # the IdP reads our SP metadata to make its own
    xml = re.sub(r"<[^>]*SingleLogoutService[^>]*/>", "", requests.get(idp.metadata_url, timeout=10).text)
    assert "SingleLogoutService" not in xml
    base = site(saml_entry(idp, metadata_url=None, metadata_xml=xml))
    browser = signed_in(base, idp)
    browser.get(base + "/account/")
    done = browser.submit({}, url=f"{base}/account/sign-out/", keep=("csrfmiddlewaretoken",))
    assert done.url == f"{base}/account/signed-out/" and len(browser.trail) == 2  # straight there
    assert UserSession.objects.get().ended_at is not None
