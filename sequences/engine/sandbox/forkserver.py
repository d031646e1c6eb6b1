"""The sandbox fork server ("zygote"): one process per machine that has initialised V8 and forks each sandbox.

A sandbox started afresh reads V8's ICU data (10 MB) into its own memory, and
relocates and imports everything itself: about 33 MB of its own.  Forked
from this process, which has done that once (Python and py_mini_racer
imported, V8 initialised, no isolate created, a single thread), a sandbox
shares those pages and owns about 11 MB (bench/sandbox_memory.py).

It is started by the first web process that needs a sandbox (supervisor.py,
`python -I forkserver.py LISTEN_FD`, no environment but LC_ALL and
MALLOC_ARENA_MAX, stdio on /dev/null), detaches (its starter does not wait
for it), and listens on a Unix socket in a directory only its user can open,
named by the code it runs (sandbox sources, interpreter, mini-racer, cgroup):
a web process of another version or deployment gets its own fork server.

Protocol: a web process connects, sends b"spawn" with three descriptors
(SCM_RIGHTS): the request pipe's read end, the reply pipe's write end and the
diagnostics pipe's write end.  This process forks a sandbox that runs
worker.py's loop on them and sends back the sandbox's pid and a pidfd of it
(the web process kills it with the pidfd, which never names another process).
The connection stays open; when the sandbox ends, its exit status is written
on it ("exit N\\n").

Guarantees kept from a directly started sandbox: no environment and no
descriptor of this process but the three it was given and a pidfd of the web
process that asked for it (its "owner": the sandbox exits when the owner
dies, whatever this process does); its own session; its own RLIMIT_DATA once
its JavaScript is loaded (worker.py).  Only a process of the same user may
ask (SO_PEERCRED).  The fork server refuses to fork when it has more than one
thread (a fork of a threaded V8 could inherit a held lock).

It exits when every web process that asked it for a sandbox has been gone for
IDLE_EXIT_S; the sandboxes it forked do not depend on it.
"""
from __future__ import annotations

import array
import os
import select
import socket
import struct
import sys

IDLE_EXIT_S = 30.0
_MAX_FDS = 3
_REQUEST = b"spawn"


def _threads() -> int:
    return len(os.listdir("/proc/self/task"))


def _peer(conn: socket.socket) -> tuple[int, int]:
    pid, uid, _gid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))
    return pid, uid


def _receive(conn: socket.socket) -> list[int] | None:
    """The three descriptors of a spawn request, or None (anything else)."""
    conn.settimeout(5)
    try:
        message, ancillary, _flags, _addr = conn.recvmsg(len(_REQUEST), socket.CMSG_SPACE(_MAX_FDS * 4))
    except OSError:
        return None
    fds = array.array("i")
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[:len(data) - len(data) % fds.itemsize])
    if message != _REQUEST or len(fds) != _MAX_FDS:
        for fd in fds:
            os.close(fd)
        return None
    return list(fds)


def _become_sandbox(fds: list[int], owner: int) -> int:
    """In the forked child: keep only the pipes and the owner's pidfd, then serve (worker.py)."""
    import worker  # imported by main() already: the same directory (forkserver.py runs as a script)

    request_r, reply_w, diagnostics_w = fds
    os.setsid()
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(diagnostics_w, 1)
    os.dup2(diagnostics_w, 2)
    keep = {0, 1, 2, request_r, reply_w, owner}
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass
    for fd in (request_r, reply_w, owner):
        os.set_inheritable(fd, False)
    return worker.main(["worker.py", str(request_r), str(reply_w), str(owner)])


