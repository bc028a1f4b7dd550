"""Benchmark workloads, each with its contenders written as an expert would write them.

I/O latency is simulated with ``time.sleep`` (``asyncio.sleep`` for the async
contender) so results are stable on a shared 2-core machine.  Every contender
returns the same value, which the harness checks.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import xcs_core as xcs
from xcs_core.examples import pipelines

try:  # optional peers: pip install -e ".[bench]"
    import dask
    from dask.threaded import get as dask_threaded_get
except ImportError:  # pragma: no cover - reported by the harness
    dask = None

LATENCY = 0.010


@dataclass
class Workload:
    """A named workload: contenders (name -> zero-argument callable) and the ideal time."""

    name: str
    contenders: dict[str, Callable[[], Any]]
    ideal: float | None = None
    rounds: int | None = None
    traced: Callable[[], Any] | None = None  # plain-Python body, for predicted speedup
    meta: dict[str, Any] = field(default_factory=dict)
    # contenders that need a Dask client: measured in a phase of their own, with the
    # in-process cluster running only then (its threads would tax everyone else)
    isolated: dict[str, Callable[[Any], Callable[[], Any]]] = field(default_factory=dict)


# -- 1. ensemble ----------------------------------------------------------------------------
def call_model(i: int) -> int:
    time.sleep(LATENCY)
    return i * i


model = xcs.op(call_model)


async def call_model_async(i: int) -> int:
    await asyncio.sleep(LATENCY)
    return i * i


model_async = xcs.op(call_model_async)


def reduce_answers(answers: list[int]) -> int:
    return sum(answers)


def ensemble_workload(n: int) -> Workload:
    def sequential() -> int:
        return reduce_answers([call_model(i) for i in range(n)])

    def thread_pool() -> int:
        with ThreadPoolExecutor(max_workers=n) as pool:
            return reduce_answers(list(pool.map(call_model, range(n))))

    def asyncio_gather() -> int:
        async def main() -> int:
            return reduce_answers(await asyncio.gather(*(call_model_async(i) for i in range(n))))
        return asyncio.run(main())

    def body() -> int:
        return reduce_answers([model(i) for i in range(n)])

    def async_body() -> int:
        return reduce_answers([model_async(i) for i in range(n)])

    contenders = {"sequential": sequential, "ThreadPoolExecutor": thread_pool,
                  "asyncio.gather": asyncio_gather}
    if dask is not None:
        contenders["dask.delayed"] = lambda: dask.compute(
            dask.delayed(reduce_answers)([dask.delayed(call_model)(i) for i in range(n)]),
            scheduler="threads", num_workers=n)[0]
    contenders["xcs threads"] = xcs.jit(body)
    contenders["xcs asyncio"] = xcs.jit(async_body, executor="asyncio")
    if n > 32:
        del contenders["sequential"]  # n x 10 ms; the traced run measures it once
    return Workload(f"ensemble N={n}", contenders, ideal=LATENCY, traced=body,
                    meta={"n": n}, isolated={
                        "dask distributed": lambda client: lambda: reduce_answers(
                            client.gather(client.map(call_model, range(n), pure=False))),
                        "xcs dask": lambda client: xcs.jit(body, executor="dask")})


# -- 2. diamond -----------------------------------------------------------------------------
def diamond_workload(pool: ThreadPoolExecutor) -> Workload:
    stages, width = 4, 8
    expand, join = pipelines.expand.fn, pipelines.join.fn

    def by_stage() -> int:
        context = 1
        for stage in range(stages):
            futures = [pool.submit(expand, stage, i, context) for i in range(width)]
            context = join([f.result() for f in futures])
        return context

    contenders = {"sequential": pipelines.diamond, "ThreadPoolExecutor (by stage)": by_stage}
    if dask is not None:
        def delayed_graph() -> int:
            context = 1
            for stage in range(stages):
                context = dask.delayed(join)(
                    [dask.delayed(expand)(stage, i, context) for i in range(width)])
            return dask.compute(context, scheduler="threads", num_workers=width)[0]
        contenders["dask.delayed"] = delayed_graph
    contenders["xcs threads"] = xcs.jit(pipelines.diamond)
    return Workload("diamond 4 x 8 x 5 ms", contenders, ideal=stages * 0.005,
                    traced=pipelines.diamond)


# -- 3. chat pipeline -----------------------------------------------------------------------
def chat_workload(pool: ThreadPoolExecutor) -> Workload:
    def by_hand() -> str:
        docs = list(pool.map(lambda s: pipelines.retrieve.fn("hello", s), ("web", "wiki", "notes")))
        draft = pipelines.generate.fn(" | ".join(docs))
        if not pipelines.moderate.fn(draft):
            return "I cannot answer that."
        return pipelines.generate.fn(f"polish: {draft}")

    jitted = xcs.jit(pipelines.chat_turn)
    return Workload("chat pipeline", {"sequential": lambda: pipelines.chat_turn("hello"),
                                      "ThreadPoolExecutor": by_hand,
                                      "xcs threads": lambda: jitted("hello")},
                    ideal=0.02 + 0.03 + 0.01 + 0.03,
                    traced=lambda: pipelines.chat_turn("hello"))


# -- 4. dispatch overhead -------------------------------------------------------------------
def trivial(i: int) -> int:
    return i + 1


trivial_op = xcs.op(trivial)
TRIVIAL_N = 10_000


def dispatch_workload(pool: ThreadPoolExecutor) -> Workload:
    n = TRIVIAL_N

    def plain() -> int:
        return sum(trivial(i) for i in range(n))

    def submit_result() -> int:
        futures = [pool.submit(trivial, i) for i in range(n)]
        return sum(f.result() for f in futures)

    def body() -> int:
        return sum(xcs.value([trivial_op(i) for i in range(n)]))

    contenders = {"plain call": plain, "ThreadPoolExecutor.submit+result": submit_result}
    if dask is not None:
        graph = {("t", i): (trivial, i) for i in range(n)}
        keys = list(graph)
        contenders["dask threaded (raw graph)"] = lambda: sum(
            dask_threaded_get(graph, keys, num_workers=8))
        contenders["dask.delayed"] = lambda: sum(dask.compute(
            *[dask.delayed(trivial)(i) for i in range(n)], scheduler="threads"))
    contenders["xcs threads"] = xcs.jit(body)
    return Workload(f"dispatch overhead ({n:,} trivial calls)", contenders, rounds=3,
                    meta={"per_op": n})


# -- 6. CPU-bound ---------------------------------------------------------------------------
def _spin(iterations: int, i: int = 0) -> int:
    total = 0
    for k in range(iterations):
        total += (k * k + i) % 7
    return total


def _calibrate(seconds: float = 0.05) -> int:
    start = time.perf_counter()
    _spin(200_000)
    return int(200_000 * seconds / (time.perf_counter() - start))


BURN_ITERATIONS = _calibrate()


def burn(i: int) -> int:
    """A fixed amount of pure-Python work, about 50 ms on this machine."""
    return _spin(BURN_ITERATIONS, i) * 0 + i


burn_op = xcs.op(burn)


def cpu_workload(processes: ProcessPoolExecutor) -> Workload:
    def body() -> list[int]:
        return [burn_op(i) for i in range(8)]

    return Workload("CPU-bound 8 x 50 ms", {
        "sequential": lambda: [burn(i) for i in range(8)],
        "ThreadPoolExecutor(8)": lambda: list(ThreadPoolExecutor(8).map(burn, range(8))),
        "ProcessPoolExecutor(2) warm": lambda: list(processes.map(burn, range(8))),
        "xcs threads": xcs.jit(body),
        "xcs processes": xcs.jit(body, executor="processes", max_workers=2),
    }, rounds=3)
