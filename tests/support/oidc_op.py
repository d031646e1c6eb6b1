"""A real OpenID provider for tests: the npm package oidc-provider on Debian's Node.js (support/oidc_provider/).

    op = OpenIDProvider(tmp_path, clients=[...], accounts={"ann": {"password": "...", "claims": {...}}}).start()
    op.issuer                       # http://127.0.0.1:<free port>
    op.last_authorization()         # the parameters of the last authorization request it received

Without Node.js or the package (`npm ci` installs it) the test is skipped, which fails the run under CI=true.
"""
from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.support.servers import stop_process
from .processes import end_with_parent

ROOT = Path(__file__).resolve().parents[2]
SERVER = Path(__file__).with_name("oidc_provider") / "server.mjs"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OpenIDProvider:
    def __init__(self, directory: Path, *, clients: list[dict], accounts: dict):
        self.directory = directory
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.clients, self.accounts = clients, accounts
        self.process = None

    def start(self) -> "OpenIDProvider":
        node = shutil.which("node")
        if node is None:
            pytest.skip("Node.js is not installed (scripts/ensure-node.sh installs it)")
        if not (ROOT / "node_modules" / "oidc-provider" / "package.json").exists():
            pytest.skip("the npm package oidc-provider is not installed (npm ci)")
        config = self.directory / f"oidc-provider-{self.port}.json"
        config.write_text(json.dumps({"port": self.port, "issuer": self.issuer, "clients": self.clients,
                                      "accounts": self.accounts}))
        self.log = open(self.directory / f"oidc-provider-{self.port}.log", "w")  # noqa: SIM115
        self.process = subprocess.Popen([node, str(SERVER), str(config)], cwd=ROOT, stdout=self.log,
                                        stderr=subprocess.STDOUT, preexec_fn=end_with_parent)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"oidc-provider exited: {(self.directory / self.log.name).read_text()[-2000:]}")
            try:
                if requests.get(self.issuer + "/.well-known/openid-configuration", timeout=2).ok:
                    return self
            except requests.ConnectionError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("oidc-provider did not start in 30 s")

    def last_authorization(self) -> dict:
        return requests.get(self.issuer + "/test/last-authorization", timeout=10).json()

    def stop(self) -> None:
        stop_process(self.process, grace_seconds=10)
        if self.process is not None:
            self.log.close()
