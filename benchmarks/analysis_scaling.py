"""Trace + analyze graphs of 1k, 10k and 100k operations: time, peak memory, growth.

Run: ``.venv/bin/python benchmarks/analysis_scaling.py``.  The growth ratio
time(100k) / time(10k) should stay near 10 (linear); the target is <= 12.
"""

from __future__ import annotations

import statistics
import sys
import time
import tracemalloc

from tabulate import tabulate

import xcs_core as xcs


@xcs.op
def step(x):
    return x + 1


@xcs.op
def gather(xs):
    return len(xs)


def program(n: int):
    """About n operations: independent calls in groups of 8, each group reduced."""
    outs = []
    for i in range(n * 8 // 9):
        outs.append(step(i))
        if len(outs) == 8:
            gather(outs)
            outs = []
    return gather(outs)


def measure(n: int, rounds: int) -> dict:
    trace_times, analyze_times = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        graph = xcs.trace(program, n).graph
        trace_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        xcs.analyze(graph)
        analyze_times.append(time.perf_counter() - start)
    tracemalloc.start()
    xcs.analyze(graph)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"ops": len(graph), "trace": statistics.median(trace_times),
            "analyze": statistics.median(analyze_times), "peak": peak}


def main(sizes=(1_000, 10_000, 100_000)) -> dict:
    rows, results = [], {}
    for n in sizes:
        r = measure(n, rounds=3 if n <= 10_000 else 1)
        results[n] = r
        rows.append([n, r["ops"], f"{r['trace']:.3f} s", f"{r['analyze']:.3f} s",
                     f"{r['analyze'] / r['ops'] * 1e6:.1f} us", f"{r['peak'] / 2**20:.1f} MiB"])
    print(tabulate(rows, headers=["n", "operations", "trace (median)", "analyze (median)",
                                  "analyze per op", "analyze peak memory"]))
    if 10_000 in results and 100_000 in results:
        growth = results[100_000]["analyze"] / results[10_000]["analyze"]
        verdict = "PASS" if growth <= 12 else "MISS"
        print(f"\ngrowth time(100k)/time(10k) = {growth:.1f} (target <= 12: {verdict}); "
              f"100k-op analysis {results[100_000]['analyze']:.2f} s (target about 1 s)")
    return results


if __name__ == "__main__":
    main(tuple(int(a) for a in sys.argv[1:]) or (1_000, 10_000, 100_000))
