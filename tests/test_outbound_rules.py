"""The rules of outbound calls without a worker: the allow-list, what a flow stores, the admin console."""
import pytest
from django.core.exceptions import ValidationError

from authflow.outbound import allowlist
from authflow.outbound.calls import stored_command
from authflow.outbound.models import AllowedEndpoint, allowed


def endpoint(url):
    return allowlist.normalise(url, prefix=True)


@pytest.mark.parametrize("prefix, url, expected", [
    ("https://risk.example.com/api", "https://risk.example.com/api", True),
    ("https://risk.example.com/api", "https://risk.example.com/api/score?user=alice", True),
    ("https://risk.example.com/api", "https://risk.example.com/apix/score", False),
    ("https://risk.example.com/api/", "https://risk.example.com/api", False),
    ("https://risk.example.com/api/", "https://risk.example.com/api/v2/x", True),
    ("https://risk.example.com", "https://risk.example.com/anything/at/all", True),
    ("https://risk.example.com/api", "http://risk.example.com/api/score", False),  # scheme
    ("https://risk.example.com/api", "https://risk.example.com:8443/api/score", False),  # port
    ("https://risk.example.com/api", "https://risk.example.com:443/api/score", True),  # the default port
    ("https://risk.example.com/api", "https://RISK.Example.COM./api/score", True),  # case, trailing dot
    ("https://risk.example.com/api", "https://api.risk.example.com/api/score", False),  # no wildcard subdomains
    ("https://risk.example.com/api", "https://risk.example.com.evil.test/api/score", False),
    ("https://risk.example.com/api", "https://risk.example.com/api/../admin", False),  # dot segments resolved
    ("https://risk.example.com/api", "https://risk.example.com/api/./v1/../score", True),
    ("https://risk.example.com/api", "https://risk.example.com/api/score#../../admin", True),  # fragment dropped
    ("http://[::1]:8080/api", "http://[0:0::1]:8080/api/x", False),  # literal, not resolved or canonicalised
    ("http://[::1]:8080/api", "http://[::1]:8080/api/x", True),
    ("https://bücher.example/api", "https://xn--bcher-kva.example/api/x", True),  # IDNA
])
def test_an_allowed_endpoint_covers_its_origin_and_the_paths_below_it(prefix, url, expected):
    assert allowlist.covered(allowlist.normalise(url), [endpoint(prefix)]) is expected


@pytest.mark.parametrize("url", [
    "ftp://risk.example.com/api", "javascript:alert(1)", "file:///etc/passwd", "//risk.example.com/api",
    "https://user:pw@risk.example.com/api", "https://risk.example.com@evil.test/api",
    "https://risk.example.com/api/%2e%2e/admin", "https://risk.example.com/api/%2E./admin",
    "https://risk.example.com/api%2fadmin", "https://risk.example.com/api\\..\\admin",
    "https://risk.example.com/api /x", "https://risk.example.com/api\n/x", "https://risk.example.com:99999/",
    "https:///api", "https://exa mple.com/", "https://" + "a" * 3000 + ".com/", 42, None,
])
def test_urls_a_script_can_never_call(url):
    with pytest.raises(allowlist.NotAllowed):
        allowlist.normalise(url)


def test_the_normalised_url_is_the_one_requested():
    address = allowlist.normalise("HTTPS://Risk.Example.com:443/api/./v1/../score?user=a%20b&x=1#frag")
    assert address.url == "https://risk.example.com/api/score?user=a%20b&x=1"
    assert allowlist.normalise("http://127.0.0.1:8080").url == "http://127.0.0.1:8080/"


