"""Benchmark workloads, each with its contenders written as their own docs recommend.

I/O latency is simulated with ``time.sleep`` (``asyncio.sleep`` for async
leaves) so results are stable on a shared 2-core machine.  Peers share one
``Peers`` object: thread pools and the process pool are created once, warmed,
reused by every round and shut down by ``Peers.close``; asyncio contenders run
on one reused ``asyncio.Runner`` (a reused event loop on Python 3.10).  xcs
contenders get the same worker count as the pool they are compared with.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import sys
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any

from harness import Workload

import xcs_core as xcs
from xcs_core.examples import pipelines

try:  # optional peers: pip install -e ".[bench]"
    import dask
except ImportError:  # pragma: no cover - reported by the harness
    dask = None

LATENCY = 0.010


class _LoopRunner:
    """``asyncio.Runner``'s ``run``/``close`` on Python 3.10: one reused event loop."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()

    def run(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        return self.loop.run_until_complete(coroutine)

    def close(self) -> None:
        self.loop.close()


class Peers:
    """The hand-written contenders' long-lived resources, created once per run."""

    def __init__(self) -> None:
        self._pools: dict[int, ThreadPoolExecutor] = {}
        self._processes: ProcessPoolExecutor | None = None
        self.runner = asyncio.Runner() if sys.version_info >= (3, 11) else _LoopRunner()

    def pool(self, workers: int) -> ThreadPoolExecutor:
        """A thread pool of ``workers`` threads, all started before it is first timed."""
        if workers not in self._pools:
            pool = self._pools[workers] = ThreadPoolExecutor(workers)
            list(pool.map(time.sleep, [0.01] * workers))  # forces every thread to start
        return self._pools[workers]

    def processes(self, workers: int) -> ProcessPoolExecutor:
        if self._processes is None:  # forkserver where it exists, as xcs processes: a
            # process with threads should not fork
            methods = multiprocessing.get_all_start_methods()
            self._processes = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(
                "forkserver" if "forkserver" in methods else None))
            list(self._processes.map(time.sleep, [0.05] * workers))  # start every worker
        return self._processes

    def close(self) -> None:
        for pool in self._pools.values():
            pool.shutdown()
        if self._processes is not None:
            self._processes.shutdown()
        self.runner.close()


# -- 1. ensemble: N model calls of 10 ms, then a reduce --------------------------------------
def answer(i: int) -> int:
    """What model ``i`` answers (the leaf calls below add only their latency)."""
    return i * i


def call_model(i: int) -> int:
    time.sleep(LATENCY)
    return answer(i)


async def call_model_async(i: int) -> int:
    await asyncio.sleep(LATENCY)
    return answer(i)


model, model_async = xcs.op(call_model), xcs.op(call_model_async)


def reduce_answers(answers: list[int]) -> int:
    return sum(answers)


def ensemble_workload(n: int, peers: Peers, asyncio_only: bool = False) -> Workload:
    """``asyncio_only``: only the contenders with async leaves (widths no pool is sized for)."""
    async def gathered() -> int:
        return reduce_answers(await asyncio.gather(*(call_model_async(i) for i in range(n))))

    def body() -> int:
        return reduce_answers([model(i) for i in range(n)])

    def async_body() -> int:
        return reduce_answers([model_async(i) for i in range(n)])

    async def coroutine_body() -> int:  # awaited on the Runner: its async calls run there
        return reduce_answers(await asyncio.gather(*(model_async(i) for i in range(n))))

    contenders: dict[str, Callable[[], Any]] = {}
    if n <= 8:  # n x 10 ms; at larger n its time is known without running it
        contenders["sequential"] = lambda: reduce_answers([call_model(i) for i in range(n)])
    contenders["asyncio.gather (Runner reused)"] = lambda: peers.runner.run(gathered())
    if not asyncio_only:
        pool = peers.pool(n)
        contenders[f"ThreadPoolExecutor({n}) reused"] = lambda: reduce_answers(
            list(pool.map(call_model, range(n))))
        if dask is not None:  # dask.threaded caches its pool per num_workers
            contenders["dask.delayed (threads)"] = lambda: dask.compute(
                dask.delayed(reduce_answers)([dask.delayed(call_model)(i) for i in range(n)]),
                scheduler="threads", num_workers=n)[0]
        contenders["xcs threads"] = xcs.jit(body, max_workers=n)
    contenders["xcs asyncio"] = xcs.jit(async_body, executor="asyncio", max_workers=n)
    jitted_coroutine = xcs.jit(coroutine_body, executor="asyncio", max_workers=n)
    contenders["xcs async def jit (Runner)"] = lambda: peers.runner.run(
        jitted_coroutine())

    def hand_dask(client: Any) -> Callable[[], int]:  # futures stay on the workers
        return lambda: client.submit(
            reduce_answers, client.map(call_model, range(n), pure=False), pure=False).result()

    isolated = {} if asyncio_only or n > 128 else {
        "dask futures": hand_dask, "xcs dask": lambda client: xcs.jit(body, executor="dask")}
    traced = body if n <= 128 and not asyncio_only else None  # its trace runs n x 10 ms
    return Workload(f"ensemble N={n}", reduce_answers([answer(i) for i in range(n)]),
                    contenders, ideal=LATENCY, traced=traced, meta={"n": n}, isolated=isolated)


