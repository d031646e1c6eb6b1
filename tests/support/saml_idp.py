"""A real SAML 2.0 identity provider for tests: pysaml2's own IdP (saml2.server.Server), support/saml_idp/server.py.

    idp = SamlIdentityProvider(tmp_path, sp_metadata_url=..., users={"ann": {"password": "...", "attributes": {...}}})
    idp.start(); idp.metadata_url; idp.set_mode(audience=..., clock_offset_minutes=...); idp.last_request(); idp.stop()

It has its own key and certificate (made here).  Without xmlsec1 the test is skipped, which fails the run
under CI=true (tests/conftest.py).
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from authflow.federation.saml_keys import new_sp_key_pair
from tests.support.oidc_op import free_port
from tests.support.servers import stop_process
from .processes import end_with_parent

SERVER = Path(__file__).with_name("saml_idp") / "server.py"


def require_xmlsec1() -> None:
    if shutil.which("xmlsec1") is None:
        pytest.skip("xmlsec1 is not installed (scripts/ensure-xmlsec1.sh installs it)")


class SamlIdentityProvider:
    def __init__(self, directory: Path, *, sp_metadata_url: str, users: dict):
        self.directory = directory
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.metadata_url = self.base + "/metadata"
        self.sp_metadata_url, self.users = sp_metadata_url, users
        self.process = None

    def start(self) -> "SamlIdentityProvider":
        require_xmlsec1()
        key_pem, cert_pem = new_sp_key_pair("test IdP")
        (self.directory / "idp.key").write_bytes(key_pem)
        (self.directory / "idp.crt").write_text(cert_pem)
        config = self.directory / "idp.json"
        config.write_text(json.dumps({"port": self.port, "base": self.base, "sp_metadata_url": self.sp_metadata_url,
                                      "key_file": str(self.directory / "idp.key"),
                                      "cert_file": str(self.directory / "idp.crt"), "users": self.users}))
        self.log = open(self.directory / "idp.log", "w")  # noqa: SIM115
        self.process = subprocess.Popen([sys.executable, str(SERVER), str(config)], stdout=self.log,
                                        stderr=subprocess.STDOUT, cwd=self.directory, preexec_fn=end_with_parent)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("the SAML IdP exited: " + (self.directory / "idp.log").read_text()[-2000:])
            try:
                requests.get(self.base + "/test/last-request", timeout=2)
                return self
            except requests.ConnectionError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("the SAML IdP did not start in 30 s")

    def set_mode(self, *, audience: str = "", clock_offset_minutes: int = 0, sha1: bool = False,
                 unsigned_logout: bool = False) -> None:
        """Assertions for another audience, valid from a clock off by this many minutes, or signed with SHA-1;
        logout messages without a signature."""
        requests.get(self.base + "/test/mode", params={"audience": audience or "", "sha1": "1" if sha1 else "0",
                                                       "unsigned_logout": "1" if unsigned_logout else "0",
                                                       "clock_offset_minutes": clock_offset_minutes}, timeout=10)

    def last_logout(self) -> dict:
        return requests.get(self.base + "/test/last-logout", timeout=10).json()

    def logout_url(self, username: str, session_index: str = "") -> str:
        """Where the IdP starts its own single logout of `username` (it redirects to the SP)."""
        return self.base + "/test/idp-logout?" + requests.compat.urlencode(
            {"username": username, "session_index": session_index, "relay_state": "idp-relay"})

    def last_request(self) -> dict:
        return requests.get(self.base + "/test/last-request", timeout=10).json()

    def stop(self) -> None:
        stop_process(self.process, grace_seconds=10)
        if self.process is not None:
            self.log.close()
