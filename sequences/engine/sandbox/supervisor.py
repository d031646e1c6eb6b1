"""Sandbox processes, supervised: a pool per web process, each sandbox replaced when it dies or overruns.

A run is a request to a sandbox process with a deadline.  When the deadline
passes the sandbox is killed (SIGKILL: whatever V8 was doing, a builtin that
ignores termination included), and when V8 kills the process itself (out of
memory, a crash) only that process is gone.  Either way the request that
caused it gets a ScriptLimitError naming what happened, and a fresh sandbox
takes its place: other requests of the web process carry on.

Sandboxes are started lazily (never at import time), reused across requests,
and a pool notices a fork and starts afresh in the child.
"""
from __future__ import annotations

import atexit
import fcntl
import json
import logging
import os
import select
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..errors import ScriptCompileError, ScriptLimitError
from . import assets
from .worker import ProtocolError, parse_frame_head, write_frame

logger = logging.getLogger("sequences.sandbox")

WORKER_PATH = Path(__file__).with_name("worker.py")
FORK_SERVER_PATH = Path(__file__).with_name("forkserver.py")
# A sandbox's whole environment (and the fork server's, which its sandboxes inherit): no secret, no
# address; one malloc arena (the sandbox runs one thing at a time; each arena costs its own pages).
SANDBOX_ENV = {"LC_ALL": "C.UTF-8", "MALLOC_ARENA_MAX": "1"}
BOOT_TIMEOUT_S = 20.0
# How long past its time limit a request may take before its sandbox is killed
# (the frame's way in and out); never more than the limit itself.
GRACE_S = 0.05
_DIAGNOSTIC_BYTES = 16 * 1024


@dataclass(frozen=True)
class Limits:
    """Per-run limits: wall-clock time (the script is single-threaded CPU work) and heap."""

    timeout_ms: int = 250
    memory_mb: int = 64

    @classmethod
    def from_settings(cls) -> Limits:
        from django.conf import settings

        conf = getattr(settings, "SEQUENCES", {})
        return cls(timeout_ms=conf.get("RUN_TIMEOUT_MS", 250), memory_mb=conf.get("RUN_MEMORY_MB", 64))

    @property
    def deadline_s(self) -> float:
        limit = self.timeout_ms / 1000
        return limit + min(GRACE_S, limit)


class SandboxDied(Exception):
    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message


def _use_fork_server() -> bool:
    """SEQUENCES["SANDBOX_FORK_SERVER"] (default on) when Django is configured, else on; Linux only (pidfds)."""
    from django.conf import settings

    if not (sys.platform.startswith("linux") and hasattr(os, "pidfd_open") and hasattr(signal, "pidfd_send_signal")):
        return False
    conf = getattr(settings, "SEQUENCES", {}) if settings.configured else {}
    return bool(conf.get("SANDBOX_FORK_SERVER", True))


def _start_sandbox(request_r: int, reply_w: int, diagnostics_w: int, forked: bool):
    """A sandbox process reading `request_r`: forked by the fork server, or started afresh (its child)."""
    if forked:
        return fork_server.spawn([request_r, reply_w, diagnostics_w])
    return subprocess.Popen(
        [sys.executable, "-I", str(WORKER_PATH), str(request_r), str(reply_w)],
        stdin=subprocess.DEVNULL, stdout=diagnostics_w, stderr=diagnostics_w,
        pass_fds=(request_r, reply_w), close_fds=True, env=SANDBOX_ENV, cwd="/",
        start_new_session=True,
    )


