"""A real OpenLDAP directory for the user-store tests: Debian's slapd, throwaway, one per test session.

scripts/ensure-slapd.sh installs slapd when missing and starts it in a
temporary folder on a free port, loaded with tests/support/ldap/directory.ldif.
Without slapd (and no way to install it) the tests that need it are skipped,
which fails the run under CI=true (tests/conftest.py).
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
LDIF = Path(__file__).resolve().parent / "ldap" / "directory.ldif"
SUFFIX = "dc=authflow,dc=test"


@dataclass(frozen=True)
class Directory:
    url: str
    bind_dn: str = f"cn=authflow-reader,ou=service,{SUFFIX}"
    bind_password: str = "reader-bind-secret"
    people: str = f"ou=people,{SUFFIX}"
    groups: str = f"ou=groups,{SUFFIX}"


@pytest.fixture(scope="session")
def slapd():
    if not os.path.exists("/usr/sbin/slapd") and os.geteuid() != 0 and not shutil.which("sudo"):
        pytest.skip("slapd is not installed (scripts/ensure-slapd.sh installs it)")
    folder = tempfile.mkdtemp(prefix="authflow-slapd-")  # under /tmp: slapd's own user must reach it
    os.chmod(folder, 0o755)
    port = free_port()
    started = subprocess.run([str(ROOT / "scripts" / "ensure-slapd.sh"), "start", folder, str(port), str(LDIF)],
                             capture_output=True, text=True, timeout=300)
    if started.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip(f"could not start slapd: {started.stderr.strip()[-500:]}")
    pid = int(started.stdout.strip().splitlines()[-1])
    try:
        yield Directory(url=f"ldap://127.0.0.1:{port}")
    finally:
        try:
            os.kill(pid, signal.SIGTERM)
            for _ in range(50):
                os.kill(pid, 0)
                time.sleep(0.1)
        except ProcessLookupError:
            pass
        shutil.rmtree(folder, ignore_errors=True)


def store_yaml(directory: Directory, name: str = "CORP", **overrides) -> str:
    """One entry of `user_stores:` for the test directory (YAML), with the mappings the tests use."""
    fields = {
        "url": directory.url,
        "bind_dn": directory.bind_dn,
        "bind_password": directory.bind_password,
        "user_search_base": directory.people,
        "group_search_base": directory.groups,
        "timeout_seconds": 3,
    }
    fields.update(overrides)
    lines = [f"  - name: {name}", "    type: ldap"]
    lines += [f"    {key}: {value!r}" if isinstance(value, str) else f"    {key}: {value}"
              for key, value in fields.items() if value is not None]
    lines += [
        "    roles: {finance: [finance-staff], engineers: [engineer]}",
        "    claims:",
        "      http://wso2.org/claims/emailaddress: mail",
        "      http://wso2.org/claims/givenname: givenName",
        "      http://wso2.org/claims/lastname: sn",
        "      http://wso2.org/claims/department: departmentNumber",
    ]
    return "\n".join(lines) + "\n"
