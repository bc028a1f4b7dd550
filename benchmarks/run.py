"""Benchmarks of xcs against its peers, measured side by side in one run.

Run: ``.venv/bin/pip install -e ".[bench]" && .venv/bin/python benchmarks/run.py``
(``--quick`` for fewer rounds).  Contenders of a workload are interleaved
round by round, so machine drift affects all alike; tables show medians with
min/max and ratios against the hand-written thread pool, then every target
with PASS/MISS.  Results are also written to ``benchmarks/results/latest.json``.

Dask distributed runs an in-process ``LocalCluster`` whose event loop and 128
worker threads live in this process; measured interleaved, it slowed every
other contender that keeps threads.  Its column is therefore measured in a
phase of its own (same rounds, same checked result), with the cluster running
only during that phase.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import tracemalloc
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tabulate import tabulate

sys.path.insert(0, str(Path(__file__).resolve().parent))

import analysis_scaling  # noqa: E402
import workloads as wl  # noqa: E402

import xcs_core as xcs  # noqa: E402
from xcs_core.executors import shutdown_all  # noqa: E402
from xcs_core.report import format_seconds  # noqa: E402

HAND = ("ThreadPoolExecutor", "ThreadPoolExecutor (by stage)", "ThreadPoolExecutor.submit+result",
        "ProcessPoolExecutor(2) warm")


def measure(work: wl.Workload, rounds: int) -> dict[str, list[float]]:
    """Interleaved rounds (one warm-up each); checks every contender returns the same."""
    expected = None
    for name, fn in work.contenders.items():
        value = fn()
        if expected is None:
            expected = value
        elif value != expected:
            raise SystemExit(f"{work.name}: {name} returned {value!r}, expected {expected!r}")
    times: dict[str, list[float]] = {name: [] for name in work.contenders}
    for _ in range(work.rounds or rounds):
        for name, fn in work.contenders.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return times


def measure_isolated(works: list[wl.Workload], rounds: int) -> dict[str, dict[str, list]]:
    """Contenders that need a Dask cluster, each workload's against its own checked value."""
    wanted = [w for w in works if w.isolated]
    client = _dask_client() if wanted else None
    if client is None:
        return {}
    # the xcs dask executor starts its own LocalCluster (worker processes) here too
    os.environ.setdefault("XCS_DASK_WORKERS", "2")
    os.environ.setdefault("XCS_DASK_THREADS", "64")
    out: dict[str, dict[str, list]] = {}
    try:
        for work in wanted:
            expected = next(iter(work.contenders.values()))()
            fns = {"reference": lambda value=expected: value}
            fns.update({name: make(client) for name, make in work.isolated.items()})
            out[work.name] = measure(wl.Workload(work.name, fns), rounds)
            del out[work.name]["reference"]
    finally:
        cluster = client.cluster
        client.close()
        cluster.close()
        shutdown_all()
    return out


def table(work: wl.Workload, times: dict[str, list[float]]) -> str:
    hand = next((times[h] for h in HAND if h in times), None)
    per_op = work.meta.get("per_op")
    rows = []
    for name, ts in times.items():
        med = statistics.median(ts)
        row = [name, format_seconds(med), f"{format_seconds(min(ts))} / {format_seconds(max(ts))}"]
        row.append(f"{med / statistics.median(hand):.2f}" if hand else "-")
        if per_op:
            row.append(f"{med / per_op * 1e6:.1f} us")
        elif work.ideal:
            row.append(f"{work.ideal / med:.0%}")
        rows.append(row)
    last = "per op" if per_op else "efficiency (ideal / median)"
    return tabulate(rows, headers=["contender", "median", "min / max", "x hand pool", last])


def predicted_vs_measured(work: wl.Workload, xcs_median: float) -> tuple[float, float]:
    traced = xcs.trace(work.traced)
    predicted = xcs.analyze(traced.graph).predicted_speedup()
    return predicted, traced.wall_time / xcs_median


def first_call_overhead() -> tuple[float, float]:
    """(first call, median of later calls) of a freshly jitted ensemble of 8."""
    @xcs.op
    def fresh_model(i: int) -> int:
        time.sleep(wl.LATENCY)
        return i

    jitted = xcs.jit(lambda: sum([fresh_model(i) for i in range(8)]))
    start = time.perf_counter()
    jitted()
    first = time.perf_counter() - start
    later = []
    for _ in range(7):
        start = time.perf_counter()
        jitted()
        later.append(time.perf_counter() - start)
    return first, statistics.median(later)


