"""Trace, analyze and run graphs of 1k, 10k and 100k operations, of three shapes.

Run: ``.venv/bin/python benchmarks/analysis_scaling.py [SIZES...]``.

Shapes (``SHAPES``), each about n operations of a cheap leaf op:

* ``groups``: independent calls in groups of 8, each group reduced by one call;
* ``fan-in``: n - 1 independent calls, all reduced by one call;
* ``chain``: n calls, each taking the previous one's value.

Stages: ``xcs.trace`` (record the graph, every call run inline and timed), ``xcs.analyze``
of that graph (with its peak memory), and a jitted run (``xcs.jit``; calls this cheap run
inline once their cost is known, so this is the engine's own cost per operation).  The
growth ratio time(100k) / time(10k) of each should stay near 10 (linear); the target is
<= 12, and about a second for 100k operations.
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable

from tabulate import tabulate

import xcs_core as xcs

STAGES = ("trace", "analyze", "run")


@xcs.op
def step(x):
    return x + 1


@xcs.op
def gather(xs):
    return len(xs)


def groups(n: int):
    outs = []
    for i in range(n * 8 // 9):
        outs.append(step(i))
        if len(outs) == 8:
            gather(outs)
            outs = []
    return gather(outs)


def fan_in(n: int):
    return gather([step(i) for i in range(n - 1)])


def chain(n: int):
    x = 0
    for _ in range(n):
        x = step(x)
    return x


SHAPES: dict[str, Callable] = {"groups": groups, "fan-in": fan_in, "chain": chain}


def measure(program: Callable, n: int, rounds: int) -> dict:
    times: dict[str, list[float]] = {stage: [] for stage in STAGES}
    jitted = xcs.jit(program)
    jitted(100)  # learns that the calls are cheap, as any later run knows
    graph = None
    for _ in range(rounds):
        graph = None  # each stage starts on a clean heap: the collector's passes then walk
        gc.collect()  # what this stage makes, not the previous round's graph as well
        start = time.perf_counter()
        graph = xcs.trace(program, n).graph
        times["trace"].append(time.perf_counter() - start)
        gc.collect()
        start = time.perf_counter()
        xcs.analyze(graph)
        times["analyze"].append(time.perf_counter() - start)
        gc.collect()
        start = time.perf_counter()
        jitted(n)
        times["run"].append(time.perf_counter() - start)
    tracemalloc.start()
    xcs.analyze(graph)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"ops": len(graph), "peak": peak,
            **{stage: statistics.median(ts) for stage, ts in times.items()}}


def main(sizes=(1_000, 10_000, 100_000)) -> dict[str, dict[int, dict]]:
    """``{shape: {n: {"ops", "trace", "analyze", "run", "peak"}}}``, printed as a table."""
    rows, results = [], {}
    for shape, program in SHAPES.items():
        results[shape] = {}
        for n in sizes:
            r = results[shape][n] = measure(program, n, rounds=3)
            rows.append([shape, r["ops"], *(f"{r[stage]:.3f} s" for stage in STAGES),
                         f"{r['analyze'] / r['ops'] * 1e6:.1f} us",
                         f"{r['peak'] / 2**20:.1f} MiB"])
    print(tabulate(rows, headers=["shape", "operations", "trace", "analyze", "run (jit)",
                                  "analyze per op", "analyze peak memory"]))
    if 10_000 in sizes and 100_000 in sizes:
        for stage in STAGES:
            growth = {s: r[100_000][stage] / r[10_000][stage] for s, r in results.items()}
            worst = max(results, key=lambda s: results[s][100_000][stage])
            print(f"{stage}: growth time(100k)/time(10k) "
                  + ", ".join(f"{s} {g:.1f}" for s, g in growth.items())
                  + f" (target <= 12); slowest at 100k: {worst} "
                  f"{results[worst][100_000][stage]:.2f} s (target about 1 s)")
    return results


if __name__ == "__main__":
    main(tuple(int(a) for a in sys.argv[1:]) or (1_000, 10_000, 100_000))
