"""The sandbox fork server: sandboxes forked from one process that has initialised V8 keep every guarantee
of a sandbox started afresh (no environment, killed with their web process, replaced), and the fork server
dying costs no login."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sequences.engine.sandbox import Limits, pool
from sequences.engine.sandbox.supervisor import SANDBOX_ENV, ForkedSandbox
from tests.support.scripts import events, logs, ok, run
from tests.support import looping_web_process

WELL_BEHAVED = "var onLoginRequest = function(c) { Log.info('in ' + typeof process); executeStep(1); };"


def parent_of(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("PPid:"):
            return int(line.split()[1])
    raise AssertionError(f"no PPid for {pid}")


def gone(pid, within_s=10.0):
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def a_login_succeeds():
    trace = run(WELL_BEHAVED, [ok(1)])
    assert trace["status"] == "success", trace
    assert logs(trace) == ["in undefined"]


def fresh_pool():
    """No idle sandbox, and none being started in the background (a replacement a previous test caused)."""
    deadline = time.monotonic() + 20
    while pool._refilling and time.monotonic() < deadline:  # noqa: SLF001
        time.sleep(0.05)
    pool.clear()


def idle_sandbox():
    with pool.borrow(Limits.from_settings()) as sandbox:
        return sandbox


def test_a_forked_sandbox_has_no_environment_of_its_web_process(monkeypatch):
    monkeypatch.setenv("AUTHFLOW_PROBE_SECRET", "do-not-leak")
    fresh_pool()
    a_login_succeeds()
    sandbox = idle_sandbox()
    assert isinstance(sandbox._process, ForkedSandbox)  # noqa: SLF001 - forked, not started afresh
    server = parent_of(sandbox.pid)
    assert server != os.getpid()
    assert b"forkserver.py" in Path(f"/proc/{server}/cmdline").read_bytes()
    environment = Path(f"/proc/{sandbox.pid}/environ").read_bytes()
    assert b"do-not-leak" not in environment and b"DATABASE_URL" not in environment
    assert dict(item.split("=", 1) for item in environment.decode().split("\0") if item) == SANDBOX_ENV
    # and nothing of the fork server's: its listening socket, other sandboxes' pipes or pidfds
    targets = [os.readlink(f"/proc/{sandbox.pid}/fd/{fd}") for fd in os.listdir(f"/proc/{sandbox.pid}/fd")]
    assert sum(target.startswith("anon_inode:[pidfd]") for target in targets) == 1  # its web process's


def test_a_forked_sandbox_exits_when_its_web_process_is_killed_in_the_middle_of_a_loop():
    # A web process (a child python) starts a sandbox, sets it looping and is killed: the sandbox's parent
    # is the fork server, which lives on, so only the web process's pidfd can end it.
    code = looping_web_process.code("time.sleep(600)")
    web = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        sandbox = int(web.stdout.readline())
        server = parent_of(sandbox)
        assert server != web.pid and b"forkserver.py" in Path(f"/proc/{server}/cmdline").read_bytes()
        time.sleep(0.5)  # the loop is running
        web.send_signal(signal.SIGKILL)
        web.wait()
        ended = gone(sandbox)
        if not ended:
            os.kill(sandbox, signal.SIGKILL)
        assert ended, "the sandbox outlived its web process"
        assert not gone(server, within_s=0.2)  # the fork server lives on for the other web processes
    finally:
        if web.poll() is None:
            web.kill()
            web.wait()


def test_the_fork_server_dying_does_not_break_the_next_login():
    fresh_pool()
    a_login_succeeds()
    kept = idle_sandbox()
    idle = sorted(pool.idle_pids())
    server = parent_of(kept.pid)
    assert b"forkserver.py" in Path(f"/proc/{server}/cmdline").read_bytes()
    os.kill(server, signal.SIGKILL)
    assert gone(server)
    a_login_succeeds()  # the idle sandboxes do not depend on their fork server
    assert sorted(pool.idle_pids()) == idle
    for pid in idle:  # killed from outside: new sandboxes are needed, and a new fork server
        os.kill(pid, signal.SIGKILL)
        assert gone(pid)
    a_login_succeeds()
    replacements = pool.idle_pids()
    assert replacements and not set(replacements) & set(idle)
    new_server = parent_of(replacements[0])
    assert new_server != server and b"forkserver.py" in Path(f"/proc/{new_server}/cmdline").read_bytes()


def test_a_timed_out_forked_sandbox_is_killed_and_its_exit_status_known():
    fresh_pool()
    trace = run("var onLoginRequest = function(c) { while (true) {} };")
    assert trace["status"] == "error" and "ran longer than" in events(trace, "error")[0]["message"], trace
    a_login_succeeds()
    sandbox = idle_sandbox()
    os.kill(sandbox.pid, signal.SIGKILL)
    assert sandbox._process.wait(timeout=10) == -signal.SIGKILL  # noqa: SLF001 - reported by the fork server


def test_without_the_fork_server_a_sandbox_is_the_web_process_own_child(settings):
    settings.SEQUENCES = {**settings.SEQUENCES, "SANDBOX_FORK_SERVER": False}
    fresh_pool()
    try:
        a_login_succeeds()
        sandbox = idle_sandbox()
        assert parent_of(sandbox.pid) == os.getpid()
        assert not isinstance(sandbox._process, ForkedSandbox)  # noqa: SLF001
    finally:
        pool.clear()


def test_a_fork_server_that_fails_costs_no_login(monkeypatch):
    from sequences.engine.sandbox import supervisor

    def refuse(conn, fds):
        conn.close()
        raise OSError("the fork server answered b'error threads'")

    monkeypatch.setattr(supervisor.ForkServerClient, "_ask", staticmethod(refuse))
    fresh_pool()
    try:
        a_login_succeeds()  # started afresh instead, on new pipes
        sandbox = idle_sandbox()
        assert parent_of(sandbox.pid) == os.getpid()
        assert not supervisor.fork_server.available()  # no wait on a failing fork server for a while
    finally:
        pool.clear()
        monkeypatch.setattr(supervisor.fork_server, "_failed_at", None)
