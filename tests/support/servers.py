"""Real server processes (`manage.py runserver`, or gunicorn with several workers) for tests about processes.

Each ServerProcess is an OS process serving the project on 127.0.0.1:<port>, on the
test database of the calling test (committed data only: use transactional tests) and
with the signing key it is given, so that several processes act as one deployment.
It can be stopped, killed (SIGKILL, as in a crash) and started again on the same port.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from .processes import end_with_parent

ROOT = Path(__file__).resolve().parents[2]
READY_PATH = "/o/.well-known/openid-configuration"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url(settings_dict: dict) -> str:
    """DATABASE_URL for the database the calling process uses (the test database under pytest-django)."""
    user = quote(settings_dict["USER"] or "", safe="")
    password = quote(settings_dict["PASSWORD"] or "", safe="")
    host = settings_dict["HOST"] or "127.0.0.1"
    port = settings_dict["PORT"] or 5432
    return f"postgres://{user}:{password}@{host}:{port}/{settings_dict['NAME']}"


def signing_key() -> str:
    """A new RSA private key (PEM) for AUTHFLOW_OIDC_RSA_PRIVATE_KEY."""
    return rsa.generate_private_key(65537, 2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()


def server_env(settings_dict: dict, key: str, **extra: str) -> dict:
    return dict(os.environ, DJANGO_SETTINGS_MODULE="tests.settings", DATABASE_URL=database_url(settings_dict),
                AUTHFLOW_OIDC_RSA_PRIVATE_KEY=key, PYTHONUNBUFFERED="1", **extra)


class ServerDidNotStart(AssertionError):
    pass


class ServerProcess:
    """`workers`: None runs Django's runserver (one process, a thread per request); a number runs
    gunicorn with that many worker processes of `threads` threads each, as in production."""

    def __init__(self, name: str, env: dict, log_dir: Path, port: int | None = None, *,
                 workers: int | None = None, threads: int = 4):
        self.workers = workers
        self.threads = threads
        self.name = name
        self.env = env
        self.log_dir = Path(log_dir)
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None
        self.starts = 0
        self._log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def spawn(self) -> "ServerProcess":
        """Start the process (on the same port as before, if it ran already); see wait_ready()."""
        assert self.process is None or self.process.poll() is not None, f"{self.name} is still running"
        self.starts += 1
        self._log_path = self.log_dir / f"server-{self.name}-{self.starts}.log"
        if self.workers is None:
            command = [sys.executable, "manage.py", "runserver", f"127.0.0.1:{self.port}", "--noreload"]
        else:
            command = [sys.executable, "-m", "gunicorn", "authflow.wsgi:application", "--bind", f"127.0.0.1:{self.port}",
                       "--workers", str(self.workers), "--threads", str(self.threads), "--timeout", "120"]
        with open(self._log_path, "wb") as log:  # a file, not a pipe: a full pipe would block the server
            self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL, stdout=log,
                                            stderr=subprocess.STDOUT, preexec_fn=end_with_parent)
        return self

    def worker_pids(self) -> set[int]:
        """The server's worker processes (gunicorn's children; the sandboxes they start are not counted)."""
        if self.workers is None:
            return {self.pid}
        pids = set()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            if parent == self.pid and b"gunicorn" in cmdline:
                pids.add(int(entry.name))
        return pids

    def wait_ready(self, timeout: float = 60.0) -> "ServerProcess":
        """Poll until the process answers HTTP; fail with its output when it exits or does not answer in time."""
        deadline = time.monotonic() + timeout
        while True:
            code = self.process.poll()
            if code is not None:
                raise ServerDidNotStart(f"server {self.name} ({self.url}) exited with {code} before answering:\n"
                                        f"{self.output()}")
            try:
                response = requests.get(self.url + READY_PATH, timeout=2)
                if response.status_code == 200:
                    return self
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise ServerDidNotStart(f"server {self.name} ({self.url}) did not answer {READY_PATH} with 200 "
                                        f"within {timeout:.0f}s:\n{self.output()}")
            time.sleep(0.05)

    def start(self, timeout: float = 60.0) -> "ServerProcess":
        return self.spawn().wait_ready(timeout)

    def kill(self) -> None:
        """SIGKILL: the process ends at once, as in a crash (nothing is flushed or closed by it)."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        stop_process(self.process)

    def output(self, limit: int = 6000) -> str:
        """The tail of what the current (or last) process printed."""
        if not self._log_path or not self._log_path.exists():
            return "(no output)"
        text = self._log_path.read_text(errors="replace")
        return text[-limit:] if text else "(no output)"


def stop_process(process, grace_seconds: float = 5) -> None:
    """Terminate a test's child process (a server, a peer), killing it when it does not stop in time."""
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=grace_seconds)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
