"""The thread executor: one warm ``ThreadPoolExecutor`` shared by all calls.

Threads fit leaf calls that wait on I/O (model APIs, HTTP, databases): the
GIL is released while they wait.  The pool is created once per
``max_workers`` value and reused, and the scheduler never submits more than
``max_workers`` operations at once, so the pool's own queue stays empty and
the scheduler's priority order is the order work starts in.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any


class ThreadExecutor:
    """Runs operations on a shared, lazily grown thread pool."""

    name = "threads"
    parallel = True

    def __init__(self, max_workers: int) -> None:
        self.max_workers = max_workers
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="xcs")

    def submit(self, fn: Callable[[], None]) -> Any:
        return self._pool.submit(fn)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)
