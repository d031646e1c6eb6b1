"""The authenticator plugin registry: built-ins found by module, a settings list replacing them."""
import pytest

from authflow.authenticators import registry
from authflow.authenticators.base import Authenticator

# The registry also looks up custom authenticators (configuration in the database).
pytestmark = pytest.mark.django_db


class PinAuthenticator(Authenticator):
    name = "pin"
    display_name = "PIN"
    template = "login/totp.html"


@pytest.fixture
def fresh_registry():
    registry._plugins.cache_clear()
    yield
    registry._plugins.cache_clear()


def test_every_module_of_the_package_that_defines_one_is_a_plugin(fresh_registry):
    names = {registry.get(n).name for n in registry.names() if registry.get(n)}
    assert {"BasicAuthenticator", "IdentifierExecutor", "SessionExecutor", "totp",
            "backup-code-authenticator"} <= names
    assert registry.get("x509CertificateAuthenticator") is None and registry.is_known("x509CertificateAuthenticator")
    assert registry.display_name("totp") == "Authenticator app"


def test_a_settings_list_replaces_the_built_ins(fresh_registry, settings):
    settings.AUTHFLOW_AUTHENTICATORS = ["tests.test_authenticators.PinAuthenticator",
                                        "authflow.authenticators.basic.BasicAuthenticator"]
    assert registry.get("pin").display_name == "PIN" and registry.is_known("pin")
    assert registry.get("totp") is None and registry.is_known("totp")  # still a name of the reference API
    assert not registry.is_known("nope")
