"""Measuring contenders side by side: warm-ups, checks, interleaved rounds, tables.

Every workload has a ``reference``: the value the plain sequential program
returns.  Each contender gets the same number of warm-up calls, then rounds run
interleaved (the contenders' order shuffled every round, with a fixed seed),
and every call's result, warm-up or timed, is checked against the reference
outside the timed region.  Tables show the median of the rounds with min/max
and the ratio of each median to the best peer's (the fastest contender not
written with xcs; lower is better).

``in_fresh_process`` runs a benchmark function in a new interpreter (with the
environment it needs, e.g. ``XCS_INLINE_BELOW``) and returns what it returns.
"""

from __future__ import annotations

import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tabulate import tabulate

from xcs_core.report import format_seconds

HERE = Path(__file__).resolve().parent
WARMUPS = 2


@dataclass
class Workload:
    """A named workload: contenders (name -> zero-argument callable) and the value
    the plain sequential program returns (what every contender must return)."""

    name: str
    reference: Any
    contenders: dict[str, Callable[[], Any]]
    ideal: float | None = None  # critical path of the simulated latencies
    traced: Callable[[], Any] | None = None  # plain-Python body, for the predicted speedup
    meta: dict[str, Any] = field(default_factory=dict)
    # contenders that need a Dask client: measured in a phase of their own (see run.py)
    isolated: dict[str, Callable[[Any], Callable[[], Any]]] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)  # contender -> what went wrong


def is_xcs(name: str) -> bool:
    return name.startswith("xcs")


def timed_call(work: Workload, name: str) -> float:
    """One call of contender ``name``: its time; its result checked outside that time.
    A contender that raises or returns something else is recorded in ``work.failures``
    and raises ``Failed``."""
    start = time.perf_counter()
    try:
        value = work.contenders[name]()
    except Exception as exc:  # noqa: BLE001 - reported in the table, not hidden
        work.failures[name] = f"raised {type(exc).__name__}: {exc}"
        raise Failed from exc
    elapsed = time.perf_counter() - start
    if value != work.reference:
        work.failures[name] = (f"returned {value!r:.60}, the sequential program returns "
                               f"{work.reference!r:.60}")
        raise Failed
    return elapsed


class Failed(Exception):
    """A contender failed its call (see ``Workload.failures``)."""


def measure(work: Workload, rounds: int, seed: int = 0) -> dict[str, list[float]]:
    """Equal warm-ups, then ``rounds`` interleaved, shuffled rounds; every result checked.

    A contender that fails is dropped from the rounds and reported by ``table``."""
    order = list(work.contenders)
    times: dict[str, list[float]] = {name: [] for name in order}
    rng = random.Random(seed)
    for round_ in range(WARMUPS + rounds):
        if round_ >= WARMUPS:
            rng.shuffle(order)
        for name in list(order):
            try:
                elapsed = timed_call(work, name)
            except Failed:
                order.remove(name)
                del times[name]
                continue
            if round_ >= WARMUPS:
                times[name].append(elapsed)
    return times


def best_peer(medians: dict[str, float]) -> str | None:
    peers = {name: m for name, m in medians.items() if not is_xcs(name)}
    return min(peers, key=peers.get) if peers else None


fmt = format_seconds  # the engine's report and the benchmarks print durations alike


def table(work: Workload, times: dict[str, list[float]]) -> str:
    """Median, min/max, ratio to the best peer and efficiency (ideal / median)."""
    medians = {name: statistics.median(ts) for name, ts in times.items()}
    best = best_peer(medians)
    rows = []
    for name, ts in times.items():
        med = medians[name]
        row = [name, fmt(med), f"{fmt(min(ts))} / {fmt(max(ts))}",
               f"{med / medians[best]:.2f}" if best else "-"]
        if work.ideal:
            row.append(f"{work.ideal / med:.0%}")
        rows.append(row)
    for name, why in work.failures.items():
        rows.append([name, "FAILED", why[:70], "-"] + (["-"] if work.ideal else []))
    headers = ["contender", "median", "min / max", "x best peer"]
    if work.ideal:
        headers.append("efficiency")
    return tabulate(rows, headers=headers) + f"\nbest peer: {best}"


def in_fresh_process(module: str, function: str, env: dict[str, str] | None = None,
                     timeout: float = 300) -> Any:
    """``module.function()`` in a new interpreter; its JSON-printed return value."""
    code = (f"import json, sys; sys.path.insert(0, {str(HERE)!r}); import {module}; "
            f"print('\\n' + json.dumps({module}.{function}()))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, **(env or {})}, timeout=timeout, cwd=HERE)
    if out.returncode:
        raise SystemExit(f"{module}.{function} failed in a fresh process:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def machine() -> dict[str, Any]:
    return {"python": platform.python_version(), "machine": platform.machine(),
            "cpus": os.cpu_count(), "system": platform.system(),
            "load average (1, 5, 15 min)": [round(x, 2) for x in os.getloadavg()]}