def memory_ratio() -> float:
    """Peak memory of a jitted chain of 8 MB intermediates over the plain run's peak."""
    size = 8_000_000

    @xcs.op
    def grow(x: bytes) -> bytes:
        time.sleep(0.001)
        return x + b"x" * size

    def chain() -> int:
        x = b"y" * size
        for _ in range(8):
            x = grow(x)[:size]
        return len(x)

    peaks = []
    for fn in (chain, xcs.jit(chain)):
        tracemalloc.start()
        fn()
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    return peaks[1] / peaks[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds instead of 9")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "latest.json"))
    parser.add_argument("--only", default="", metavar="TEXT",
                        help="run only workloads whose name contains TEXT (no global targets)")
    parser.add_argument("--no-distributed", action="store_true",
                        help="skip the Dask distributed contender")
    args = parser.parse_args(argv)
    rounds = 3 if args.quick else 9
    pool, processes = ThreadPoolExecutor(8), ProcessPoolExecutor(2)
    results: dict[str, Any] = {"machine": _machine(), "rounds": rounds, "workloads": {}}
    targets: list[tuple[str, str, str, bool]] = []
    works = [wl.ensemble_workload(n) for n in (8, 32, 128)]
    works += [wl.diamond_workload(pool), wl.chat_workload(pool), wl.dispatch_workload(pool),
              wl.cpu_workload(processes)]
    works = [w for w in works if args.only in w.name]
    isolated = {} if args.no_distributed else measure_isolated(works, rounds)
    for work in works:
        times = measure(work, rounds)
        times.update(isolated.get(work.name, {}))
        print(f"\n## {work.name}\n{table(work, times)}", flush=True)
        med = {k: statistics.median(v) for k, v in times.items()}
        results["workloads"][work.name] = {"times": times, "medians": med}
        targets += _targets(work, med)
    if not args.only:
        targets += _global_targets()
    pool.shutdown()
    processes.shutdown()
    print("\n## targets\n" + tabulate(
        [(w, t, m, "PASS" if ok else "MISS") for w, t, m, ok in targets],
        headers=["workload", "target", "measured", ""]))
    results["targets"] = [dict(zip(("workload", "target", "measured", "pass"), t))
                          for t in targets]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2))
    print(f"\nresults written to {args.out}")
    return 0


def _targets(work: wl.Workload, med: dict[str, float]) -> list[tuple[str, str, str, bool]]:
    out = []
    x = med.get("xcs threads")
    if work.name.startswith("ensemble"):
        n = work.meta["n"]
        hand = med["ThreadPoolExecutor"]
        out.append((work.name, "xcs <= hand-written pool", f"{x / hand:.2f}x of it", x <= hand))
        floor = {32: 0.85, 128: 0.70}.get(n)
        if floor:
            out.append((work.name, f"efficiency >= {floor:.2f}", f"{wl.LATENCY / x:.2f}",
                        wl.LATENCY / x >= floor))
    if work.name.startswith("diamond"):
        out.append((work.name, "efficiency >= 0.90", f"{work.ideal / x:.2f}",
                    work.ideal / x >= 0.90))
    if work.traced is not None:
        predicted, measured = predicted_vs_measured(work, x)
        err = abs(predicted - measured) / measured
        out.append((work.name, "predicted within 15% of measured",
                    f"{predicted:.2f}x vs {measured:.2f}x ({err:.0%})", err <= 0.15))
    if work.meta.get("per_op"):
        n, tpe = work.meta["per_op"], med["ThreadPoolExecutor.submit+result"]
        out.append((work.name, "per op <= 2x ThreadPoolExecutor.submit+result",
                    f"{x / n * 1e6:.1f} us vs {tpe / n * 1e6:.1f} us", x <= 2 * tpe))
        raw = med.get("dask threaded (raw graph)")
        if raw:
            out.append((work.name, ">= 3x lower than dask threaded raw graph",
                        f"{raw / x:.1f}x lower", raw / x >= 3))
    if work.name.startswith("CPU"):
        speedup = med["sequential"] / med["xcs processes"]
        out.append((work.name, "process executor >= 1.9x", f"{speedup:.2f}x", speedup >= 1.9))
    return out


def _global_targets() -> list[tuple[str, str, str, bool]]:
    first, later = first_call_overhead()
    ratio = memory_ratio()
    growth = analysis_scaling.main((10_000, 100_000))
    per_10k, per_100k = growth[10_000]["analyze"], growth[100_000]["analyze"]
    return [
        ("first call", "first call ~ later calls + tracing overhead",
         f"{format_seconds(first)} vs {format_seconds(later)} "
         f"(+{format_seconds(first - later)})", first - later < 0.005),
        ("memory", "jitted peak <= 1.2x sequential", f"{ratio:.2f}x", ratio <= 1.2),
        ("analysis", "100k ops in about 1 s", format_seconds(per_100k), per_100k <= 1.5),
        ("analysis", "time(100k)/time(10k) <= 12", f"{per_100k / per_10k:.1f}",
         per_100k / per_10k <= 12),
    ]


def _dask_client() -> Any:
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        print("dask[distributed] not installed: its columns are skipped "
              "(pip install -e '.[bench]')")
        return None
    import dask

    # The worker's statistical profiler samples every thread of this process every
    # 10 ms; in-process it would tax every contender that keeps threads alive.
    dask.config.set({"distributed.worker.profile.enabled": False})
    cluster = LocalCluster(n_workers=1, threads_per_worker=128, processes=False,
                           dashboard_address=":0")
    return Client(cluster)


def _machine() -> dict[str, Any]:
    return {"python": platform.python_version(), "machine": platform.machine(),
            "cpus": os.cpu_count(), "system": platform.system()}


if __name__ == "__main__":
    sys.exit(main())