# -- 2. diamond: 4 stages of 8 calls of 5 ms, each stage joined ------------------------------
def diamond_workload(peers: Peers) -> Workload:
    stages, width = 4, 8
    expand, join = pipelines.expand.fn, pipelines.join.fn
    pool = peers.pool(width)

    def by_stage() -> int:
        context = 1
        for stage in range(stages):
            futures = [pool.submit(expand, stage, i, context) for i in range(width)]
            context = join([f.result() for f in futures])
        return context

    contenders = {"sequential": pipelines.diamond,
                  f"ThreadPoolExecutor({width}) reused, by stage": by_stage}
    if dask is not None:
        def delayed_graph() -> int:
            context = 1
            for stage in range(stages):
                context = dask.delayed(join)(
                    [dask.delayed(expand)(stage, i, context) for i in range(width)])
            return dask.compute(context, scheduler="threads", num_workers=width)[0]
        contenders["dask.delayed (threads)"] = delayed_graph
    contenders["xcs threads"] = xcs.jit(pipelines.diamond, max_workers=width)
    return Workload("diamond 4 x 8 x 5 ms", pipelines.diamond(), contenders,
                    ideal=stages * 0.005, traced=pipelines.diamond)


# -- 3. chat pipeline: 3 retrievals at once, generate, moderate, generate --------------------
def chat_workload(peers: Peers) -> Workload:
    pool = peers.pool(3)

    def by_hand() -> str:
        docs = list(pool.map(pipelines.retrieve.fn, ["hello"] * 3, ("web", "wiki", "notes")))
        draft = pipelines.generate.fn(" | ".join(docs))
        if not pipelines.moderate.fn(draft):
            return "I cannot answer that."
        return pipelines.generate.fn(f"polish: {draft}")

    jitted = xcs.jit(pipelines.chat_turn, max_workers=3)
    return Workload("chat pipeline", pipelines.chat_turn("hello"),
                    {"sequential": lambda: pipelines.chat_turn("hello"),
                     "ThreadPoolExecutor(3) reused": by_hand,
                     "xcs threads": lambda: jitted("hello")},
                    ideal=0.02 + 0.03 + 0.01 + 0.03, traced=lambda: pipelines.chat_turn("hello"))


# -- 4. chain: 200 dependent calls of 1 ms (nothing to overlap) -----------------------------
def step(x: int) -> int:
    time.sleep(0.001)
    return x + 1


step_op = xcs.op(step)


def chain(leaf: Callable[[int], int], length: int) -> int:
    x = 0
    for _ in range(length):
        x = leaf(x)
    return x


def chain_workload(length: int = 200) -> Workload:
    jitted = xcs.jit(chain)
    return Workload(f"chain {length} x 1 ms", length, {
        "sequential": lambda: chain(step, length),
        "xcs threads": lambda: jitted(step_op, length)})


# -- 5. CPU-bound: 8 calls of pure-Python work, 2 worker processes ---------------------------
def spin(iterations: int, i: int = 0) -> int:
    total = 0
    for k in range(iterations):
        total += (k * k + i) % 7
    return total


#: pure-Python iterations per call: about 50 ms on an idle core of the 2-core benchmark
#: machine.  A fixed amount (not calibrated at run time: on a shared machine a
#: calibration run can be slowed by others, and the work would then not be what it says).
SPIN_ITERATIONS = 400_000


def burn(i: int, iterations: int) -> int:
    return spin(iterations, i) * 0 + i


burn_op = xcs.op(burn)


def cpu_workload(peers: Peers, workers: int = 2, calls: int = 8) -> Workload:
    iterations = SPIN_ITERATIONS
    its = [iterations] * calls
    processes, threads = peers.processes(workers), peers.pool(workers)

    def body() -> list[int]:
        return [burn_op(i, iterations) for i in range(calls)]

    return Workload(f"CPU-bound {calls} x spin({iterations:,})", list(range(calls)), {
        "sequential": lambda: [burn(i, iterations) for i in range(calls)],
        f"ThreadPoolExecutor({workers}) reused": lambda: list(threads.map(burn, range(calls), its)),
        f"ProcessPoolExecutor({workers}) warm": lambda: list(
            processes.map(burn, range(calls), its)),
        "xcs threads": xcs.jit(body, max_workers=workers),
        "xcs processes": xcs.jit(body, executor="processes", max_workers=workers),
    }, meta={"workers": workers})
