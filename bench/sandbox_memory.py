"""Where a script sandbox process's memory goes, and what a second one on the same machine adds.

Prints one JSON object.  Two sandbox processes are started by a pool (as a web worker's pool
starts a second one when two runs overlap), each replays the engine benchmark's suspended 3-step
flow `--round-trips` times, then each one's
/proc/<pid>/smaps is summed by what the memory holds:

  v8_library      libmini_racer.so: V8's code, file-backed, shared by every sandbox on the machine
  python_and_libs the Python interpreter, its extension modules and the C libraries (file-backed, shared)
  private_anon    anonymous memory: V8's heap, the ICU data V8 reads into memory at start (not mapped
                  from its file, so not shared), thread stacks, Python's objects
  malloc_heap     [heap]

RSS counts shared pages in full in each process; PSS divides them between the processes that map
them, so the second sandbox's PSS shows what one more sandbox really costs.  Also measured: the V8
heap itself (heap statistics of a bare isolate loaded with the same JavaScript, in this process),
and, as a measure for a design not built (a "zygote"), two isolates loaded with the same JavaScript
in processes forked from one that had only initialised V8 (ICU data read, Python imported): what
each would cost if sandboxes were forked from such a process instead of started afresh.

    .venv/bin/python bench/sandbox_memory.py [--round-trips 200]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine_roundtrip import SCRIPT, BenchHost, suspended_flow  # noqa: E402

from sequences.engine.driver import Program, advance  # noqa: E402
from sequences.engine.sandbox import Limits, assets, pool  # noqa: E402


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
    rss, pss, current = Counter(), Counter(), "private_anon"
    with open(f"/proc/{pid}/smaps", encoding="utf-8") as smaps:
        for line in smaps:
            fields = line.split()
            if not fields[0].endswith(":"):  # a mapping's first line: address range, perms, ..., path
                current = category(fields[5] if len(fields) > 5 else "")
            elif fields[0] == "Rss:":
                rss[current] += int(fields[1])
            elif fields[0] == "Pss:":
                pss[current] += int(fields[1])
    return {"rss_mb": round(sum(rss.values()) / 1024, 1), "pss_mb": round(sum(pss.values()) / 1024, 1),
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


_FORKED = r"""
import json, os, sys, time
from py_mini_racer import MiniRacer, init_mini_racer
init_mini_racer(ignore_duplicate_init=True)  # V8 and its ICU data, before any isolate or thread
sources = json.loads(sys.stdin.read())
children = []
for _ in range(2):
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        racer = MiniRacer()
        for source in sources:
            racer.eval(source)
        os.write(write_end, racer.eval("typeof lockdown").encode())
        time.sleep(5)
        os._exit(0)
    children.append((pid, read_end))
loaded = [(pid, os.read(read_end, 100).decode()) for pid, read_end in children]
figures = {}
for pid, answer in loaded:
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        fields = dict(line.split()[:2] for line in rollup if line.split()[0] in ("Rss:", "Pss:", "Private_Dirty:"))
    figures[str(pid)] = {"lockdown": answer, **{k[:-1].lower() + "_mb": round(int(v) / 1024, 1) for k, v in fields.items()}}
for pid, _ in children:
    os.kill(pid, 9)
    os.waitpid(pid, 0)
print(json.dumps(list(figures.values())))
"""


def forked_isolates() -> list[dict]:
    done = subprocess.run([sys.executable, "-I", "-c", _FORKED], input=json.dumps(list(assets.load().sources)),
                          capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        return [{"error": done.stderr[-500:]}]
    return json.loads(done.stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--round-trips", type=int, default=200)
    args = parser.parse_args()

    limits = Limits(timeout_ms=1000, memory_mb=64)
    host, program = BenchHost(), Program.from_source(SCRIPT)
    state = suspended_flow(program, host, limits)
    try:
        for i in range(args.round_trips):  # the pool starts a sandbox and keeps it
            advance(program, state, host, limits=limits, now_ms=1_700_000_001_000 + i)
        with pool.borrow(limits) as first:  # while it is lent, the round trips need (and keep) a second one
            for i in range(args.round_trips):
                advance(program, state, host, limits=limits, now_ms=1_700_000_002_000 + i)
            (second_pid,) = [pid for pid in pool.idle_pids(limits) if pid != first.pid]
            first_figures, second_figures = smaps_mb(first.pid), smaps_mb(second_pid)
    finally:
        pool.clear()
    import py_mini_racer

    icu = Path(py_mini_racer.__file__).with_name("icudtl.dat")
    report = {"benchmark": "sandbox_memory", "round_trips_each": args.round_trips,
              "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
              "first_sandbox": first_figures, "second_sandbox": second_figures,
              "icu_data_file_mb": round(icu.stat().st_size / 2**20, 1),
              "forked_from_an_initialised_v8": forked_isolates(),
              "v8_js_heap_mb": v8_heap_mb()}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
