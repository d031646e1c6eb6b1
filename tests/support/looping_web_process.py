"""A web process (a child python) that starts a sandbox, prints the sandbox's pid and sets it looping.

For the tests of what happens to a sandbox when its web process dies: `ending` is the child's last line
(sleep on, to be killed by the test, or exit by itself).
"""
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def code(ending: str) -> str:
    return (
        "import os, sys, threading, time; sys.path.insert(0, %r)\n"
        "from sequences.engine.driver import Program, advance\n"
        "from sequences.engine.state import FlowState\n"
        "from sequences.engine.sandbox import Limits, pool\n"
        "limits = Limits(timeout_ms=60000)\n"
        "with pool.borrow(limits): pass\n"
        "print(pool.idle_pids(limits)[0], flush=True)\n"
        "loop = Program.from_source('var onLoginRequest = function (c) { for (;;) {} };')\n"
        "threading.Thread(target=advance, args=(loop, FlowState.start('a', {'1': []}), None), kwargs={'limits': limits}).start()\n"
        "%s\n"
    ) % (str(ROOT), ending)