class ForkedSandbox:
    """A sandbox forked by the fork server: the part of subprocess.Popen the supervisor uses, through a pidfd.

    The web process is not its parent: it signals it through a pidfd (which
    names that process and no other, even once it is gone), sees its end when
    the pidfd turns readable, and reads its exit status from the fork server's
    connection ("exit N"; -1 when the fork server is gone).
    """

    def __init__(self, pid: int, pidfd: int, conn: socket.socket, received: bytes):
        self.pid = pid
        self.returncode: int | None = None
        self._pidfd = pidfd
        self._conn = conn
        self._received = received

    def _ended(self, timeout_s: float | None) -> bool:
        poller = select.poll()
        poller.register(self._pidfd, select.POLLIN)
        return bool(poller.poll(None if timeout_s is None else max(0, int(timeout_s * 1000))))

    def poll(self) -> int | None:
        if self.returncode is None and self._ended(0):
            self._collect()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            if not self._ended(timeout):
                raise subprocess.TimeoutExpired("sandbox", timeout or 0)
            self._collect()
        return self.returncode

    def kill(self) -> None:
        if self.returncode is None:
            try:
                signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def _collect(self) -> None:
        """Its exit status, which the fork server sends once it has reaped it."""
        data, code = self._received, -1
        self._conn.settimeout(5)
        try:
            while b"exit " not in data or not data.endswith(b"\n"):
                chunk = self._conn.recv(64)
                if not chunk:
                    break
                data += chunk
            for line in data.decode("ascii", "replace").splitlines():
                if line.startswith("exit "):
                    code = int(line.split()[1])
        except (OSError, ValueError):
            pass
        self.returncode = code
        self.forget()

    def forget(self) -> None:
        """Close this process's handles (the sandbox is gone, or another process's: a forked web process)."""
        if self._pidfd >= 0:
            os.close(self._pidfd)
            self._pidfd = -1
            self._conn.close()
        if self.returncode is None:
            self.returncode = -1


