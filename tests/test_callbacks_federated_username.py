"""getUserName: the callbacks script of the application a federated login is for names the user it provisions."""
import io
import textwrap

import pytest
import yaml
from django.core.management import call_command

from authflow.directory.models import FederatedAssociation, User
from tests.support.config import public_app
from tests.test_federation_oidc import ONE_PROVIDER_SCRIPT, begin, op, provider_entry, sign_in_at_provider  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)

GET_USER_NAME = """
    function getUserName(theOidcUserInfoMap, theServerInfo) {
      if (theServerInfo.name === 'corpnone') theServerInfo.nothing.here = 1;
      if (theServerInfo.name === 'corpwrong') return 42;
      if (theServerInfo.name === 'corppost') return 'has spaces in it';
      return 'EXT_' + theServerInfo.name + '_' + theOidcUserInfoMap.preferred_username + '_' + theOidcUserInfoMap.email;
    }
"""


@pytest.fixture
def site(live_server, tmp_path):
    def configure(provider, callbacks_script):
        app = public_app("shop", "{1: [{idp: %s, authenticator: OpenIDConnectAuthenticator}]}" % provider["name"],
                         ONE_PROVIDER_SCRIPT % {"idp": provider["name"]})
        if callbacks_script is not None:
            keys = next(line for line in app.splitlines() if "client_id:" in line).split("client_id:")[0]
            app += keys + "callbacks_script: |\n" + textwrap.indent(textwrap.dedent(callbacks_script).strip("\n"),
                                                                    keys + "  ") + "\n"
        path = tmp_path / "config.yaml"
        path.write_text(yaml.safe_dump({"identity_providers": [provider]}) + "applications:\n" + app)
        call_command("apply", "-f", str(path), stdout=io.StringIO())
        return live_server.url
    return configure


def test_get_user_name_names_the_provisioned_user_and_the_link_keeps_it(op, site):
    base = site(provider_entry(op, "corp"), GET_USER_NAME)
    browser, page = begin(base)
    done = sign_in_at_provider(browser, page, op)
    assert done.callback and "code=" in done.callback, (done.status_code, done.text[:500])
    user = User.objects.get(username="EXT_corp_ann_ann@example.com")
    assert FederatedAssociation.objects.get(idp="corp", subject="corp:ann").user == user
    assert not User.objects.filter(username="corp-ann").exists()  # username_claim/prefix were not used

    browser, page = begin(base)
    done = sign_in_at_provider(browser, page, op)
    assert done.callback and "code=" in done.callback
    assert User.objects.filter(username__startswith="EXT_").count() == 1


def test_without_get_user_name_the_providers_username_claim_still_names_the_user(op, site):
    base = site(provider_entry(op, "corp"), "function onPostAuthorize(theDetails) {}")
    browser, page = begin(base)
    done = sign_in_at_provider(browser, page, op)
    assert done.callback and "code=" in done.callback, (done.status_code, done.text[:500])
    assert User.objects.filter(username="corp-ann").exists()


@pytest.mark.parametrize("name, logged", [("corpnone", "getUserName failed: TypeError"),
                                           ("corpwrong", "getUserName returned number, not a string"),
                                           ("corppost", None)])
def test_a_failing_or_unusable_get_user_name_fails_the_step_into_on_fail(op, site, name, logged, caplog):
    base = site(provider_entry(op, name), GET_USER_NAME)
    browser, page = begin(base)
    done = sign_in_at_provider(browser, page, op)
    assert done.status_code != 500
    # The step failed: the script's onFail refused the login (access_denied), and no one was provisioned.
    assert done.callback and "error=access_denied" in done.callback, (done.status_code, done.text[:500])
    assert "onFail+ran" in done.callback or "onFail%20ran" in done.callback
    assert not FederatedAssociation.objects.filter(idp=name).exists()
    assert User.objects.count() == 0
    if logged:
        assert any(logged in r.getMessage() for r in caplog.records), [r.getMessage() for r in caplog.records]


def test_simulate_runs_get_user_name_and_reports_a_non_string():
    from sequences.harness.callbacks import simulate_callback

    inputs = {"claims": {"preferred_username": "ann", "email": "ann@example.com"},
              "server": {"name": "corp", "issuer": "https://idp.example"}}
    trace, code = simulate_callback(GET_USER_NAME, {"callback": "getUserName", "inputs": inputs})
    assert code == 0 and trace["result"] == {"username": "EXT_corp_ann_ann@example.com"}
    trace, code = simulate_callback(GET_USER_NAME, {"callback": "getUserName",
                                                    "inputs": {**inputs, "server": {"name": "corpwrong"}}})
    assert code == 0 and trace["result"] == {"username": None, "returned": "number"}
