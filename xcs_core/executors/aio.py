"""The asyncio executor: ``async def`` leaf calls run concurrently on one event loop.

The loop runs in a background thread owned by the executor.  Scheduling steps
run on local threads as for every offloading executor: a step whose call is a
coroutine function (``@xcs.op async def``) schedules the coroutine on the loop
(``asyncio.run_coroutine_threadsafe``) and waits for it, so all async calls of
a graph share one loop; a step whose call is an ordinary function runs it on
its own thread, so sync calls never block the loop.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import threading
import weakref
from collections.abc import Callable
from typing import Any

from xcs_core.executors.threads import OffloadExecutor
from xcs_core.nodes import direct_call

__all__ = ["AsyncioExecutor", "LoopExecutor", "call_on", "start_on"]


class _OnLoop:
    """``call`` and ``start`` for executors whose async calls run on ``self.loop``."""

    loop: asyncio.AbstractEventLoop

    def call(self, fn: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
        return call_on(self.loop, fn, args, kwargs)

    def start(self, coroutine_function: Callable[..., Any], args: tuple, kwargs: dict,
              done: Callable[[Any, BaseException | None], None]) -> None:
        start_on(self.loop, coroutine_function, args, kwargs, done)


class AsyncioExecutor(_OnLoop, OffloadExecutor):
    """Async leaf calls on a shared event loop, sync ones on threads."""

    name = "asyncio"

    def __init__(self, max_workers: int = 0) -> None:
        from xcs_core.executors import default_max_workers

        super().__init__(max_workers or default_max_workers())
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="xcs_asyncio",
                                        daemon=True)
        self._thread.start()

    def on_loop(self, loop: asyncio.AbstractEventLoop) -> LoopExecutor:
        """This executor, but running async calls on ``loop`` (a caller's running loop)."""
        return LoopExecutor(self, loop)

    def shutdown(self) -> None:
        super().shutdown()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)


def start_on(loop: asyncio.AbstractEventLoop, coroutine_function: Callable[..., Any],
             args: tuple, kwargs: dict, done: Callable[[Any, BaseException | None], None]
             ) -> None:
    """Schedule a coroutine on ``loop``; ``done(value, exc)`` runs there when it ends.

    Starts are queued per loop and the loop is woken once per batch, not once per
    call: a fan-out of N async calls costs one cross-thread wake-up, not N."""
    starts = _starts.get(loop)
    if starts is None:
        with _starts_lock:
            starts = _starts.get(loop) or _starts.setdefault(loop, _Starts(loop))
    starts.add((coroutine_function, args, kwargs, done))


class _Starts:
    """The async calls waiting to be started on one loop (see ``start_on``)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.queue: collections.deque[tuple[Any, tuple, dict, Any]] = collections.deque()
        self.lock = threading.Lock()
        self.scheduled = False

    def add(self, item: tuple[Any, tuple, dict, Any]) -> None:
        with self.lock:
            self.queue.append(item)
            if self.scheduled:
                return
            self.scheduled = True
        try:
            if _running_loop() is self.loop:
                self.loop.call_soon(self.drain)
            else:
                self.loop.call_soon_threadsafe(self.drain)
        except RuntimeError:  # the loop is closed: fail what waits, as a call would
            self.scheduled = False
            self._fail_all(RuntimeError("xcs: the event loop for async calls is closed"))

    def drain(self) -> None:
        """Runs on the loop: start every queued call as a task."""
        with self.lock:
            items, self.queue = self.queue, collections.deque()
            self.scheduled = False
        for coroutine_function, args, kwargs, done in items:
            try:
                task = self.loop.create_task(coroutine_function(*args, **kwargs))
            except BaseException as exc:  # noqa: BLE001 - reported as the call's failure
                done(None, exc)
                continue
            task.add_done_callback(functools.partial(_finished, done))

    def _fail_all(self, exc: BaseException) -> None:
        with self.lock:
            items, self.queue = self.queue, collections.deque()
        for *_, done in items:
            done(None, exc)


def _finished(done: Callable[[Any, BaseException | None], None], task: Any) -> None:
    if task.cancelled():
        done(None, asyncio.CancelledError())
        return
    exc = task.exception()
    done(None if exc else task.result(), exc)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    return asyncio._get_running_loop()


_starts_lock = threading.Lock()
_starts: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Starts] = (
    weakref.WeakKeyDictionary())


def call_on(loop: asyncio.AbstractEventLoop, fn: Callable[..., Any], args: tuple,
            kwargs: dict) -> Any:
    """Run an async leaf call on ``loop`` and wait for it; a sync one right here."""
    coroutine_function = getattr(fn, "coroutine_function", None)
    if coroutine_function is None:
        return direct_call(fn, args, kwargs)
    return asyncio.run_coroutine_threadsafe(coroutine_function(*args, **kwargs), loop).result()


class LoopExecutor(_OnLoop):
    """An ``AsyncioExecutor`` whose async calls go to a given (the caller's) loop."""

    name = "asyncio"
    parallel = True

    def __init__(self, base: AsyncioExecutor, loop: asyncio.AbstractEventLoop) -> None:
        self._base, self.loop, self.max_workers = base, loop, base.max_workers
        self.submit, self.check = base.submit, base.check

    def shutdown(self) -> None:
        return None