class ForkServerClient:
    """Asks the machine's fork server (forkserver.py) for sandboxes, starting it when it is not there.

    Its socket is in a directory only this user may open ($XDG_RUNTIME_DIR or
    the temporary directory), named by what it runs: this interpreter, the
    sandbox's sources, mini-racer's library and this process's cgroup.
    """

    RETRY_AFTER_S = 60.0  # after a failure, sandboxes start afresh for this long (no wait on a hung server)

    def __init__(self):
        self._lock = threading.Lock()
        self._path: Path | None = None
        self._failed_at: float | None = None

    def available(self) -> bool:
        failed_at = self._failed_at
        return failed_at is None or time.monotonic() - failed_at >= self.RETRY_AFTER_S

    def failed(self) -> None:
        self._failed_at = time.monotonic()

    def socket_path(self) -> Path:
        with self._lock:
            if self._path is None:
                self._path = self._make_path()
            return self._path

    @staticmethod
    def _make_path() -> Path:
        import hashlib
        import importlib.util
        import tempfile

        base = Path(os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()) / f"authflow-sandbox-{os.getuid()}"
        base.mkdir(mode=0o700, exist_ok=True)
        info = os.lstat(base)
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
            raise OSError(f"{base} is not a private directory of this user")
        digest = hashlib.sha256()
        for part in (sys.executable, str(WORKER_PATH.parent), WORKER_PATH.read_bytes(), FORK_SERVER_PATH.read_bytes(),
                     json.dumps(SANDBOX_ENV)):
            digest.update(part.encode() if isinstance(part, str) else part)
            digest.update(b"\0")
        spec = importlib.util.find_spec("py_mini_racer")
        if spec and spec.origin:
            library = Path(spec.origin).with_name("libmini_racer.so")
            if library.exists():
                digest.update(f"{library}:{library.stat().st_size}:{library.stat().st_mtime_ns}".encode())
        try:
            digest.update(Path("/proc/self/cgroup").read_bytes())
        except OSError:
            pass
        return base / f"{digest.hexdigest()[:20]}.sock"

    def spawn(self, fds: list[int]) -> ForkedSandbox:
        """A sandbox forked with `fds`; OSError when the fork server fails (then it may have forked one anyway)."""
        path = self.socket_path()
        try:
            conn = self._connect(path)
        except OSError:  # none there (or a dead one's socket): nothing was asked yet
            self.start(path)
            conn = self._connect(path)
        return self._ask(conn, fds)

    @staticmethod
    def _connect(path: Path) -> socket.socket:
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            conn.settimeout(BOOT_TIMEOUT_S)
            conn.connect(str(path))
        except BaseException:
            conn.close()
            raise
        return conn

    @staticmethod
    def _ask(conn: socket.socket, fds: list[int]) -> ForkedSandbox:
        try:
            socket.send_fds(conn, [b"spawn"], fds)
            message, received, _flags, _addr = socket.recv_fds(conn, 256, 1)
            head, _, rest = message.partition(b"\n")
            if not head.startswith(b"ok ") or len(received) != 1:
                for fd in received:
                    os.close(fd)
                raise OSError(f"the fork server answered {head[:100]!r}")
            return ForkedSandbox(int(head.split()[1]), received[0], conn, rest)
        except BaseException:
            conn.close()
            raise

    @staticmethod
    def start(path: Path) -> None:
        """Start the fork server listening at `path` unless another process just did (a lock file decides)."""
        with open(path.with_suffix(".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                probe.connect(str(path))
                return  # started meanwhile
            except OSError:
                pass
            finally:
                probe.close()
            try:
                path.unlink()
            except FileNotFoundError:
                pass
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                listener.bind(str(path))
                listener.listen(64)
                starter = subprocess.Popen(
                    [sys.executable, "-I", str(FORK_SERVER_PATH), str(listener.fileno())],
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                    pass_fds=(listener.fileno(),), close_fds=True, env=SANDBOX_ENV, cwd="/", start_new_session=True,
                )
                try:
                    starter.wait(timeout=BOOT_TIMEOUT_S)  # it forks the fork server and exits at once
                except subprocess.TimeoutExpired:
                    starter.kill()
                    starter.wait()
                    raise OSError("the fork server did not start") from None
            finally:
                listener.close()


fork_server = ForkServerClient()


class SandboxProcess:
    """One sandbox process: a V8 isolate with the runtime loaded, and the programs compiled into it."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.owner_pid = os.getpid()
        self.broken = False
        self.compiled: set[str] = set()
        loaded = assets.load()
        forked = _use_fork_server() and fork_server.available()
        while True:  # new pipes for a start afresh: a fork server that failed may have forked a reader of the first
            request_r, self._request_w = os.pipe()
            self._reply_r, reply_w = os.pipe()
            diagnostics_r, diagnostics_w = os.pipe()
            try:
                self._process = _start_sandbox(request_r, reply_w, diagnostics_w, forked)
                break
            except (OSError, ValueError) as exc:
                if not forked:
                    raise
                forked = False
                fork_server.failed()
                logger.warning("the sandbox fork server failed; sandboxes start afresh for a minute",
                               extra={"error": f"{type(exc).__name__}: {exc}"[:300]})
                for fd in (self._request_w, self._reply_r, diagnostics_r):
                    os.close(fd)
            finally:
                for fd in (request_r, reply_w, diagnostics_w):
                    os.close(fd)
        self._diagnostics = diagnostics_r
        for fd in (diagnostics_r, self._reply_r):
            fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)
        body = b"".join(source.encode("utf-8") for source in loaded.sources)
        sizes = [len(source.encode("utf-8")) for source in loaded.sources]
        try:
            reply, _ = self._exchange({"op": "boot", "names": list(loaded.names), "sizes": sizes,
                                       "memory_mb": limits.memory_mb}, body, BOOT_TIMEOUT_S)
        except SandboxDied as died:
            raise RuntimeError(f"a sandbox process did not start: {died.message}") from None
        if not reply.get("ok"):
            self.kill()
            raise RuntimeError(f"a sandbox process did not start: {reply.get('engine') or reply}")
        self.pid = reply.get("pid")

    # ---------------------------------------------------------------- requests
    def run(self, key: str, source: str, payload: str, kind: str = "login") -> dict:
        """Run one entry point of program `key` (compiled from `source` when this sandbox lacks it)."""
        if key not in self.compiled:
            self._compile(key, source, kind)
        result = self._request({"op": "run", "program": key}, payload.encode("utf-8"))
        if result.get("unknownProgram"):  # the sandbox dropped it (least recently used): compile again
            self.compiled.discard(key)
            self._compile(key, source, kind)
            result = self._request({"op": "run", "program": key}, payload.encode("utf-8"))
        return result

    def check(self, source: str, kind: str = "login") -> dict | None:
        """None if the runtime accepts `source` as a script of `kind`, else {"kind", "message", "line", "column"}."""
        verdict = self._request({"op": "check", "kind": kind}, source.encode("utf-8"))
        return None if verdict["ok"] else verdict["error"]

    def outline(self, source: str) -> dict:
        """{"ok": true, "outline": {...}} or {"ok": false, "error": {...}}: js/outline.js, nothing of it run."""
        return self._request({"op": "outline"}, source.encode("utf-8"))

    def lint(self, source: str, kind: str = "login") -> dict:
        """{"unknownCalls": [{name, line, column}], "steps": [{number, line, column}]} of a script that parses."""
        return self._request({"op": "lint", "kind": kind}, source.encode("utf-8"))

    def describe(self, kind: str = "login") -> dict:
        """{"functions": [names], "context": {path: [fields]}}: what a script of `kind` sees."""
        return self._request({"op": "describe", "kind": kind}, b"")

    def _compile(self, key: str, source: str, kind: str) -> None:
        verdict = self._request({"op": "compile", "program": key, "kind": kind}, source.encode("utf-8"))
        if not verdict["ok"]:
            error = verdict["error"]
            raise ScriptCompileError(error["message"], error.get("line"), error.get("column"))
        self.compiled.add(key)

    def _request(self, header: dict, body: bytes) -> dict:
        try:
            reply, data = self._exchange(header, body, self.limits.deadline_s)
        except SandboxDied as died:
            raise ScriptLimitError(died.kind, died.message) from None
        if not reply.get("ok"):
            self.close()
            if reply.get("limit") == "memory":
                raise ScriptLimitError("memory", f"the script used more than {self.limits.memory_mb} MB of memory")
            raise ScriptLimitError("engine", f"the script engine failed: {reply.get('engine', 'unknown error')}")
        return json.loads(data)

    def _exchange(self, header: dict, body: bytes, timeout_s: float) -> tuple[dict, bytes]:
        if self.broken:
            raise SandboxDied("engine", "the sandbox was discarded")
        deadline = time.monotonic() + timeout_s
        try:
            write_frame(self._request_w, header, body)
        except OSError:
            raise self._died() from None
        buffer = self._read_at_least(bytearray(), 8, deadline)
        try:
            header_size, body_size = parse_frame_head(bytes(buffer[:8]))
        except ProtocolError:
            self.kill()
            raise SandboxDied("engine", "the sandbox answered with a malformed frame") from None
        total = 8 + header_size + body_size
        buffer = self._read_at_least(buffer, total, deadline)
        if len(buffer) > total:
            self.kill()
            raise SandboxDied("engine", "the sandbox answered more than it was asked")
        reply = json.loads(bytes(buffer[8:8 + header_size]))
        return reply, bytes(buffer[8 + header_size:])

    def _read_at_least(self, buffer: bytearray, size: int, deadline: float) -> bytearray:
        poller = None
        while len(buffer) < size:
            try:
                chunk = os.read(self._reply_r, max(size - len(buffer), 1 << 16))
            except BlockingIOError:
                if poller is None:
                    poller = select.poll()
                    poller.register(self._reply_r, select.POLLIN)
                remaining = deadline - time.monotonic()
                if remaining <= 0 or (not poller.poll(remaining * 1000) and time.monotonic() >= deadline):
                    self.kill()
                    raise SandboxDied("timeout", f"the script ran longer than {self.limits.timeout_ms} ms")
                continue
            if not chunk:
                raise self._died()
            buffer += chunk
        return buffer

    # ---------------------------------------------------------------- ending
    def _died(self) -> SandboxDied:
        """What killed the sandbox, once it is gone by itself."""
        self.broken = True
        try:
            code = self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
            code = self._process.returncode
        diagnostics = self._diagnostics_text()
        self._close_fds()
        lowered = diagnostics.lower()
        if "out of memory" in lowered or "heap limit" in lowered or "allocation failed" in lowered:
            kind, message = "memory", f"the script used more than {self.limits.memory_mb} MB of memory"
        else:
            kind, message = "crash", f"the script engine stopped (exit status {code})"
        logger.warning("sandbox process died", extra={"sandbox_pid": self.pid, "exit_status": code, "error_kind": kind,
                                                       "diagnostics": diagnostics[-500:]})
        return SandboxDied(kind, message)

    def _diagnostics_text(self) -> str:
        try:
            return os.read(self._diagnostics, _DIAGNOSTIC_BYTES).decode("utf-8", "replace")
        except (BlockingIOError, OSError):
            return ""

    def alive(self) -> bool:
        return not self.broken and self._process.poll() is None

    def kill(self) -> None:
        self.broken = True
        if self._process.poll() is None:
            if isinstance(self._process, ForkedSandbox):
                self._process.kill()  # through its pidfd: never another process
            else:
                try:
                    os.killpg(self._process.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    self._process.kill()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL does not wait for anyone
            pass
        self._close_fds()

    def close(self) -> None:
        """Let the sandbox end by itself (end of its input), or kill it."""
        if self.broken:
            self.kill()
            return
        self.broken = True
        try:
            os.close(self._request_w)
            self._request_w = -1
            self._process.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self.kill()

    def abandon(self) -> None:
        """In a forked child: forget a sandbox the parent owns, without touching the process."""
        self.broken = True
        self._close_fds()
        if isinstance(self._process, ForkedSandbox):
            self._process.forget()

    def _close_fds(self) -> None:
        for name in ("_request_w", "_reply_r", "_diagnostics"):
            fd = getattr(self, name, -1)
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
                setattr(self, name, -1)


class SandboxPool:
    """The sandboxes of one web process: a run borrows one and gives it back.

    Starting a sandbox costs a few hundred milliseconds, so they are reused
    across requests; one that died or was killed is replaced in the
    background, so the next request finds one ready.
    """

    # Idle sandboxes kept by default (SEQUENCES["MAX_IDLE_SANDBOXES"] sets it): one per thread of a
    # worker that ran scripts at once.  Each holds 12-14 MB of its own, forked by the fork server (35 MB
    # started afresh; bench/sandbox_memory.py);
    # one that is not kept costs the next overlapping run a sandbox start (a few hundred ms).
    MAX_IDLE = 4

    def __init__(self):
        self._lock = threading.Lock()
        self._idle: list[SandboxProcess] = []
        self._pid = os.getpid()
        self._exit_hook = False
        self._refilling = False
        self.created = 0
        self.discarded = 0

    @contextmanager
    def borrow(self, limits: Limits | None = None):
        limits = limits or Limits.from_settings()
        sandbox = self._take(limits)
        if sandbox is None:
            sandbox = self._start(limits)
        try:
            yield sandbox
        finally:
            self._give_back(sandbox)

    def _start(self, limits: Limits) -> SandboxProcess:
        sandbox = SandboxProcess(limits)
        with self._lock:
            self.created += 1
            if not self._exit_hook:
                atexit.register(self.clear)
                self._exit_hook = True
        return sandbox

    def _take(self, limits: Limits) -> SandboxProcess | None:
        with self._lock:
            self._check_fork()
            dead = [sandbox for sandbox in self._idle if not sandbox.alive()]
            for sandbox in dead:  # died while idle (killed from outside): not a run's doing
                self._idle.remove(sandbox)
                sandbox.kill()
                self.discarded += 1
            for index in range(len(self._idle) - 1, -1, -1):  # the most recently used first
                if self._idle[index].limits == limits:
                    return self._idle.pop(index)
        return None

    def _give_back(self, sandbox: SandboxProcess) -> None:
        if sandbox.broken:
            with self._lock:
                self.discarded += 1
            self._refill(sandbox.limits)
            return
        evicted, keep = None, self.max_idle()
        with self._lock:
            if sandbox.owner_pid != self._pid:
                evicted = sandbox
            else:
                if len(self._idle) >= keep:  # the least recently used goes
                    evicted = self._idle.pop(0)
                self._idle.append(sandbox)
        if evicted is not None:
            evicted.close()

    def max_idle(self) -> int:
        """The number of idle sandboxes kept: SEQUENCES["MAX_IDLE_SANDBOXES"] when Django is configured, at least 1."""
        from django.conf import settings

        conf = getattr(settings, "SEQUENCES", {}) if settings.configured else {}
        return max(1, int(conf.get("MAX_IDLE_SANDBOXES", self.MAX_IDLE)))

    def _refill(self, limits: Limits) -> None:
        """Start a replacement in the background when no sandbox with these limits is idle."""
        with self._lock:
            if self._refilling or any(s.limits == limits for s in self._idle):
                return
            self._refilling = True

        def start():
            try:
                sandbox = self._start(limits)
                self._give_back(sandbox)
            except Exception:  # noqa: BLE001 - the next request starts one itself and reports the failure
                logger.exception("starting a replacement sandbox failed")
            finally:
                with self._lock:
                    self._refilling = False

        threading.Thread(target=start, name="sandbox-refill", daemon=True).start()

    def _check_fork(self) -> None:
        if self._pid != os.getpid():  # forked: the parent's sandboxes are the parent's
            for sandbox in self._idle:
                sandbox.abandon()
            self._idle, self._pid, self._refilling = [], os.getpid(), False

    def idle_pids(self, limits: Limits | None = None) -> list[int]:
        """The processes of the sandboxes waiting for a run (with `limits`, if given): for diagnostics and tests."""
        with self._lock:
            return [sandbox.pid for sandbox in self._idle if limits is None or sandbox.limits == limits]

    def clear(self) -> None:
        with self._lock:
            self._check_fork()
            idle, self._idle = self._idle, []
        for sandbox in idle:
            sandbox.close()


pool = SandboxPool()
