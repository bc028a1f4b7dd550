"""Benchmarks of xcs against its peers, measured side by side in one run.

Run: ``.venv/bin/pip install -e ".[bench]" && .venv/bin/python benchmarks/run.py``
(``--quick`` for 5 rounds and no N=4096 ensemble; ``--only TEXT`` for the
sections whose name contains TEXT: ``ensemble``, ``diamond``, ``chat``,
``chain``, ``CPU``, ``batching``, ``overhead``, ``memory``, ``analysis``).  How contenders are
measured is in ``harness.py``; how peers are written, in ``workloads.py``; the
cost of jitting itself, in ``overhead.py``.  Every target of the project is
printed with PASS/MISS; results are also written to
``benchmarks/results/latest.json``.

Dask distributed runs an in-process ``LocalCluster`` whose event loop and
worker threads live in this process; measured interleaved, it slowed every
other contender that keeps threads.  Its columns (hand-written futures, and
xcs on Dask) are therefore measured in a phase of their own, same rounds, same
checked result, with the cluster running only during that phase.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tabulate import tabulate

sys.path.insert(0, str(Path(__file__).resolve().parent))

import analysis_scaling  # noqa: E402
import batching  # noqa: E402
import harness  # noqa: E402
import overhead  # noqa: E402
import workloads as wl  # noqa: E402

import xcs_core as xcs  # noqa: E402
from xcs_core.executors import shutdown_all  # noqa: E402

Target = tuple[str, str, str, bool]


def build(peers: wl.Peers, quick: bool, only: str) -> list[harness.Workload]:
    """The workloads whose name contains ``only`` (the others are not even set up)."""
    makers: dict[str, Callable[[], harness.Workload]] = {
        f"ensemble N={n}": functools.partial(wl.ensemble_workload, n, peers)
        for n in (8, 128, 512)}
    if not quick:
        makers["ensemble N=4096"] = functools.partial(
            wl.ensemble_workload, 4096, peers, asyncio_only=True)
    makers.update({"diamond": functools.partial(wl.diamond_workload, peers),
                   "chat pipeline": functools.partial(wl.chat_workload, peers),
                   "chain": wl.chain_workload,
                   "CPU-bound": functools.partial(wl.cpu_workload, peers),
                   "batching 256 lookups": functools.partial(batching.batching_workload,
                                                             peers.runner)})
    return [make() for name, make in makers.items() if only in name]


def measure_isolated(works: list[harness.Workload], rounds: int) -> dict[str, dict[str, list]]:
    """The contenders that need a Dask client, in a phase of their own."""
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
            phase = harness.Workload(work.name, work.reference,
                                     {name: make(client) for name, make in work.isolated.items()})
            out[work.name] = harness.measure(phase, rounds)
            work.failures.update(phase.failures)
    finally:
        cluster = client.cluster
        client.close()
        cluster.close()
        shutdown_all()
    return out


def run_workloads(works: list[harness.Workload], rounds: int, distributed: bool,
                  results: dict[str, Any]) -> list[Target]:
    isolated = measure_isolated(works, rounds) if distributed else {}
    targets: list[Target] = []
    for work in works:
        times = harness.measure(work, rounds)
        times.update(isolated.get(work.name, {}))
        load = os.getloadavg()[0]
        print(f"\n## {work.name} (load average {load:.1f} after it)\n"
              f"{harness.table(work, times)}", flush=True)
        med = {k: statistics.median(v) for k, v in times.items()}
        results["workloads"][work.name] = {"times": times, "medians": med, "load": load}
        targets += workload_targets(work, med)
    return targets


def workload_targets(work: harness.Workload, med: dict[str, float]) -> list[Target]:
    out: list[Target] = []

    def ratio(name: str, peer: str, limit: float, what: str, invert: bool = False) -> None:
        failed = [c for c in (name, peer) if c in work.failures]
        if failed:
            out.append((work.name, what, f"{' and '.join(failed)} failed", False))
        elif name in med and peer in med:
            r = med[peer] / med[name] if invert else med[name] / med[peer]
            out.append((work.name, what, f"{r:.2f}x", r >= limit if invert else r <= limit))

    if work.name.startswith("ensemble"):
        n = work.meta["n"]
        for name in ("xcs asyncio", "xcs async def jit (Runner)"):
            ratio(name, "asyncio.gather (Runner reused)", 1.05,
                  f"{name} <= 1.05x asyncio.gather")
        ratio("xcs threads", f"ThreadPoolExecutor({n}) reused", 1.0,
              "xcs threads faster than a reused ThreadPoolExecutor")
        ratio("xcs dask", "dask futures", 1.2, "xcs dask <= 1.2x hand-written Dask futures")
    if work.name.startswith("diamond") and "xcs threads" in med:
        eff = work.ideal / med["xcs threads"]
        out.append((work.name, "efficiency >= 0.90", f"{eff:.2f}", eff >= 0.90))
    if work.name.startswith("chain"):
        ratio("xcs threads", "sequential", 1.02, "xcs threads <= 1.02x sequential")
    if work.name.startswith("CPU"):
        ratio("xcs processes", "sequential", 1.9, "xcs processes >= 1.9x sequential",
              invert=True)
        ratio("xcs processes", f"ProcessPoolExecutor({work.meta['workers']}) warm", 1.05,
              "xcs processes <= 1.05x a warm ProcessPoolExecutor")
    if work.name.startswith("batching"):
        ratio("xcs threads, batch=", "asyncio DataLoader", 1.1,
              "xcs batch= <= 1.1x a hand-written asyncio DataLoader")
    if work.traced is not None and "xcs threads" in med:
        out.append(prediction_target(work, med["xcs threads"]))
    return out


def prediction_target(work: harness.Workload, xcs_median: float) -> Target:
    traced = xcs.trace(work.traced)
    predicted = xcs.analyze(traced.graph).predicted_speedup()
    measured = traced.wall_time / xcs_median
    err = abs(predicted - measured) / measured
    return (work.name, "predicted speedup within 15% of measured",
            f"{predicted:.2f}x vs {measured:.2f}x ({err:.0%})", err <= 0.15)


def overhead_targets(raw: dict[str, Any]) -> list[Target]:
    first = raw["first_call"]
    out = []
    for mode in ("dispatched, workers waiting", "dispatched"):
        leaf = raw["leaf_calls"][mode]["xcs threads"]
        what = f"calling thread <= 3 us per dispatched leaf call ({mode})"
        if "failed" in leaf:
            out.append(("overhead", what, "failed", False))
            continue
        per_call = leaf["issue"] / overhead.LEAF_CALLS
        pool = next((r for name, r in raw["leaf_calls"][mode].items()
                     if name.startswith("ThreadPoolExecutor") and "issue" in r), None)
        measured = f"{per_call * 1e6:.1f} us" + (
            "" if pool is None else f" (submit {pool['issue'] / overhead.LEAF_CALLS * 1e6:.1f})")
        out.append(("overhead", what, measured, per_call <= 3e-6))
    out.append(("overhead", "import xcs_core <= 60 ms", harness.fmt(first["import"]),
                first["import"] <= 0.060))
    for name, figures in first["functions"].items():
        if isinstance(figures, str):
            out.append(("first call", f"{name}: first - later calls < 5 ms", "failed", False))
            continue
        one, later = figures
        out.append(("first call", f"{name}: first - later calls < 5 ms",
                    harness.fmt(one - later), one - later < 0.005))
    return out


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


def global_targets(only: str, rounds: int, results: dict[str, Any]) -> list[Target]:
    targets: list[Target] = []
    if only in "overhead":
        text, raw = overhead.report(rounds)
        print(f"\n{text}", flush=True)
        results["overhead"] = raw
        targets += overhead_targets(raw)
    if only in "memory":
        ratio = memory_ratio()
        targets.append(("memory", "jitted peak <= 1.2x sequential", f"{ratio:.2f}x",
                        ratio <= 1.2))
    if only in "analysis":
        print("\n## analysis scaling")
        targets += scaling_targets(analysis_scaling.main((10_000, 100_000)))
    return targets


def scaling_targets(results: dict[str, dict[int, dict]]) -> list[tuple]:
    """Per stage (trace, analyze, run), over every shape: 100k operations in about a
    second (1.5 s at most), and time(100k) / time(10k) <= 12."""
    targets = []
    for stage in analysis_scaling.STAGES:
        worst = max(results, key=lambda shape: results[shape][100_000][stage])
        seconds = results[worst][100_000][stage]
        growth = max((r[100_000][stage] / r[10_000][stage], shape)
                     for shape, r in results.items())
        targets += [
            ("scaling", f"{stage} of 100k ops, every shape, in about 1 s",
             f"{harness.fmt(seconds)} ({worst})", seconds <= 1.5),
            ("scaling", f"{stage}: time(100k)/time(10k) <= 12, every shape",
             f"{growth[0]:.1f} ({growth[1]})", growth[0] <= 12)]
    return targets


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="5 rounds instead of 9, no N=4096 ensemble")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "latest.json"))
    parser.add_argument("--only", default="", metavar="TEXT",
                        help="run only the sections whose name contains TEXT")
    parser.add_argument("--no-distributed", action="store_true",
                        help="skip the Dask distributed contenders")
    args = parser.parse_args(argv)
    rounds = 5 if args.quick else 9
    started = time.perf_counter()
    results: dict[str, Any] = {"machine": harness.machine(), "rounds": rounds, "workloads": {}}
    peers = wl.Peers()
    try:
        works = build(peers, args.quick, args.only)
        targets = run_workloads(works, rounds, not args.no_distributed, results)
    finally:
        peers.close()
        shutdown_all()
    targets += global_targets(args.only, rounds, results)
    print("\n## targets\n" + tabulate(
        [(w, t, m, "PASS" if ok else "MISS") for w, t, m, ok in targets],
        headers=["workload", "target", "measured", ""]))
    results["targets"] = [dict(zip(("workload", "target", "measured", "pass"), t))
                          for t in targets]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2))
    print(f"\n{harness.machine()}; {rounds} rounds; "
          f"{time.perf_counter() - started:.0f} s; results written to {args.out}")
    return 0


def _dask_client() -> Any:
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        print("dask[distributed] not installed: its columns are skipped "
              "(pip install -e '.[bench]')")
        return None
    import logging

    import dask

    for name in ("distributed", "distributed.nanny", "distributed.scheduler"):
        logging.getLogger(name).setLevel(logging.ERROR)
    # The worker's statistical profiler samples every thread of this process every
    # 10 ms; in-process it would tax every contender that keeps threads.
    dask.config.set({"distributed.worker.profile.enabled": False})
    cluster = LocalCluster(n_workers=1, threads_per_worker=128, processes=False,
                           dashboard_address=":0")
    return Client(cluster)


if __name__ == "__main__":
    sys.exit(main())
