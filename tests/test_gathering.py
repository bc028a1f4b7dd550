"""What ``asyncio.gather`` over dispatched async calls returns in a jitted coroutine: the
future plain Python returns, to every use of it (``xcs_core.gathering``).

Each program runs plainly and jitted (asyncio and threads executors); the two must
give the same record of what the program saw.
"""

from __future__ import annotations

import asyncio
import gc
import time
import warnings

import pytest

import xcs_core as xcs

LOG: list[str] = []


@xcs.op
async def double(x):
    await asyncio.sleep(0.005)
    return x * 2


@xcs.op
async def slow(name):
    try:
        await asyncio.sleep(30)
    except asyncio.CancelledError:
        LOG.append(f"{name} cancelled")
        raise
    return name


async def _as_a_future():
    g = asyncio.gather(double(1), double(2))
    seen = [isinstance(g, asyncio.Future), asyncio.isfuture(g), g.done()]
    first = await g
    second = await g  # a future gives its result again (a coroutine could not be reused)
    seen += [first, second is first, g.done(), g.result() is first, g.exception()]
    return seen


async def _waited_and_called_back():
    g = asyncio.gather(double(3), double(4))
    called: list = []
    g.add_done_callback(lambda fut: called.append(fut is g))
    done, pending = await asyncio.wait([g])
    await asyncio.sleep(0)  # done callbacks run soon after
    return [g in done, not pending, g.result(), called, repr(g).startswith("<_GatheringFuture")]


async def _cancelled():
    g = asyncio.gather(slow("a"), slow("b"))
    await asyncio.sleep(0.01)
    cancelled = g.cancel()
    try:
        await g
    except asyncio.CancelledError:
        return [cancelled, "CancelledError", g.done(), g.cancelled()]
    return [cancelled, "not cancelled"]


async def _dropped():
    asyncio.gather(double(5), double(6))  # a future dropped: no warning, its calls run
    await asyncio.sleep(0.05)
    return 1


def _seen(program):
    """What ``program`` returned, the warnings it gave, and what its calls recorded (a
    call cancelled on another thread's loop may record it just after the jitted call)."""
    LOG.clear()
    gc.collect()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = asyncio.run(program())
        gc.collect()
    deadline = time.monotonic() + 5
    while program is _cancelled and len(LOG) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    return value, [str(w.message) for w in caught if w.category is RuntimeWarning], sorted(LOG)


@pytest.mark.parametrize("executor", ["asyncio", "threads"])
@pytest.mark.parametrize("program", [_as_a_future, _waited_and_called_back, _cancelled,
                                     _dropped], ids=lambda p: p.__name__.strip("_"))
def test_gather_over_dispatched_calls_gives_the_future_plain_python_gives(program, executor):
    plain = _seen(program)
    assert plain[1] == []
    assert _seen(xcs.jit(program, executor=executor)) == plain


def test_a_gather_awaited_at_once_still_does_not_wait_for_its_calls():
    """The future is made without a task per call, and compiled code's ``await`` of it
    hands back the calls' stand-ins at once: the next gather's calls start meanwhile."""
    started: list[str] = []

    @xcs.op
    async def call(name):
        started.append(f"{name} start")
        await asyncio.sleep(0.02)
        started.append(f"{name} end")
        return name

    async def program():
        first = await asyncio.gather(call("a1"), call("a2"))
        second = await asyncio.gather(call("b1"), call("b2"))
        return first + second

    assert asyncio.run(xcs.jit(program, executor="asyncio")()) == ["a1", "a2", "b1", "b2"]
    assert max(started.index("b1 start"), started.index("b2 start")) < min(
        started.index("a1 end"), started.index("a2 end"))


def test_a_gather_returned_unused_is_a_future_of_the_callers_loop():
    async def make():
        return asyncio.gather(double(7), double(8))

    async def caller(fn):
        g = await fn()
        return [isinstance(g, asyncio.Future), await g, g.done()]

    plain = asyncio.run(caller(make))
    assert plain == [True, [14, 16], True]
    assert asyncio.run(caller(xcs.jit(make, executor="asyncio"))) == plain


@xcs.op
async def fails_after(name, seconds):
    await asyncio.sleep(seconds)
    raise ValueError(name)


async def _two_failures_caught():
    try:
        await asyncio.gather(fails_after("first", 0.05), fails_after("second", 0.0))
    except ValueError as exc:
        return str(exc)


async def _two_failures_uncaught():
    return await asyncio.gather(fails_after("first", 0.05), fails_after("second", 0.0))


def _outcome(program):
    try:
        return asyncio.run(program())
    except ValueError as exc:
        return f"raised {exc}"


@pytest.mark.parametrize("program", [_two_failures_caught, _two_failures_uncaught],
                         ids=["caught", "uncaught"])
def test_of_several_failures_in_one_gather_the_first_in_time_is_raised(program):
    """Plain ``gather`` raises the failure that happens first in time, not the first call's:
    inside ``try`` the jitted await waits on plain gather's future; outside it, the failures
    share the await's place in program order, and the first to happen is raised."""
    plain = _outcome(program)
    assert plain in ("second", "raised second")
    assert _outcome(xcs.jit(program, executor="asyncio")) == plain
