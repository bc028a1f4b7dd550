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

import os
import threading
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

__all__ = ["DEFAULT_MAX_WORKERS", "Executor", "available", "get_executor", "register",
           "validate_max_workers"]

#: Leaf calls mostly wait on I/O (models, HTTP, databases), so the pool is sized
#: for waiting, not for cores; bounded so a runaway map cannot spawn thousands.
DEFAULT_MAX_WORKERS = int(os.environ.get("XCS_MAX_WORKERS", "128"))


@runtime_checkable
class Executor(Protocol):
    """Runs callables handed over by the scheduler."""

    name: str
    parallel: bool
    max_workers: int

    def submit(self, fn: Callable[[], None]) -> Any:
        """Run ``fn`` soon on some worker; must not run it inline."""

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
    """The shared executor ``name`` with ``max_workers`` workers (created once)."""
    validate_executor(name)
    workers = validate_max_workers(
        DEFAULT_MAX_WORKERS if max_workers is None else max_workers)
    key = (name, workers)
    try:
        return _cache[key]
    except KeyError:
        pass
    with _lock:
        if key not in _cache:
            _cache[key] = _factories[name](workers)
        return _cache[key]


from xcs_core.executors import sequential, threads  # noqa: E402  (registers them)

register("sequential", sequential.SequentialExecutor)
register("threads", threads.ThreadExecutor)
