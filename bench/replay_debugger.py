"""What the replay debugger costs: tracing a recorded flow and re-running it against another version.

Prints one JSON object.  The flow is engine_roundtrip.py's (10 answers: retried steps, an effect, a prompt),
suspended at step 3.  A trace replays the journal once per position (answers + 1 sandbox runs); a re-run does
that for both versions until they differ (here: never, the other version only logs differently), so it is the
worst case.  Also: how many bytes the journal's round-trip marks add to the suspended state.
"""
from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine_roundtrip import SCRIPT, BenchHost, suspended_flow  # noqa: E402

from sequences.engine.driver import Program  # noqa: E402
from sequences.engine.sandbox import Limits  # noqa: E402
from sequences.engine.trace import flow_rerun, flow_trace  # noqa: E402


def timed_ms(work, iterations):
    samples = []
    for _ in range(iterations):
        started = time.perf_counter()
        work()
        samples.append((time.perf_counter() - started) * 1000)
    return {"p50": round(statistics.median(samples), 1), "max": round(max(samples), 1)}


def main(iterations=50):
    limits = Limits(timeout_ms=1000, memory_mb=64)  # as engine_roundtrip.py: no Django settings needed
    program = Program.from_source(SCRIPT)
    other = Program.from_source(SCRIPT.replace("'done in '", "'finished in '"))
    state = suspended_flow(program, BenchHost(), limits)
    flow_trace(program, state, limits=limits)  # a sandbox started and the program compiled
    stored = state.to_dict()
    unmarked = {**stored, "journal": {k: v for k, v in stored["journal"].items() if k != "trips"}}
    size = len(json.dumps(stored, separators=(",", ":")))
    size_unmarked = len(json.dumps(unmarked, separators=(",", ":")))
    report = {
        "benchmark": "replay_debugger",
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "iterations": iterations,
        "answers": len(state.journal["answers"]),
        "round_trips": len(state.journal["trips"]),
        "trace_ms": timed_ms(lambda: flow_trace(program, state, limits=limits), iterations),
        "rerun_same_decisions_ms": timed_ms(lambda: flow_rerun(program, other, state, limits=limits), iterations),
        "suspended_state_bytes": size,
        "round_trip_marks_bytes": size - size_unmarked,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50)
