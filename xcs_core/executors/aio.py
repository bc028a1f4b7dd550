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
import contextvars
import functools
import sys
import threading
import weakref
from collections.abc import Callable
from typing import Any

from xcs_core.executors.threads import OffloadExecutor
from xcs_core.nodes import DONE, direct_call

__all__ = ["AsyncioExecutor", "LoopExecutor", "call_on"]


class _OnLoop:
    """``call`` and ``start`` for executors whose async calls run on ``self.loop``."""

    loop: asyncio.AbstractEventLoop

    def call(self, fn: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
        return call_on(self.loop, fn, args, kwargs)

    def start(self, coroutine_function: Callable[..., Any], args: tuple, kwargs: dict,
              done: Done, token: Any, context: contextvars.Context | None = None) -> None:
        """Schedule a coroutine on the loop; when it ends, ``done([(token, value, exc)])``
        runs there.

        Both ways are batched per loop.  Starts are queued and the loop is woken once
        per batch, not once per call: a fan-out of N async calls costs one cross-thread
        wake-up.  Calls that end in the same turn of the loop are reported together, in
        one ``done`` per callback: the scheduler records them in one step."""
        starts = self.__dict__.get("_starts")
        if starts is None or starts.loop is not self.loop:
            starts = self._starts = starts_of(self.loop)
        starts.add((coroutine_function, args, kwargs, done, token, context))

    def cancel(self, token: Any) -> None:
        """Cancel the call started as ``token`` (a scheduler's node, from any thread): its
        task is cancelled, or, not made yet, it is never made; either way it ends with
        ``CancelledError``.  One that has ended already is left as it is."""
        starts = starts_of(self.loop)
        if _running_loop() is self.loop:
            starts.cancel(token)
        else:
            self.loop.call_soon_threadsafe(starts.cancel, token)


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


#: ``done(outcomes)``: called on the loop with ``[(token, value, exc), ...]``
Done = Callable[[list[tuple[Any, Any, "BaseException | None"]]], None]


def starts_of(loop: asyncio.AbstractEventLoop) -> _Starts:
    """The one queue of starts (and of endings) of ``loop`` (see ``_OnLoop.start``)."""
    starts = _starts.get(loop)
    if starts is None:
        with _starts_lock:
            starts = _starts.get(loop) or _starts.setdefault(loop, _Starts(loop))
    return starts


_Item = tuple[Any, tuple, dict, Done, Any, "contextvars.Context | None"]


class _Starts:
    """The async calls waiting to be started on one loop, and those that ended in this
    turn of the loop (see ``_OnLoop.start``)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.queue: collections.deque[_Item] = collections.deque()
        self.lock = threading.Lock()
        self.scheduled = False
        self.ended: list[tuple[Done, Any, Any, BaseException | None]] = []  # loop only
        self.tasks: dict[Any, asyncio.Task] = {}  # running, by token (loop only)
        self.cancelled: set[Any] = set()  # tokens cancelled before their task was made

    def add(self, item: _Item) -> None:
        """Queue a start; the first since the loop last drained schedules the drain.
        (``deque.append`` is atomic, so a call takes no lock: a drain resets ``scheduled``
        before it counts what to start, so an item added after the count finds it reset.)"""
        self.queue.append(item)
        if self.scheduled:
            return
        with self.lock:
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
        """Runs on the loop: start every call queued so far as a task (those queued while it
        runs are the next drain's: the loop's other callbacks are not held up)."""
        with self.lock:
            self.scheduled = False
        create_task, queue, tasks, run = self.loop.create_task, self.queue, self.tasks, self._run
        for _ in range(len(queue)):
            coroutine_function, args, kwargs, done, token, context = queue.popleft()
            if self.cancelled and token in self.cancelled:
                self.cancelled.discard(token)
                self._ended(done, token, None, asyncio.CancelledError())
                continue
            # a task runs in the context of its call site (a copy made for this call)
            coroutine = run(coroutine_function, args, kwargs, done, token)
            if context is None:
                task = create_task(coroutine)
            elif _TASK_CONTEXT:
                task = create_task(coroutine, context=context)
            else:  # Python 3.10: a task copies the context it is made in
                task = context.run(create_task, coroutine)
            if not task.done():  # (an eager task factory may have run it to its end)
                tasks[token] = (task, done)

    async def _run(self, coroutine_function: Any, args: tuple, kwargs: dict, done: Done,
                   token: Any) -> None:
        """A call's task: its outcome is reported from its last step (no done callback, no
        extra turn of the loop per call)."""
        try:
            value = await coroutine_function(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - the call's failure, its caller's to raise
            self.tasks.pop(token, None)
            self._ended(done, token, None, exc)
            # the exception's traceback holds this frame: it must not keep the scheduler,
            # the node (and through it the caller's frame) or the arguments alive
            coroutine_function = args = kwargs = done = token = exc = None
        else:
            self.tasks.pop(token, None)
            self._ended(done, token, value, None)

    def cancel(self, token: Any) -> None:
        """Runs on the loop: cancel ``token``'s task, or mark it to be skipped by the
        drain that will find it (the scheduler hands it over after this, from another
        thread).  A token whose call has ended, or was reported, is left alone."""
        entry = self.tasks.pop(token, None)
        if entry is not None:
            task, done = entry
            # the call's ``CancelledError`` is reported by ``_run``; a task cancelled before
            # its first step never runs ``_run``, and ends cancelled: reported here
            task.add_done_callback(functools.partial(self._cancelled, done, token))
            task.cancel()
        elif token.state < DONE and all(item[1] is not token for item in self.ended):
            self.cancelled.add(token)

    def _cancelled(self, done: Done, token: Any, task: Any) -> None:
        if task.cancelled():
            self._ended(done, token, None, asyncio.CancelledError())

    def _ended(self, done: Done, token: Any, value: Any, exc: BaseException | None) -> None:
        if not self.ended:
            self.loop.call_soon(self._report)
        self.ended.append((done, token, value, exc))

    def _report(self) -> None:
        """Runs on the loop after the turn in which calls ended: one ``done`` each."""
        ended, self.ended = self.ended, []
        groups: dict[Done, list[tuple[Any, Any, BaseException | None]]] = {}
        for done, token, value, exc in ended:
            groups.setdefault(done, []).append((token, value, exc))
        for done, outcomes in groups.items():
            done(outcomes)

    def _fail_all(self, exc: BaseException) -> None:
        while True:
            try:
                _, _, _, done, token, _ = self.queue.popleft()
            except IndexError:
                return
            done([(token, None, exc)])


#: ``create_task(..., context=)`` exists (Python 3.11+)
_TASK_CONTEXT = sys.version_info >= (3, 11)


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
    """An executor whose async calls go to a given (the caller's) loop, its sync calls to
    the threads of the executor it is made from (``on_loop``), whose name it has."""

    parallel = True

    def __init__(self, base: Any, loop: asyncio.AbstractEventLoop) -> None:
        """``base``: the executor whose threads run sync calls (asyncio's or threads)."""
        self._base, self.loop, self.max_workers = base, loop, base.max_workers
        self.name = base.name
        self.submit, self.check = base.submit, base.check

    def shutdown(self) -> None:
        return None
