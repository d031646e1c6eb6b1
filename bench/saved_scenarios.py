"""What saved scenarios and the flow diagram cost: checking a version against scenarios (each new version runs
all of its script's saved scenarios while it is saved; a script keeps at most 25), and outlining a script.

Prints one JSON object.  The scenarios are the template gallery's eleven, each run on its own template (the
simulator, the real engine in its sandbox); the outline is of each template.  No database is used.
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


def timed_ms(work, iterations):
    samples = []
    for _ in range(iterations):
        started = time.perf_counter()
        work()
        samples.append((time.perf_counter() - started) * 1000)
    return {"p50": round(statistics.median(samples), 1), "max": round(max(samples), 1)}


def main(iterations=10):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "authflow.settings")
    os.environ.setdefault("AUTHFLOW_DEBUG", "1")
    import django

    django.setup()
    from authflow.console_pages.gallery import templates
    from sequences.api import outline
    from sequences.expectations import run_expectation

    gallery = templates()

    def check_all():
        for template in gallery:
            assert run_expectation(template.source, template.scenario, template.expect).passed, template.slug

    def outline_all():
        for template in gallery:
            outline(template.source)

    check_all()  # sandboxes started
    report = {
        "benchmark": "saved_scenarios",
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "iterations": iterations,
        "scenarios": len(gallery),
        "check_all_scenarios_ms": timed_ms(check_all, iterations),
        "outline_all_templates_ms": timed_ms(outline_all, iterations),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
