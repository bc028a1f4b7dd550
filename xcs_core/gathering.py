"""``asyncio.gather`` of dispatched async calls, as compiled code calls it.

Plain ``gather`` makes a task of each awaitable and returns a future (a
``_GatheringFuture``) that ends when they all have.  Over calls xcs has already
dispatched, ``await gather(...)`` in compiled code must not wait: like ``await
op(x)``, it hands back the calls' stand-ins at once, and a failure becomes the
program's from there (``intrinsics.awaited``).  What ``gather`` returns must still be
the future plain Python returns to every other use: awaited twice, asked ``done()``,
cancelled, given to ``asyncio.wait``, or dropped without a warning.

So ``gather(...)`` over ``Pending`` stand-ins only gives a ``Gathering``: an
``asyncio.Future`` of the running loop, made without a task per call.

* Compiled code's ``await`` of it (``compiled_await``) does not wait where an ``await``
  of each call would not (outside ``try``/``with``): the calls are owned from there and
  their values (or stand-ins) are set as the future's result, so a second ``await``,
  ``done()`` and ``result()`` see it as plain Python's do.  Where it must wait, it
  awaits the real gather (below); with ``return_exceptions=True``, each call in turn.
* Anything else that looks at it first (a method of the future, an ``await`` from
  code xcs did not compile: ``wait_for``, ``shield``, a task) makes the real
  ``asyncio.gather`` over the stand-ins (a task of each waits for its call exactly),
  and from then on every method is that future's, callbacks given ``self``.
"""

from __future__ import annotations

import asyncio
import os
import types
from typing import Any

from xcs_core import values
from xcs_core.intrinsics import _GUARD, AWAITS, STATE, awaited, guarded
from xcs_core.values import Pending

__all__ = ["Gathering", "compiled_await", "gather", "rebound"]

_Future = asyncio.Future


class Gathering(_Future):
    """The future ``gather`` returns over dispatched async calls (see module doc)."""

    def __init__(self, calls: tuple[Pending, ...], return_exceptions: bool,
                 loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop=loop)
        self._calls, self._return_exceptions = calls, return_exceptions
        self._real: asyncio.Future | None = None

    def _plain(self) -> asyncio.Future | None:
        """The real gather (made on first use), or ``None`` once compiled code's await set
        this future's own result."""
        real = self._real
        if real is None and not _Future.done(self):
            real = self._real = asyncio.gather(*self._calls,
                                               return_exceptions=self._return_exceptions)
        return real

    def add_done_callback(self, fn: Any, *, context: Any = None) -> None:
        real = self._plain()
        if real is None:
            _Future.add_done_callback(self, fn, context=context)
        else:  # called with this future, as plain Python's callbacks are
            real.add_done_callback(_Forward(fn, self), context=context)

    def __await__(self) -> Any:
        real = self._plain()
        return _Future.__await__(self) if real is None else real.__await__()

    __iter__ = __await__

    def __repr__(self) -> str:
        real = self._plain()
        return _Future.__repr__(self) if real is None else repr(real)


def _delegate(name: str) -> Any:
    own = getattr(_Future, name)

    def method(self: Gathering, *args: Any, **kwargs: Any) -> Any:
        real = self._plain()
        return own(self, *args, **kwargs) if real is None else getattr(real, name)(
            *args, **kwargs)
    method.__name__ = method.__qualname__ = name
    return method


for _name in ("done", "cancelled", "result", "exception", "cancel", "remove_done_callback"):
    setattr(Gathering, _name, _delegate(_name))
del _name


class _Forward:
    """A done callback of the real gather that calls ``fn`` with the ``Gathering``; equal
    to ``fn``, so ``remove_done_callback(fn)`` finds it."""

    __slots__ = ("fn", "outer")

    def __init__(self, fn: Any, outer: Gathering) -> None:
        self.fn, self.outer = fn, outer

    def __call__(self, _real: Any) -> None:
        self.fn(self.outer)

    def __eq__(self, other: object) -> bool:
        return other is self or other == self.fn

    __hash__ = None  # type: ignore[assignment]


