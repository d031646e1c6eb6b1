"""V8 isolates for running scripts, pooled per process and created on first use.

An isolate is never created at import time and never shared across fork()
(a mini-racer instance is unusable in a child process), and one that hit a
time or memory limit is thrown away, since termination can leave it in an
undefined state.
"""
from __future__ import annotations

import atexit
import json
import logging
import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from py_mini_racer import JSEvalException, JSOOMException, JSTimeoutException, MiniRacer

from .errors import ScriptCompileError, ScriptLimitError

logger = logging.getLogger(__name__)

RUNTIME_PATH = Path(__file__).with_name("runtime.js")


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


@lru_cache(maxsize=1)
def runtime_source() -> str:
    return RUNTIME_PATH.read_text(encoding="utf-8")


class Isolate:
    """One V8 isolate with the runtime loaded and the programs compiled into it."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.pid = os.getpid()
        self.broken = False
        self._mr = MiniRacer()
        self._mr.eval(runtime_source())
        # The hard limit covers the whole heap, so it sits above what the
        # runtime itself uses.
        baseline = self._mr.heap_stats().get("used_heap_size", 0)
        self._mr.set_hard_memory_limit(int(baseline + limits.memory_mb * 1024 * 1024))

    def close(self) -> None:
        self.broken = True
        try:
            # Let V8 deliver what it still owes for a terminated call before
            # the isolate's event loop goes away.
            self._mr.eval("0", timeout_sec=1)
        except Exception:  # noqa: BLE001 - the isolate is being thrown away anyway
            pass
        try:
            self._mr.close()
        except Exception:  # pragma: no cover - best effort on a dead isolate
            logger.debug("closing a broken isolate failed", exc_info=True)

    def ensure_compiled(self, key: str, source: str) -> None:
        if self._mr.eval(f"__authflow.has({json.dumps(key)})"):
            return
        result = json.loads(self._eval(f"__authflow.compile({json.dumps(key)}, {json.dumps(source)})"))
        if not result["ok"]:
            error = result["error"]
            raise ScriptCompileError(error["message"], error.get("line"), error.get("column"))

    def check(self, source: str) -> dict | None:
        """None if the runtime accepts `source`, else {"kind", "message", "line", "column"}."""
        verdict = json.loads(self._eval(f"__authflow.check({json.dumps(source)})"))
        return None if verdict["ok"] else verdict["error"]

    def run(self, key: str, source: str, payload: dict) -> dict:
        """Run one entry point; returns the runtime's result object."""
        payload = dict(payload, program=key)
        text = json.dumps(payload, separators=(",", ":"))
        for _ in range(2):
            raw = self._eval(f"__authflow.run({json.dumps(text)})")
            result = json.loads(raw)
            if result.get("tainted"):
                # The script left something on the global object that cannot be
                # removed: no other script may run in this isolate.
                self.close()
                if "command" not in result:
                    raise ScriptLimitError("engine", "the previous script left the engine in an unusable state")
                return result
            if not result.get("unknownProgram"):
                return result
            self.ensure_compiled(key, source)
        raise RuntimeError("program could not be compiled into the isolate")  # pragma: no cover

    def _eval(self, code: str):
        try:
            return self._mr.eval(code, timeout_sec=self.limits.timeout_ms / 1000)
        except JSTimeoutException:
            self.close()
            raise ScriptLimitError("timeout", f"the script ran longer than {self.limits.timeout_ms} ms") from None
        except JSOOMException:
            self.close()
            raise ScriptLimitError("memory", f"the script used more than {self.limits.memory_mb} MB of memory") from None
        except JSEvalException as exc:
            # The runtime catches script errors itself; reaching here means the
            # isolate is in a state we do not trust any more.
            self.close()
            raise ScriptLimitError("engine", f"the script engine failed: {exc}") from None


class IsolatePool:
    """Isolates shared by the threads of one process: a run borrows one and gives it back.

    Creating an isolate costs milliseconds, so they are reused across requests
    (a threaded server starts a thread per request); creation is serialised,
    and a pool notices a fork and starts afresh in the child.
    """

    MAX_IDLE = 8

    def __init__(self):
        self._lock = threading.Lock()
        self._create_lock = threading.Lock()
        self._idle: list[Isolate] = []
        self._pid = os.getpid()
        self._exit_hook = False
        self.created = 0
        self.discarded = 0

    @contextmanager
    def borrow(self, limits: Limits | None = None):
        limits = limits or Limits.from_settings()
        isolate = self._take(limits)
        if isolate is None:
            with self._create_lock:
                isolate = Isolate(limits)
                if not self._exit_hook:
                    # Close isolates while the process is still whole: mini-racer
                    # freeing one from a garbage collection at exit can hang.
                    atexit.register(self.clear)
                    self._exit_hook = True
            self.created += 1
        try:
            yield isolate
        finally:
            self._give_back(isolate)

    def _take(self, limits: Limits) -> Isolate | None:
        with self._lock:
            if self._pid != os.getpid():  # forked: the parent's isolates are unusable here
                self._idle, self._pid = [], os.getpid()
            for index, isolate in enumerate(self._idle):
                if isolate.limits == limits:
                    return self._idle.pop(index)
        return None

    def _give_back(self, isolate: Isolate) -> None:
        if isolate.broken:
            self.discarded += 1
            return
        with self._lock:
            if isolate.pid == self._pid and len(self._idle) < self.MAX_IDLE:
                self._idle.append(isolate)
                return
        isolate.close()

    def clear(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for isolate in idle:
            isolate.close()


pool = IsolatePool()