class ForkServer:
    def __init__(self, listener: socket.socket):
        self.listener = listener
        self.poller = select.poll()
        self.poller.register(listener, select.POLLIN)
        self.children: dict[int, tuple[int, socket.socket]] = {}  # pidfd -> (pid, connection)
        self.clients: dict[int, int] = {}  # pidfd -> pid of a web process that asked for a sandbox

    def serve(self) -> int:
        idle_since = _now()
        while True:
            timeout_ms = None if self.clients else max(0, int((idle_since + IDLE_EXIT_S - _now()) * 1000))
            events = self.poller.poll(timeout_ms)
            for fd, _event in events:
                if fd == self.listener.fileno():
                    self._accept()
                elif fd in self.children:
                    self._reap(fd)
                elif fd in self.clients:  # a web process is gone
                    self.poller.unregister(fd)
                    del self.clients[fd]
                    os.close(fd)
            if self.clients:
                idle_since = _now()
            elif _now() - idle_since >= IDLE_EXIT_S:
                self._stop_listening()
                return 0

    def _stop_listening(self) -> None:
        """Close the socket and remove its name, holding the starters' lock (none is replacing it meanwhile)."""
        import fcntl

        path = self.listener.getsockname()
        if not isinstance(path, str) or not path:
            self.listener.close()
            return
        try:
            with open(os.path.splitext(path)[0] + ".lock", "a") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                self.listener.close()
                os.unlink(path)
        except OSError:
            self.listener.close()

    def _accept(self) -> None:
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        try:
            pid, uid = _peer(conn)
            fds = _receive(conn) if uid == os.getuid() else None
            if fds is None:
                conn.close()
                return
            try:
                owner = os.pidfd_open(pid)  # the peer waits for the answer: it is alive, the pid is its own
            except OSError:
                for fd in fds:
                    os.close(fd)
                conn.close()
                return
            self._spawn(conn, fds, owner, pid)
        except Exception:  # noqa: BLE001 - one bad request must not end the fork server
            conn.close()

    def _spawn(self, conn: socket.socket, fds: list[int], owner: int, owner_pid: int) -> None:
        try:
            if _threads() != 1:  # a V8 flag or library that started a thread: forking it is not safe
                os.close(owner)
                conn.sendall(b"error threads\n")
                conn.close()
                return
            child = os.fork()
            if child == 0:  # pragma: no cover - the sandbox
                code = 1
                try:
                    code = _become_sandbox(fds, owner)
                except BaseException:  # noqa: BLE001 - on the diagnostics pipe, for the web process's log
                    import traceback

                    traceback.print_exc()
                finally:
                    os._exit(code)
            child_fd = os.pidfd_open(child)  # not yet reaped (only this process reaps it): it is that child
            try:
                socket.send_fds(conn, [b"ok %d\n" % child], [child_fd])
            except OSError:
                os.kill(child, 9)  # its web process is gone before hearing of it
            self.children[child_fd] = (child, conn)
            self.poller.register(child_fd, select.POLLIN)
            if owner_pid in self.clients.values():
                os.close(owner)
            else:
                self.clients[owner] = owner_pid
                self.poller.register(owner, select.POLLIN)
        finally:
            for fd in fds:
                os.close(fd)

    def _reap(self, child_fd: int) -> None:
        pid, conn = self.children.pop(child_fd)
        self.poller.unregister(child_fd)
        os.close(child_fd)
        try:
            _, status = os.waitpid(pid, 0)
            conn.sendall(b"exit %d\n" % os.waitstatus_to_exitcode(status))
        except OSError:
            pass
        conn.close()


def _drop_clean_file_pages() -> None:
    """Unmap the file pages V8's start-up read and nothing here needs again (about 18 MB of mini-racer's).

    Only mappings of a file holding no page of their own (no copy-on-write
    page: nothing of them was written) are dropped: a later read maps the same
    file page again.  Sandboxes are unaffected (a fork does not copy file
    mappings' page tables: they map what they touch themselves).
    """
    import ctypes

    madvise = ctypes.CDLL(None, use_errno=True).madvise
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    dontneed = 4  # MADV_DONTNEED
    regions, current = [], None
    with open("/proc/self/smaps", encoding="utf-8", errors="replace") as smaps:
        for line in smaps:
            fields = line.split()
            if not fields[0].endswith(":"):
                path = fields[5] if len(fields) > 5 else ""
                current = None
                if path.startswith("/") and "w" not in fields[1]:
                    start, end = (int(x, 16) for x in fields[0].split("-"))
                    current = [start, end, None]
                    regions.append(current)
            elif current is not None and fields[0] == "Anonymous:":
                current[2] = int(fields[1])
    for start, end, anonymous in regions:
        if anonymous == 0:
            madvise(start, end - start, dontneed)


def _now() -> float:
    import time

    return time.monotonic()


def main(argv: list[str]) -> int:
    listen_fd = int(argv[1])
    if os.fork():  # the starter waits for this first process only: the fork server is nobody's child
        os._exit(0)
    os.setsid()
    listener = socket.socket(fileno=listen_fd)
    listener.setblocking(True)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # -I leaves this directory out
    import worker  # what every sandbox runs, imported once here
    from py_mini_racer import init_mini_racer

    init_mini_racer(flags=worker.V8_FLAGS)  # V8 and its ICU data, before any isolate or thread
    _drop_clean_file_pages()
    import gc

    gc.collect()
    gc.freeze()  # what is here now stays where it is: a sandbox's collections do not copy its pages
    return ForkServer(listener).serve()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
