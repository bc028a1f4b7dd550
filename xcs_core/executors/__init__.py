"""Executors decide *where* a ready operation runs; the scheduler decides *when*.

Every executor implements the small ``Executor`` protocol: ``submit`` a
no-argument callable to run soon on some worker.  The dataflow loop in
``xcs_core.scheduler`` is shared by all of them, so a new backend (asyncio,
processes, a Dask cluster) plugs in here without touching the tracer or the
analyzer.  ``parallel`` is ``False`` for executors that run jitted code as
plain sequential Python (no tracing at all: the exact baseline).

Executors are looked up by name (``get_executor("threads", max_workers=32)``)
and cached, so a warm pool is reused by every call: no pool per call or per
level.
"""

from __future__ import annotations

import atexit
import importlib
import threading
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from xcs_core import env

__all__ = ["Executor", "available", "default_max_workers", "get_executor", "register",
           "shutdown_all", "validate_max_workers"]

#: Leaf calls mostly wait on I/O (models, HTTP, databases), so the pool is sized
#: for waiting, not for cores; bounded so a runaway map cannot spawn thousands.
#: ``XCS_MAX_WORKERS`` overrides it (read when a pool is made, not at import).
BUILTIN_MAX_WORKERS = 128


def default_max_workers() -> int:
    """``XCS_MAX_WORKERS`` if set (a positive integer), else 128.

    Read when an executor is created, so a bad value fails the code that needs
    it with a message naming the variable, and never the import of xcs.
    """
    return env.positive_int("XCS_MAX_WORKERS", BUILTIN_MAX_WORKERS, "the default max_workers "
                            "of the threads and asyncio executors", 64)


def __getattr__(name: str) -> Any:
    if name == "DEFAULT_MAX_WORKERS":  # kept for callers of the former constant
        return default_max_workers()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@runtime_checkable
class Executor(Protocol):
    """Where the scheduler's work runs.

    ``submit`` runs one scheduling step (a no-argument callable) soon on a
    local worker thread, never inline.  ``call`` runs the body of one leaf call
    from that step: right there for threads, in a worker process, on a Dask
    cluster, or on an event loop.  ``check`` may reject a call before anything
    runs (for example one that cannot be pickled), raising an error that names
    it.
    """

    name: str
    parallel: bool
    max_workers: int

    def submit(self, fn: Callable[[], None]) -> Any:
        """Run ``fn`` soon on some worker thread; must not run it inline."""

    def call(self, fn: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
        """Run a leaf call's body and return its result (or raise its exception)."""

    #: ``check(node)`` raises if ``node`` cannot run on this executor; called at the call
    #: site of every dispatched call.  ``None`` when every call can run (no call made).
    check: Callable[[Any], None] | None

    def shutdown(self) -> None:
        """Release workers (called at interpreter exit for cached executors)."""


_factories: dict[str, Callable[[int], Executor]] = {}
_cache: dict[tuple[str, int], Executor] = {}
_lock = threading.Lock()


def register(name: str, factory: Callable[[int], Executor]) -> None:
    """Make ``factory(max_workers)`` available as ``executor=name``."""
    _factories[name] = factory


def available() -> list[str]:
    """Names accepted by ``executor=``."""
    return sorted(_factories)


def validate_max_workers(value: Any, where: str = "max_workers") -> int:
    """Return ``value`` as a positive int or raise a ``ValueError`` naming ``where``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{where}: must be a positive integer, got {value!r}")
    return value


def validate_executor(name: Any, where: str = "executor") -> str:
    """Return ``name`` if it is a known executor, else raise naming the choices."""
    if not isinstance(name, str) or name not in _factories:
        raise ValueError(
            f"{where}: {name!r} is not a known executor; choose one of {', '.join(available())}"
        )
    return name


def get_executor(name: str, max_workers: int | None = None) -> Executor:
    """The shared executor ``name`` with ``max_workers`` workers (created once).

    ``max_workers=None`` means the executor's own default (threads: 128 for
    I/O; processes and Dask: one per core).
    """
    validate_executor(name)
    workers = validate_max_workers(max_workers) if max_workers is not None else 0
    key = (name, workers)
    try:
        return _cache[key]
    except KeyError:
        pass
    with _lock:
        if key not in _cache:
            _cache[key] = _factories[name](workers)
        return _cache[key]


def shutdown_all() -> None:
    """Shut down every cached executor (pools, processes, clusters)."""
    with _lock:
        executors = list(_cache.values())
        _cache.clear()
    for executor in executors:
        executor.shutdown()


atexit.register(shutdown_all)


def _lazy(module: str, cls: str) -> Callable[[int], Executor]:
    def factory(max_workers: int) -> Executor:
        return getattr(importlib.import_module(f"xcs_core.executors.{module}"), cls)(max_workers)
    return factory


from xcs_core.executors import sequential, threads  # noqa: E402  (registers them)

register("sequential", sequential.SequentialExecutor)
register("threads", threads.ThreadExecutor)
register("processes", _lazy("processes", "ProcessExecutor"))
register("asyncio", _lazy("aio", "AsyncioExecutor"))
register("dask", _lazy("dask", "DaskExecutor"))
