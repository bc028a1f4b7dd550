"""Soak: 100,000 leaf calls through one jitted function, watched for leaks and slowdown.

Runs a jitted fan-out of four dispatched leaf calls (``XCS_INLINE_BELOW=0``, so
every call goes through the scheduler and a worker) 25,000 times, and reports
the resident memory, the number of threads and the time per leaf call over the
first and the last 1,000 jitted calls.  Growth between the two rows is a leak.

    python benchmarks/soak.py [--calls 100000] [--executor threads|asyncio]
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time

os.environ.setdefault("XCS_INLINE_BELOW", "0")

import xcs_core as xcs  # noqa: E402 - after the environment it reads

try:
    from tabulate import tabulate
except ImportError:  # pragma: no cover - tabulate is a dependency of the project
    sys.exit("tabulate is required: pip install -e .")

FAN_OUT = 4
WINDOW = 1000


@xcs.op
def leaf(i: int) -> int:
    return i + 1


@xcs.op
async def async_leaf(i: int) -> int:
    return i + 1


def make(executor: str):
    op = async_leaf if executor == "asyncio" else leaf

    @xcs.jit(executor=executor)
    def fan_out(base: int) -> int:
        return sum([op(base + k) for k in range(FAN_OUT)])

    return fan_out


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def window(fn, start: int) -> tuple[float, float, int]:
    begin = time.perf_counter()
    for i in range(start, start + WINDOW):
        assert fn(i) == FAN_OUT * i + FAN_OUT * (FAN_OUT - 1) // 2 + FAN_OUT
    per_call = (time.perf_counter() - begin) / (WINDOW * FAN_OUT)
    return per_call * 1e6, rss_mib(), threading.active_count()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--executor", default="threads", choices=["threads", "asyncio"])
    args = parser.parse_args()
    fn = make(args.executor)
    runs = max(args.calls // FAN_OUT, 2 * WINDOW)
    window(fn, 0)  # warm-up: pools started, code compiled
    first = window(fn, 0)
    for i in range(WINDOW, runs - WINDOW):
        fn(i)
    last = window(fn, runs - WINDOW)
    rows = [["first 1,000 jitted calls", *first], ["last 1,000 jitted calls", *last]]
    print(f"soak: {runs * FAN_OUT:,} leaf calls on {args.executor}, Python "
          f"{sys.version.split()[0]}")
    print(tabulate(rows, headers=["window", "us per leaf call", "RSS MiB", "threads"],
                   floatfmt=".1f"))


if __name__ == "__main__":
    main()