def gather(calls: tuple[Pending, ...], return_exceptions: bool) -> Gathering:
    """``asyncio.gather(*calls)`` in compiled code, every one a dispatched async call."""
    for call in calls:  # gather makes each a task at once: none is left unawaited
        call.awaited = True
    return Gathering(calls, return_exceptions, asyncio.get_running_loop())


def compiled_await(gathering: Gathering) -> Any:
    """What compiled code's ``await gathering`` awaits.

    Where each call's await would be lenient (outside ``try``/``with``, every call this
    trace's, on one scheduler), nothing waits: the calls are owned from here, under one
    lock, and their values (or stand-ins) are the future's result.  Where one must wait,
    plain ``gather``'s future is awaited, so the first failure in time is raised and a
    cancellation reaches every call, as in plain Python; with ``return_exceptions=True``,
    each call is awaited in turn and its exception returned in its place.  Once another
    use made the real gather, that one is awaited."""
    real = gathering._real
    if real is not None or _Future.done(gathering):
        return gathering if real is None else real
    calls = gathering._calls
    if gathering._return_exceptions:
        return _settled(gathering)
    ctx = STATE.ctx  # this thread's trace
    proxies = [call.value for call in calls]
    sched = proxies[0]._xcs_node.sched
    if ctx is None or sched is None or guarded():
        return gathering._plain()
    for proxy in proxies:
        node = proxy._xcs_node
        if node.owner is not ctx or node.sched is not sched:
            return gathering._plain()
    sched.own_all([proxy._xcs_node for proxy in proxies], ctx.count - 0.5)
    await_value = values._RT.await_value
    _Future.set_result(gathering, [await_value(proxy) for proxy in proxies])
    return gathering


async def _settled(gathering: Gathering) -> list[Any]:
    """``gather(..., return_exceptions=True)``: each call awaited in a guard (it waits),
    its exception returned in its place; cancelled (a timeout, ``task.cancel()``), it
    cancels every call it was given, as gather cancels its children."""
    calls, out = gathering._calls, []
    try:
        with _GUARD:
            for call in calls:
                try:
                    out.append(await awaited(call))
                except Exception as exc:  # noqa: BLE001 - what gather returns in its place
                    out.append(_without_own_frames(exc))
    except BaseException as exc:  # a cancellation cancels them all (nothing else does)
        for call in calls:
            values._RT.cancel_pending(call.value, exc)
        raise
    if gathering._real is None and not _Future.done(gathering):
        _Future.set_result(gathering, out)
    return out


def _without_own_frames(exc: BaseException) -> BaseException:
    """``exc`` with the frames of xcs (this one, the await's, the loop's) dropped from its
    traceback, as plain gather returns it: a result the program keeps must not keep them,
    nor what their locals hold (the calls, their nodes, the caller's frame)."""
    kept = []
    tb = exc.__traceback__
    while tb is not None:
        if not tb.tb_frame.f_code.co_filename.startswith(_XCS):
            kept.append(tb)
        tb = tb.tb_next
    rebuilt = None
    for tb in reversed(kept):
        rebuilt = types.TracebackType(rebuilt, tb.tb_frame, tb.tb_lasti, tb.tb_lineno)
    return exc.with_traceback(rebuilt)


_XCS = os.path.dirname(os.path.abspath(__file__)) + os.sep  # frames of xcs_core's files


def rebound(out: Any, loop: asyncio.AbstractEventLoop) -> Any:
    """A ``Gathering`` returned out of a jitted coroutine, nobody having used it yet, as a
    future of the caller's ``loop`` (the jitted call's own loop stops when it returns)."""
    if type(out) is Gathering and out._real is None and not _Future.done(out):
        return Gathering(out._calls, out._return_exceptions, loop)
    return out


AWAITS[Gathering] = compiled_await
