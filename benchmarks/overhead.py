"""What jitting costs on its own, measured against the same plain Python.

(a) Per leaf call: many trivial leaf calls (``i + 1``) in a jitted function,
    in microseconds per call, both with every call dispatched to the thread
    executor (``XCS_INLINE_BELOW=0``; compared with ``ThreadPoolExecutor``
    ``submit`` + ``result`` on a pool of the same size) and with cheap calls
    run inline on the calling thread (``XCS_INLINE_BELOW=1``; compared with
    plain calls).  "calling thread" is the time the loop that makes the calls
    takes, before any result is read: what the caller pays per call.  In the
    ``dispatched`` mode the workers run the calls beside that loop and take the
    GIL from it; in ``dispatched, workers waiting`` every call waits (as on
    I/O, without the GIL) until the loop has made them all, so the loop's time
    is the dispatch alone, against a pool's ``submit`` in the same conditions.
(b) Per plain statement: a jitted function that makes no leaf calls (a loop
    of arithmetic, string formatting, dict and list work, helper calls) against
    the same function undecorated, in nanoseconds per executed statement, and
    the fixed cost of calling an empty jitted function.
(c) First call: ``import xcs_core`` in a fresh interpreter, and per function the
    first call of a freshly jitted function against the median of its calls 2
    to 10, in a fresh process (whatever the first call compiles, traces or
    learns is in it); medians over 9 such processes (one sample each: fewer
    swing with the load of the machine).

Each part runs in a fresh interpreter (the inline threshold is read at import).
Only the public API is used.  Run: ``.venv/bin/python benchmarks/overhead.py``.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from harness import HERE, Workload, fmt, in_fresh_process, measure
from tabulate import tabulate

import xcs_core as xcs

LEAF_CALLS = 10_000
ITERATIONS = 20_000
STATEMENTS_PER_ITERATION = 6  # the for header and the five statements of its body
EMPTY_CALLS = 1_000
ROUNDS = int(os.environ.get("XCS_BENCH_ROUNDS", "9"))
#: each mode of (a): XCS_INLINE_BELOW, and whether the calls wait until all are made
MODES = {"dispatched": ("0", False), "dispatched, workers waiting": ("0", True),
         "inline": ("1", False)}


# -- the code measured ----------------------------------------------------------------------
def bump_plain(i: int) -> int:
    return i + 1


bump = xcs.op(bump_plain)


def leaf_calls(n: int, leaf: Any, issue_log: list[float]) -> int:
    """``n`` calls of ``leaf``, then each result read."""
    start = time.perf_counter()
    pending = [leaf(i) for i in range(n)]
    issue_log.append(time.perf_counter() - start)
    return sum([xcs.value(p) for p in pending])


def leaf_calls_one_read(n: int, leaf: Any, issue_log: list[float]) -> int:
    """The same, all results read by one ``xcs.value`` of the list."""
    start = time.perf_counter()
    pending = [leaf(i) for i in range(n)]
    issue_log.append(time.perf_counter() - start)
    return sum(xcs.value(pending))


_released = threading.Event()  # set once every call of a round has been made


def bump_when_released(i: int) -> int:
    _released.wait()
    return i + 1


bump_released = xcs.op(bump_when_released)


def released_calls(n: int, leaf: Any, issue_log: list[float]) -> int:
    """``n`` calls of ``leaf`` that all wait until the last one is made, then each read."""
    _released.clear()
    start = time.perf_counter()
    pending = [leaf(i) for i in range(n)]
    issue_log.append(time.perf_counter() - start)
    _released.set()
    return sum([xcs.value(p) for p in pending])


def released_pool_calls(n: int, pool: ThreadPoolExecutor, issue_log: list[float]) -> int:
    _released.clear()
    start = time.perf_counter()
    futures = [pool.submit(bump_when_released, i) for i in range(n)]
    issue_log.append(time.perf_counter() - start)
    _released.set()
    return sum(f.result() for f in futures)


def pool_calls(n: int, pool: ThreadPoolExecutor, issue_log: list[float]) -> int:
    start = time.perf_counter()
    futures = [pool.submit(bump_plain, i) for i in range(n)]
    issue_log.append(time.perf_counter() - start)
    return sum(f.result() for f in futures)


def helper(x: int) -> int:
    return x ^ (x >> 3)


def statements(n: int) -> tuple[int, int, int]:
    total, seen, kept = 0, {}, []
    for i in range(n):
        x = i * 3 + 1
        key = f"k{x % 97}"
        seen[key] = seen.get(key, 0) + x
        kept.append(x & 255)
        total += helper(x)
    return total, len(seen), sum(kept)


def empty() -> None:
    return None


def calls_of(fn: Any, n: int) -> Any:
    for _ in range(n):
        fn()


@xcs.op
def short_model(i: int) -> int:
    time.sleep(0.001)
    return i * i


def ensemble8() -> int:
    return sum(xcs.value([short_model(i) for i in range(8)]))


# -- children: each runs in a fresh interpreter ---------------------------------------------
def child_leaf_calls(rounds: int = ROUNDS) -> dict[str, Any]:
    """(a) in the mode this interpreter's XCS_INLINE_BELOW and XCS_BENCH_RELEASED select."""
    n, pool = LEAF_CALLS, ThreadPoolExecutor()  # the documented default size
    workers = pool._max_workers
    if os.environ.get("XCS_BENCH_RELEASED") == "1":
        return _released_leaf_calls(n, pool, rounds)
    one_read = "xcs threads, one xcs.value(list)"
    logs: dict[str, list[float]] = {"plain calls": [], "xcs threads": [], one_read: []}
    jitted = xcs.jit(leaf_calls, max_workers=workers)
    jitted_one_read = xcs.jit(leaf_calls_one_read, max_workers=workers)
    contenders = {"plain calls": lambda: leaf_calls(n, bump_plain, logs["plain calls"]),
                  "xcs threads": lambda: jitted(n, bump, logs["xcs threads"]),
                  one_read: lambda: jitted_one_read(n, bump, logs[one_read])}
    if xcs_inline_below() == 0:
        name = f"ThreadPoolExecutor({workers}).submit+result"
        logs[name] = []
        contenders[name] = lambda: pool_calls(n, pool, logs[name])
    return _measured(Workload("leaf calls", n * (n + 1) // 2, contenders), pool, logs, rounds)


def _released_leaf_calls(n: int, pool: ThreadPoolExecutor, rounds: int) -> dict[str, Any]:
    """(a) with every call waiting until all are made (``released_calls``)."""
    name = f"ThreadPoolExecutor({pool._max_workers}).submit+result"
    logs: dict[str, list[float]] = {"plain calls": [], "xcs threads": [], name: []}
    jitted = xcs.jit(released_calls, max_workers=pool._max_workers)
    contenders = {"plain calls": lambda: leaf_calls(n, bump_plain, logs["plain calls"]),
                  "xcs threads": lambda: jitted(n, bump_released, logs["xcs threads"]),
                  name: lambda: released_pool_calls(n, pool, logs[name])}
    return _measured(Workload("leaf calls, released", n * (n + 1) // 2, contenders), pool,
                     logs, rounds)


def _measured(work: Workload, pool: ThreadPoolExecutor, logs: dict[str, list[float]],
              rounds: int) -> dict[str, Any]:
    try:
        times = measure(work, rounds)
    finally:
        pool.shutdown()
    out: dict[str, Any] = {name: {"failed": why} for name, why in work.failures.items()}
    out.update({name: {"median": statistics.median(ts),
                       "issue": statistics.median(logs[name][-rounds:])}
                for name, ts in times.items()})
    return out


def child_statements(rounds: int = ROUNDS) -> dict[str, float]:
    """(b): medians of the statement loop and of EMPTY_CALLS calls, plain and jitted
    (three times the rounds: each takes milliseconds, and the difference is small)."""
    rounds *= 3
    jit_statements, jit_empty = xcs.jit(statements), xcs.jit(empty)
    works = {"loop": Workload("statements", statements(ITERATIONS), {
                 "plain": lambda: statements(ITERATIONS),
                 "xcs.jit": lambda: jit_statements(ITERATIONS)}),
             "empty": Workload("empty calls", None, {
                 "plain": lambda: calls_of(empty, EMPTY_CALLS),
                 "xcs.jit": lambda: calls_of(jit_empty, EMPTY_CALLS)})}
    out: dict[str, Any] = {}
    for part, work in works.items():
        out.update({f"{part} {k}": statistics.median(v)
                    for k, v in measure(work, rounds).items()})
        out.update({f"{part} failed": why for why in work.failures.values()})
    return out


def child_first_calls() -> dict[str, list[float]]:
    """(c): per function, [first call, median of calls 2 to 10] of a function jitted in
    this process."""
    cases = {"statements(2000), no leaf calls": (statements, (2000,)),
             "ensemble of 8 x 1 ms leaf calls": (ensemble8, ()),
             "1,000 trivial leaf calls": (leaf_calls, (1000, bump, []))}
    out = {}
    for name, (fn, args) in cases.items():
        jitted = xcs.jit(fn)
        times = []
        try:
            for _ in range(10):
                start = time.perf_counter()
                jitted(*args)
                times.append(time.perf_counter() - start)
        except Exception as exc:  # noqa: BLE001 - reported in the table
            out[name] = f"raised {type(exc).__name__}: {exc}"
            continue
        out[name] = [times[0], statistics.median(times[1:])]
    return out


def xcs_inline_below() -> float:
    return float(os.environ.get("XCS_INLINE_BELOW", "50e-6"))


_TIMED_IMPORT = ("import time; start = time.perf_counter(); import xcs_core; "
                 "print(time.perf_counter() - start)")


def import_cost(runs: int = 7) -> float:
    """Median time of ``import xcs_core`` in a fresh interpreter, timed inside it (the
    difference of two interpreters' wall times is mostly their start-up noise)."""
    def timed() -> float:
        done = subprocess.run([sys.executable, "-c", _TIMED_IMPORT], check=True, cwd=HERE,
                              capture_output=True, text=True)
        return float(done.stdout.strip())
    return statistics.median(timed() for _ in range(runs))


# -- the report -------------------------------------------------------------------------------
def leaf_call_rows(rounds: int) -> tuple[list[list[str]], dict[str, Any]]:
    rows, raw = [], {}
    for mode, (threshold, released) in MODES.items():
        res = raw[mode] = in_fresh_process("overhead", "child_leaf_calls", {
            "XCS_INLINE_BELOW": threshold, "XCS_BENCH_RELEASED": "1" if released else "0",
            "XCS_BENCH_ROUNDS": str(rounds)})
        plain = res["plain calls"]["median"]
        for name, r in res.items():
            if "failed" in r:
                rows.append([mode, name, "FAILED", r["failed"][:60], "-", "-"])
                continue
            rows.append([mode, name, fmt(r["median"]), f"{r['median'] / LEAF_CALLS * 1e6:.2f}",
                         f"{(r['median'] - plain) / LEAF_CALLS * 1e6:+.2f}",
                         f"{r['issue'] / LEAF_CALLS * 1e6:.2f}"])
    return rows, raw


def statement_rows(rounds: int) -> tuple[list[list[str]], dict[str, Any]]:
    r = in_fresh_process("overhead", "child_statements", {"XCS_BENCH_ROUNDS": str(rounds)})
    count = ITERATIONS * STATEMENTS_PER_ITERATION
    rows, raw = [], dict(r)
    for part, label, per, unit, scale in (
            ("loop", f"loop, {count:,} statements", count, "ns per statement", 1e9),
            ("empty", f"empty function, {EMPTY_CALLS:,} calls", EMPTY_CALLS, "us per call", 1e6)):
        if f"{part} failed" in r:
            rows.append([label, fmt(r[f"{part} plain"]), "FAILED", r[f"{part} failed"][:60]])
            continue
        plain, jitted = r[f"{part} plain"], r[f"{part} xcs.jit"]
        raw[f"{part} added"] = added = (jitted - plain) / per
        rows.append([label, fmt(plain), fmt(jitted),
                     f"{added * scale:+.1f} {unit} ({jitted / plain:.2f}x)"])
    return rows, raw


def first_call_rows(processes: int = 9) -> tuple[list[list[str]], dict[str, Any]]:
    """Medians over ``processes`` fresh processes (a function that failed: its error)."""
    imported = import_cost()
    runs = [in_fresh_process("overhead", "child_first_calls") for _ in range(processes)]
    rows: list[list[str]] = [["import xcs_core (fresh interpreter)", fmt(imported), "-", "-"]]
    res: dict[str, Any] = {}
    for name, first_run in runs[0].items():
        if isinstance(first_run, str):
            res[name] = first_run
            rows.append([name, "FAILED", first_run[:60], "-"])
            continue
        first, later = res[name] = [statistics.median(run[name][k] for run in runs)
                                    for k in (0, 1)]
        rows.append([name, fmt(first), fmt(later), fmt(first - later)])
    return rows, {"import": imported, "functions": res}


def report(rounds: int = 9) -> tuple[str, dict[str, Any]]:
    """The three tables as text, and the raw figures (medians of ``rounds`` rounds)."""
    leaf, leaf_raw = leaf_call_rows(rounds)
    stmt, stmt_raw = statement_rows(rounds)
    first, first_raw = first_call_rows()
    text = "\n\n".join([
        f"## overhead (a): per leaf call, {LEAF_CALLS:,} trivial calls\n" + tabulate(
            leaf, headers=["mode", "contender", "median", "us/call", "added us/call vs plain",
                           "calling thread us/call"]),
        "## overhead (b): plain statements in a jitted function without leaf calls\n"
        + tabulate(stmt, headers=["code", "plain", "xcs.jit", "added"]),
        "## overhead (c): first call of a freshly jitted function, fresh processes\n"
        + tabulate(first, headers=["function", "first call", "later calls (2-10)",
                                  "first - later"]),
    ])
    return text, {"leaf_calls": leaf_raw, "statements": stmt_raw, "first_call": first_raw}


if __name__ == "__main__":
    print(report(int(sys.argv[1]) if len(sys.argv) > 1 else 9)[0])
