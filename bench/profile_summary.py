"""Where a py-spy profile (collapsed stacks, as bench/login_cpu.py --profile writes) spends its time.

    .venv/bin/python bench/profile_summary.py PROFILE.txt [--under FUNCTION] [--top 40] [--logins N]
        [--skip verify_secret]

Prints the functions with the most samples inside FUNCTION (default: the whole request), inclusive,
as ms per login when --logins is given (py-spy's default 250 samples a second), else as a share.
"""
from __future__ import annotations

import argparse
from collections import Counter


def short(frame: str) -> str:
    name, _, where = frame.partition(" (")
    return f"{name} ({where.split(':')[0].rsplit('/', 1)[-1]})" if where else name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile")
    parser.add_argument("--under", default="handle_request", help="count only samples inside this function")
    parser.add_argument("--skip", action="append", default=[], help="leave out samples inside this function")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--logins", type=int, default=0)
    parser.add_argument("--rate", type=int, default=250)
    args = parser.parse_args()
    inclusive, total = Counter(), 0
    with open(args.profile, encoding="utf-8") as lines:
        for line in lines:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            frames = [short(frame) for frame in stack.split(";")]
            start = next((i for i, frame in enumerate(frames) if args.under in frame), None)
            if start is None or any(skip in frame for frame in frames for skip in args.skip):
                continue
            total += int(count)
            for frame in dict.fromkeys(frames[start:]):
                inclusive[frame] += int(count)

    def shown(samples: int) -> str:
        if args.logins:
            return f"{samples * 1000 / args.rate / args.logins:8.1f} ms"
        return f"{samples * 100 / max(total, 1):7.1f} %"

    print(f"{shown(total)}  (all samples inside {args.under})")
    for frame, samples in inclusive.most_common(args.top):
        print(f"{shown(samples)}  {frame}")


if __name__ == "__main__":
    main()