@pytest.mark.django_db
def test_endpoints_are_stored_normalised_and_bad_ones_are_refused():
    stored = AllowedEndpoint(url=" HTTPS://Risk.Example.com:443/api/v1/../v2 ")
    stored.full_clean()
    stored.save()
    assert stored.url == "https://risk.example.com/api/v2"
    for bad in ["https://*.example.com/", "https://risk.example.com/api?key=1", "ftp://files.example.com/",
                "https://user:pw@risk.example.com/"]:
        with pytest.raises(ValidationError):
            AllowedEndpoint(url=bad).full_clean()
    assert allowed(allowlist.normalise("https://risk.example.com/api/v2/score"))
    assert not allowed(allowlist.normalise("https://risk.example.com/api/v1/score"))
    AllowedEndpoint.objects.filter(pk=stored.pk).update(enabled=False)
    assert not allowed(allowlist.normalise("https://risk.example.com/api/v2/score"))


def test_the_pending_command_keeps_no_headers_body_or_credentials():
    command = {"type": "call", "function": "httpPost", "method": "POST", "url": "https://risk.example.com/api",
               "headers": {"Authorization": "Bearer t"}, "body": {"password": "p"},
               "authConfig": {"type": "basicauth", "properties": {"username": "u", "password": "p"}}, "position": 3}
    assert stored_command(command) == {"type": "call", "function": "httpPost", "method": "POST",
                                       "url": "https://risk.example.com/api", "position": 3}
    analytics = {"type": "call", "function": "callAnalytics", "metadata": {"a": 1}, "payload": {"b": 2}, "position": 1}
    assert stored_command(analytics) == {"type": "call", "function": "callAnalytics", "position": 1}
    step = {"type": "step", "step": 1, "options": [], "position": 0}
    assert stored_command(step) is step


@pytest.mark.django_db
def test_administrators_edit_the_allow_list_in_the_admin_console(admin_client):
    page = admin_client.get("/admin/outbound/allowedendpoint/add/")
    assert page.status_code == 200 and "No wildcards" in page.content.decode()
    refused = admin_client.post("/admin/outbound/allowedendpoint/add/", {"url": "https://*.example.com/",
                                                                          "description": "", "enabled": "on"})
    assert refused.status_code == 200 and "not a valid host name" in refused.content.decode()
    added = admin_client.post("/admin/outbound/allowedendpoint/add/", {"url": "https://Risk.Example.com/api",
                                                                        "description": "risk engine", "enabled": "on"})
    assert added.status_code == 302
    assert AllowedEndpoint.objects.get().url == "https://risk.example.com/api"
    assert admin_client.get("/admin/outbound/outboundcall/").status_code == 200
    assert admin_client.get("/admin/outbound/outboundcall/add/").status_code == 403


@pytest.mark.parametrize("host, peer, allowed", [
    ("api.example.com", "93.184.216.34", True),       # a public address
    ("api.example.com", "127.0.0.1", False),          # loopback
    ("api.example.com", "10.1.2.3", False),           # private
    ("api.example.com", "169.254.169.254", False),    # link-local: cloud metadata
    ("api.example.com", "::1", False),
    ("api.example.com", "::ffff:10.0.0.1", False),    # IPv4-mapped private
    ("api.example.com", "fd00::1", False),            # unique local
    ("api.example.com", "100.64.0.1", False),         # carrier-grade NAT
    ("10.1.2.3", "10.1.2.3", True),                   # the administrator named the address itself
    ("[::1]", "::1", True),
])
def test_which_addresses_a_call_may_connect_to(host, peer, allowed):
    from authflow.outbound.addresses import InternalAddress, check_peer

    if allowed:
        check_peer(host, peer)
    else:
        with pytest.raises(InternalAddress):
            check_peer(host, peer)


def test_internal_networks_the_operator_allows(settings):
    from authflow.outbound.addresses import InternalAddress, check_peer

    settings.AUTHFLOW_CALL_INTERNAL_NETWORKS = "10.1.0.0/16, fd00::/8"
    check_peer("risk.internal", "10.1.2.3")
    check_peer("risk.internal", "fd00::7")
    with pytest.raises(InternalAddress):
        check_peer("risk.internal", "10.2.0.1")
