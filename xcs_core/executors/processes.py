"""The process executor: leaf calls run in a pool of worker processes.

For CPU-bound pure-Python calls, which threads cannot speed up because of the
GIL.  Every call and its arguments travel by pickle, so ``check`` pickles the
callable and its concrete arguments at the call site and rejects what cannot
travel with an error naming the call and the fix, before anything of it runs.
(Arguments that are still pending results are pickled when they are ready; an
error then names the call site too.)

Workers are started with the ``forkserver`` method where it exists (a fresh,
thread-free server process forks them), so a multi-threaded parent never forks
while another thread holds a lock.  The pool is created once per
``max_workers`` (default: one process per core) and reused.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from xcs_core.executors.threads import OffloadExecutor
from xcs_core.sites import format_site
from xcs_core.values import Traced

__all__ = ["ProcessExecutor"]


class ProcessExecutor(OffloadExecutor):
    """Runs leaf calls in worker processes (see module doc)."""

    name = "processes"

    def __init__(self, max_workers: int = 0) -> None:
        workers = max_workers or os.cpu_count() or 1
        super().__init__(workers)
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("forkserver" if "forkserver" in methods else None)
        self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)

    def call(self, fn: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
        return self._pool.submit(fn, *args, **kwargs).result()

    def check(self, node: Any) -> None:
        where = f"{node.target} (called at {format_site(node.site)})"
        try:
            pickle.dumps(node.fn)
        except Exception as exc:  # noqa: BLE001 - reported with the fix
            raise TypeError(
                f"xcs: the processes executor cannot send {where} to a worker process: "
                f"{exc}. Define the function at module level (lambdas and local functions "
                "cannot be pickled) or run it with executor='threads'.") from None
        values = list(enumerate(node.args)) + list(node.kwargs.items())
        for key, value in values:
            if type(value) is Traced:
                continue
            try:
                pickle.dumps(value)
            except Exception as exc:  # noqa: BLE001
                name = f"argument {key}" if isinstance(key, int) else f"argument {key!r}"
                raise TypeError(
                    f"xcs: the processes executor cannot send {name} of {where} to a worker "
                    f"process: {exc}. Pass picklable values, or run it with "
                    "executor='threads'.") from None

    def shutdown(self) -> None:
        super().shutdown()
        self._pool.shutdown(wait=True, cancel_futures=True)
