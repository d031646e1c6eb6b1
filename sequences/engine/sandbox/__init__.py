"""Scripts run in supervised sandbox processes, never in the web process.

    pool.borrow(limits) -> SandboxProcess    .run(key, source, payload) / .check(source, kind)

worker.py is the process (one V8 isolate, SES-hardened, no environment);
forkserver.py forks them from one process per machine that has initialised V8;
supervisor.py starts, reuses, kills and replaces them; assets.py is the
JavaScript they load.
"""
from .supervisor import Limits, SandboxPool, SandboxProcess, pool

__all__ = ["Limits", "SandboxPool", "SandboxProcess", "pool"]
