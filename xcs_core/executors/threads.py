"""The thread executor: a warm pool of worker threads shared by all jitted calls.

Threads fit leaf calls that wait on I/O (model APIs, HTTP, databases): the
GIL is released while they wait.  The scheduler hands over plain callables and
never needs a result object back (completion is recorded by the callable
itself), so the pool is a ``queue.SimpleQueue`` of callables served by worker
threads, without ``concurrent.futures``' per-task ``Future``: at a fan-out of
128 calls that object, its condition variable and the idle-semaphore dance
made ``submit`` the largest cost of a dispatch (measured in
``benchmarks/run.py``).

Threads are started on demand, never more than ``max_workers``, and kept for
the next call (no pool per call or per level).  The scheduler never submits
more than ``max_workers`` callables at once, so no callable waits for a thread.
"""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Callable
from typing import Any

from xcs_core.nodes import direct_call

_names = itertools.count()


class ThreadExecutor:
    """Runs callables on up to ``max_workers`` persistent daemon threads.

    ``max_workers=0`` means the default, ``default_max_workers()`` (128, or
    ``XCS_MAX_WORKERS``).
    """

    name = "threads"
    parallel = True
    call = staticmethod(direct_call)

    def __init__(self, max_workers: int = 0) -> None:
        from xcs_core.executors import default_max_workers

        self.max_workers = max_workers or default_max_workers()
        self._queue: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads = 0
        self._busy = 0

    def submit(self, fn: Callable[[], None]) -> None:
        with self._lock:
            self._busy += 1
            spawn = self._busy > self._threads and self._threads < self.max_workers
            if spawn:
                self._threads += 1
        self._queue.put(fn)
        if spawn:
            threading.Thread(target=self._serve, name=f"xcs_{next(_names)}", daemon=True).start()

    def _serve(self) -> None:
        get, lock = self._queue.get, self._lock
        while True:
            fn = get()
            if fn is None:
                return
            try:
                fn()
            finally:
                fn = None  # an idle worker must not keep the last node (and its value) alive
                with lock:
                    self._busy -= 1

    check = None  # every call can run on a thread (see ``Executor.check``)

    def on_loop(self, loop: Any) -> Any:
        """This executor, but running async calls as tasks of ``loop`` (a jitted
        coroutine's caller's running loop), where they can be awaited and cancelled."""
        from xcs_core.executors.aio import LoopExecutor

        return LoopExecutor(self, loop)

    @property
    def threads(self) -> int:
        """How many worker threads exist now."""
        return self._threads

    def shutdown(self) -> None:
        with self._lock:
            count, self._threads = self._threads, 0
        for _ in range(count):
            self._queue.put(None)


class OffloadExecutor:
    """Base of executors whose leaf-call bodies run elsewhere (processes, a cluster, a loop).

    Scheduling steps run on a local ``ThreadExecutor`` with ``max_workers``
    threads, each blocking (without the GIL) while its call runs remotely;
    subclasses implement ``call`` and may refine ``check``.
    """

    name = "offload"
    parallel = True

    def __init__(self, max_workers: int) -> None:
        self.max_workers = max_workers
        self._steps = ThreadExecutor(max_workers)

    def submit(self, fn: Callable[[], None]) -> None:
        self._steps.submit(fn)

    def call(self, fn: Callable[..., object], args: tuple, kwargs: dict) -> object:
        raise NotImplementedError

    check = None  # subclasses that refuse some calls define it (see ``Executor.check``)

    def shutdown(self) -> None:
        self._steps.shutdown()
