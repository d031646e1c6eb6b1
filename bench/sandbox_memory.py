"""Where a script sandbox process's memory goes, and what a second one on the same machine adds.

Prints one JSON object.  Two sandbox processes are started by a pool (as a web worker's pool
starts a second one when two runs overlap), each replays the engine benchmark's suspended 3-step
flow `--round-trips` times, then each one's
/proc/<pid>/smaps is summed by what the memory holds:

  v8_library      libmini_racer.so: V8's code, file-backed, shared by every sandbox on the machine
  python_and_libs the Python interpreter, its extension modules and the C libraries (file-backed, shared)
  private_anon    anonymous memory: V8's heap, the ICU data V8 reads into memory at start (not mapped
                  from its file: shared only with the process it was forked from), thread stacks,
                  Python's objects
  malloc_heap     [heap]

RSS counts shared pages in full in each process; PSS divides them between the processes that map
them, so the second sandbox's PSS shows what one more sandbox really costs, and private_mb what
is its own alone.  This is done twice: with the sandboxes forked by the fork server
(sequences/engine/sandbox/forkserver.py, the default: one process per machine that has imported
Python's modules and py_mini_racer and initialised V8, ICU data read, no isolate, one thread; its
own figures are under fork_server) and started afresh (SEQUENCES["SANDBOX_FORK_SERVER"] off).
Also measured: the V8 heap itself (heap statistics of a bare isolate loaded with the same
JavaScript, in this process).

Figures (2 cores, Python 3.11, mini-racer 0.14.1, 200 round trips each; PSS depends on what else
maps the same pages on the machine: these with no other sandbox running):

                      RSS    PSS   private
  started afresh     86 MB  51-57  34 MB    (each of two; the fork server off)
  forked             62 MB  32 MB  12.5 MB  (each of two)
  the fork server    30 MB  11 MB   4 MB    (once per machine, shared by every worker's sandboxes)

What a forked sandbox saves: the ICU data and everything Python and V8's start-up wrote (shared with
the fork server), the file pages of V8's start-up (read by the fork server only, which then drops
them), a full GC once the JavaScript is loaded (2 MB) and a young generation of at most 1 MB per
semi-space (1.5 MB; worker.V8_FLAGS).

    .venv/bin/python bench/sandbox_memory.py [--round-trips 200]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine_roundtrip import SCRIPT, BenchHost, suspended_flow  # noqa: E402

from sequences.engine.driver import Program, advance  # noqa: E402
from sequences.engine.sandbox import Limits, assets, pool, supervisor  # noqa: E402


def category(path: str) -> str:
    name = os.path.basename(path)
    if "mini_racer" in name:
        return "v8_library"
    if name == "[heap]":
        return "malloc_heap"
    if not path or name.startswith("["):
        return "private_anon"
    return "python_and_libs"


def smaps_mb(pid: int) -> dict:
    rss, pss, current, private = Counter(), Counter(), "private_anon", 0
    with open(f"/proc/{pid}/smaps", encoding="utf-8") as smaps:
        for line in smaps:
            fields = line.split()
            if not fields[0].endswith(":"):  # a mapping's first line: address range, perms, ..., path
                current = category(fields[5] if len(fields) > 5 else "")
            elif fields[0] == "Rss:":
                rss[current] += int(fields[1])
            elif fields[0] == "Pss:":
                pss[current] += int(fields[1])
            elif fields[0] in ("Private_Clean:", "Private_Dirty:"):
                private += int(fields[1])
    return {"rss_mb": round(sum(rss.values()) / 1024, 1), "pss_mb": round(sum(pss.values()) / 1024, 1),
            "private_mb": round(private / 1024, 1),
            "by_kind": {kind: {"rss_mb": round(rss[kind] / 1024, 1), "pss_mb": round(pss[kind] / 1024, 1)}
                        for kind, _ in rss.most_common()},
            "threads": len(os.listdir(f"/proc/{pid}/task"))}


def v8_heap_mb() -> dict:
    """The JS heap of an isolate holding SES, acorn and the runtime (no lockdown or runs: a lower bound)."""
    from py_mini_racer import MiniRacer

    racer = MiniRacer()
    for source in assets.load().sources:
        racer.eval(source)
    stats = json.loads(racer._ctx.heap_stats())  # noqa: SLF001 - the pinned mini-racer's statistics
    return {key: round(value / 1e6, 1) for key, value in stats.items()
            if key in ("total_heap_size", "used_heap_size", "total_physical_size")}


def parent_of(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("PPid:"))


def two_sandboxes(round_trips: int, forked: bool) -> dict:
    """The figures of two sandboxes of one pool (and of their fork server), after `round_trips` runs each."""
    supervisor._use_fork_server = lambda: forked  # noqa: SLF001 - the bench picks the way sandboxes start
    limits = Limits(timeout_ms=1000, memory_mb=64)
    host, program = BenchHost(), Program.from_source(SCRIPT)
    pool.clear()
    state = suspended_flow(program, host, limits)
    try:
        for i in range(round_trips):  # the pool starts a sandbox and keeps it
            advance(program, state, host, limits=limits, now_ms=1_700_000_001_000 + i)
        with pool.borrow(limits) as first:  # while it is lent, the round trips need (and keep) a second one
            for i in range(round_trips):
                advance(program, state, host, limits=limits, now_ms=1_700_000_002_000 + i)
            (second_pid,) = [pid for pid in pool.idle_pids(limits) if pid != first.pid]
            figures = {"first_sandbox": smaps_mb(first.pid), "second_sandbox": smaps_mb(second_pid)}
            if forked:
                figures["fork_server"] = smaps_mb(parent_of(first.pid))
    finally:
        pool.clear()
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--round-trips", type=int, default=200)
    args = parser.parse_args()

    forked = two_sandboxes(args.round_trips, forked=True)
    afresh = two_sandboxes(args.round_trips, forked=False)
    import py_mini_racer

    icu = Path(py_mini_racer.__file__).with_name("icudtl.dat")
    report = {"benchmark": "sandbox_memory", "round_trips_each": args.round_trips,
              "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
              "forked_by_the_fork_server": forked, "started_afresh": afresh,
              "icu_data_file_mb": round(icu.stat().st_size / 2**20, 1),
              "v8_js_heap_mb": v8_heap_mb()}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
