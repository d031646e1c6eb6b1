"""Child processes of the test run (servers, workers, peers) that end when the test run does.

A test run killed from outside (a CI timeout, ^C twice, SIGKILL) runs no
fixture teardown: without this, its gunicorn or Celery worker would stay
attached to the test database and break the next run.  Linux only (prctl);
elsewhere the children are left as before.
"""
from __future__ import annotations

import ctypes
import os
import signal

PR_SET_PDEATHSIG = 1


def end_with_parent() -> None:
    """preexec_fn for subprocess.Popen: the child gets SIGTERM when the process that started it dies."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() == 1:  # the parent died between fork and prctl
            os._exit(1)
    except (OSError, AttributeError):
        pass
