"""Automatic batching against a hand-written DataLoader, on a simulated batch service.

256 lookups through a service whose single request costs 20 ms and whose batch
request costs 25 ms for up to 64 items (an embedding endpoint, a vector store,
``WHERE id IN (...)``).  Contenders, each returning the same list:

* ``plain loop``: one request per key, one after another (the program as written);
* ``xcs threads, no batch form``: the same loop under ``@xcs.jit``, the op
  without ``batch=``: 256 single requests, up to 128 at a time;
* ``xcs threads, batch=``: the same loop, the op with ``batch=..., max_batch=64``:
  the jitted code's calls are cut into ``ceil(256 / 64) = 4`` requests;
* ``asyncio DataLoader``: a hand-written DataLoader (the pattern from
  GraphQL's ``dataloader``): ``load(key)`` returns a future, the keys queued
  during one event-loop tick are sent as batches of 64, concurrently.

The ideal is one batch request (25 ms): all four requests at once.
Run: ``.venv/bin/python benchmarks/run.py --only batching``.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from harness import Workload

import xcs_core as xcs

KEYS = list(range(256))
SINGLE, BATCH, MAX_BATCH = 0.020, 0.025, 64


def value_of(key: int) -> int:
    return key * 2 + 1


# -- the service, as a blocking client (threads) and as an async one -------------------
def lookup_plain(key: int) -> int:
    time.sleep(SINGLE)
    return value_of(key)


def lookup_many(items: list[tuple[int]]) -> list[int]:
    assert len(items) <= MAX_BATCH
    time.sleep(BATCH)
    return [value_of(key) for (key,) in items]


lookup_single_op = xcs.op(lookup_plain)
lookup = xcs.op(batch=lookup_many, max_batch=MAX_BATCH)(lookup_plain)


async def lookup_many_async(keys: list[int]) -> list[int]:
    assert len(keys) <= MAX_BATCH
    await asyncio.sleep(BATCH)
    return [value_of(key) for key in keys]


# -- the programs -----------------------------------------------------------------------
def program(keys: list[int]) -> list[int]:
    return [lookup_plain(k) for k in keys]


@xcs.jit
def jitted_single(keys: list[int]) -> list[int]:
    return [lookup_single_op(k) for k in keys]


@xcs.jit
def jitted_batched(keys: list[int]) -> list[int]:
    return [lookup(k) for k in keys]


class DataLoader:
    """A minimal hand-written DataLoader: keys queued in one tick go out as batches."""

    def __init__(self, batch_fn: Any, max_batch: int) -> None:
        self.batch_fn, self.max_batch = batch_fn, max_batch
        self.queue: list[tuple[int, asyncio.Future]] = []

    def load(self, key: int) -> asyncio.Future:
        loop = asyncio.get_running_loop()
        if not self.queue:
            loop.call_soon(self._dispatch)
        future = loop.create_future()
        self.queue.append((key, future))
        return future

    def _dispatch(self) -> None:
        queue, self.queue = self.queue, []
        for start in range(0, len(queue), self.max_batch):
            asyncio.ensure_future(self._send(queue[start:start + self.max_batch]))

    async def _send(self, chunk: list[tuple[int, asyncio.Future]]) -> None:
        try:
            values = await self.batch_fn([key for key, _ in chunk])
        except Exception as exc:  # noqa: BLE001 - each waiter gets the batch's error
            for _, future in chunk:
                future.set_exception(exc)
            return
        for (_, future), value in zip(chunk, values):
            future.set_result(value)


async def dataloader_program(keys: list[int]) -> list[int]:
    loader = DataLoader(lookup_many_async, MAX_BATCH)
    return list(await asyncio.gather(*(loader.load(k) for k in keys)))


def batching_workload(runner: Any) -> Workload:
    """The four contenders on 256 keys; ``runner`` is a reused asyncio runner."""
    return Workload(
        "batching 256 lookups", [value_of(k) for k in KEYS],
        {"plain loop": lambda: program(KEYS),
         "xcs threads, no batch form": lambda: jitted_single(KEYS),
         "xcs threads, batch=": lambda: jitted_batched(KEYS),
         "asyncio DataLoader": lambda: runner.run(dataloader_program(KEYS))},
        ideal=BATCH, meta={"n": len(KEYS)})


if __name__ == "__main__":
    import harness

    runner = asyncio.Runner() if hasattr(asyncio, "Runner") else None
    work = batching_workload(runner)
    print(harness.table(work, harness.measure(work, 5)))
