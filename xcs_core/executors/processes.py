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

What goes wrong with worker processes is reported at the call, by name:

* a worker that dies (``os._exit``, a crash in C code, the OOM killer) fails the
  calls it was running with ``WorkerDied`` (op, call site, exit status); the
  broken pool is replaced, so the next jitted call works;
* a main script without an ``if __name__ == "__main__":`` guard would be run
  again by every worker that imports it: refused at the call site;
* a leaf running in a worker process that starts another processes executor
  (nested jit with ``executor="processes"``) is refused at once.
"""

from __future__ import annotations

import ast
import functools
import multiprocessing
import os
import pickle
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from xcs_core.executors.threads import OffloadExecutor
from xcs_core.sites import format_site
from xcs_core.values import Traced

__all__ = ["ProcessExecutor", "WorkerDied"]

_in_worker = False


class WorkerDied(RuntimeError):
    """A worker process died while running (or holding) a leaf call."""


def _mark_worker() -> None:
    """Pool initializer: this process is a worker of the processes executor."""
    global _in_worker
    _in_worker = True


class _Located:
    """A leaf callable with the call site it came from (for error messages)."""

    __slots__ = ("fn", "where")

    def __init__(self, fn: Callable[..., Any], where: str) -> None:
        self.fn, self.where = fn, where

    def __call__(self, *args: Any, **kwargs: Any) -> Any:  # not used: call() unwraps
        return self.fn(*args, **kwargs)


class ProcessExecutor(OffloadExecutor):
    """Runs leaf calls in worker processes (see module doc)."""

    name = "processes"
    copies_arguments = True  # a call gets pickled copies: what it changes stays there

    def __init__(self, max_workers: int = 0) -> None:
        if _in_worker:
            raise RuntimeError(
                "xcs: a leaf call running in a worker process of the processes executor "
                "started another processes executor (a nested jit with "
                "executor='processes'). Worker processes cannot start their own; use "
                "executor='threads' for the inner jitted function, or call its leaf ops "
                "directly.")
        workers = max_workers or os.cpu_count() or 1
        super().__init__(workers)
        methods = multiprocessing.get_all_start_methods()
        self._context = multiprocessing.get_context(
            "forkserver" if "forkserver" in methods else None)
        self._lock = threading.Lock()
        self._pool = self._new_pool()
        self._workers: set[Any] = set()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self.max_workers, mp_context=self._context,
                                   initializer=_mark_worker)

    def call(self, fn: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
        where = fn.where if isinstance(fn, _Located) else None
        fn = fn.fn if isinstance(fn, _Located) else fn
        pool = self._pool
        try:
            future = pool.submit(fn, *args, **kwargs)
            # the pool forgets dead workers: keep every one it starts, to say how it ended
            self._workers.update((getattr(pool, "_processes", None) or {}).values())
            return future.result()
        except BrokenProcessPool:
            status = _exit_status(list(self._workers))
            self._replace(pool)
        name = getattr(fn, "__qualname__", None) or type(fn).__name__
        raise WorkerDied(
            f"xcs: a worker process of the processes executor died ({status}) while "
            f"{name}{f' (called at {where})' if where else ''} was running or waiting in "
            "its pool; the pool was replaced and later calls run on new workers. A worker "
            "dies when its code calls os._exit, crashes in C code or is killed (for example "
            "by the out-of-memory killer).") from None

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        """Swap a broken pool for a new one (once, whichever call notices first)."""
        with self._lock:
            if self._pool is broken:
                self._pool = self._new_pool()
                self._workers = set()
        broken.shutdown(wait=False, cancel_futures=True)

    def check(self, node: Any) -> None:
        where = f"{node.target} (called at {format_site(node.site)})"
        _refuse_unguarded_main(where)
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
        node.fn = _Located(node.fn, format_site(node.site))

    def shutdown(self) -> None:
        super().shutdown()
        self._pool.shutdown(wait=True, cancel_futures=True)


def _exit_status(workers: list[Any]) -> str:
    """How the pool's dead workers ended, as far as they tell (best effort)."""
    deadline = time.monotonic() + 1.0
    for p in workers:  # a broken pool stops its other workers: wait briefly for that
        p.join(max(0.0, deadline - time.monotonic()))
    codes = sorted({p.exitcode for p in workers if p.exitcode not in (None, 0)})
    if len(codes) > 1:  # the pool stops the other workers of a broken pool with SIGTERM
        codes = [c for c in codes if c != -signal.SIGTERM]
    if not codes:
        return "exit status unknown"
    parts = []
    for code in codes:
        if code < 0:
            try:
                parts.append(f"killed by {signal.Signals(-code).name}")
            except ValueError:
                parts.append(f"killed by signal {-code}")
        else:
            parts.append(f"exit code {code}")
    return ", ".join(parts)


def _refuse_unguarded_main(where: str) -> None:
    """Refuse a call made by the top-level code of a main script without a main guard.

    Worker processes import the main script again (as ``__mp_main__``); its
    unguarded top-level code would start the call again in every worker.
    """
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if main is None or getattr(main, "__spec__", None) is not None or not path:
        return  # not a script run as `python file.py` (a module, -c, a REPL, pytest)
    if _has_main_guard(path):
        return
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == "<module>" and frame.f_globals is vars(main):
            raise RuntimeError(
                f"xcs: the processes executor cannot run {where}: the main script "
                f"{os.path.basename(path)} has no `if __name__ == \"__main__\":` guard, and "
                "every worker process imports it again and would run its top-level code "
                "(and this call) once more. Put the script's top-level code under "
                "`if __name__ == \"__main__\":`, or use executor='threads'.")
        frame = frame.f_back


@functools.lru_cache(maxsize=8)
def _has_main_guard(path: str) -> bool:
    """Whether the script at ``path`` has a top-level ``if __name__ == "__main__":``."""
    try:
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read(), path)
    except (OSError, SyntaxError, ValueError):
        return True  # cannot tell: do not refuse
    for stmt in tree.body:
        if isinstance(stmt, ast.If) and "__name__" in ast.unparse(stmt.test) \
                and "__main__" in ast.unparse(stmt.test):
            return True
    return False
