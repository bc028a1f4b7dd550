"""Cancelling an awaited async call, as plain Python cancels an awaited coroutine.

A timeout that runs out (``asyncio.wait_for``, ``asyncio.timeout``) or a
``task.cancel()`` reaches the call's coroutine as ``CancelledError`` at its
``await``: its ``finally`` runs, the code after the ``await`` never does, and the
jitted call returns without waiting for it.  The calls here wait on an event
nobody sets: a call that is not cancelled would hang its test (each runs in a
thread joined with a timeout, and the test fails on what the call recorded).
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time

import pytest

import xcs_core as xcs

LOG: list[str] = []


@xcs.op
async def never_ends(name):
    LOG.append(f"{name} started")
    try:
        await asyncio.Event().wait()  # nobody sets it: only a cancellation ends this
        LOG.append(f"{name} finished")
    except asyncio.CancelledError:
        LOG.append(f"{name} cancelled")
        raise
    return name


@xcs.op
async def quick(name):
    await asyncio.sleep(0)
    LOG.append(f"{name} done")
    return name


def _within(seconds, fn):
    """``fn()``'s result or exception, or a failure if it has not returned in ``seconds``
    (a hang: the call it waits for was never cancelled)."""
    box: dict = {}

    def target():
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - compared by the test
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"hung; the calls recorded {LOG}"
    if "error" in box:
        raise box["error"]
    return box["value"]


@pytest.fixture(autouse=True)
def _clear_log():
    LOG.clear()


EXECUTORS = ["threads", "asyncio"]


@pytest.mark.parametrize("executor", EXECUTORS)
def test_a_timeout_cancels_the_call_it_ran_out_on(executor):
    @xcs.jit(executor=executor)
    async def program(q):
        first = await quick(q)
        try:
            late = await asyncio.wait_for(never_ends(q), timeout=0.05)
        except asyncio.TimeoutError:
            late = "timed out"
        return [first, late]

    assert _within(20, lambda: asyncio.run(program("a"))) == ["a", "timed out"]
    assert sorted(LOG) == ["a cancelled", "a done", "a started"]  # the two ran at once


@pytest.mark.parametrize("executor", EXECUTORS)
def test_an_unguarded_timeout_raises_where_plain_python_does(executor):
    """On 3.12+ ``wait_for`` awaits the call in the caller's task: code xcs does not
    compile always waits for the call, so the timeout fires."""
    @xcs.jit(executor=executor)
    async def program(q):
        return await asyncio.wait_for(never_ends(q), timeout=0.05)

    with pytest.raises(TimeoutError if sys.version_info >= (3, 11) else asyncio.TimeoutError
                       ) as info:
        _within(20, lambda: asyncio.run(program("b")))
    assert isinstance(info.value.__context__, asyncio.CancelledError)  # as plain Python's
    assert LOG == ["b started", "b cancelled"]


@pytest.mark.parametrize("executor", EXECUTORS)
def test_a_task_cancelled_before_its_first_step_cancels_its_call(executor):
    @xcs.jit(executor=executor)
    async def program(q):
        task = asyncio.create_task(never_ends(q))
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            return "cancelled"

    assert _within(20, lambda: asyncio.run(program("c"))) == "cancelled"
    # plain Python never starts it; xcs may have started it when it was called
    assert LOG in ([], ["c started", "c cancelled"])


@pytest.mark.parametrize("executor", EXECUTORS)
def test_a_running_task_cancelled_cancels_its_call(executor):
    @xcs.jit(executor=executor)
    async def program(q):
        task = asyncio.create_task(never_ends(q))
        while not LOG:
            await asyncio.sleep(0.001)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            return "cancelled"

    assert _within(20, lambda: asyncio.run(program("d"))) == "cancelled"
    assert LOG == ["d started", "d cancelled"]


def test_a_loop_inside_a_sync_jit_cancels_the_call_on_the_executors_loop():
    """The awaiter's loop (``asyncio.run`` in the jitted code) is not the loop the
    asyncio executor runs the call on: the cancellation crosses threads."""
    async def inner(q):
        try:
            return await asyncio.wait_for(never_ends(q), timeout=0.05)
        except asyncio.TimeoutError:
            return "timed out"

    @xcs.jit(executor="asyncio")
    def program(q):
        return asyncio.run(inner(q))

    assert _within(20, lambda: program("e")) == "timed out"
    assert LOG == ["e started", "e cancelled"]


@pytest.mark.parametrize("executor", EXECUTORS)
def test_a_timed_out_gather_cancels_every_call_it_was_given(executor):
    @xcs.jit(executor=executor)
    async def program(q):
        try:
            return await asyncio.wait_for(asyncio.gather(never_ends(q), never_ends(q + "2")),
                                          timeout=0.05)
        except asyncio.TimeoutError:
            return "timed out"

    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        assert _within(20, lambda: asyncio.run(program("f"))) == "timed out"
    assert sorted(LOG) == ["f cancelled", "f started", "f2 cancelled", "f2 started"]
    # gather made a task of each at once: neither is a coroutine never awaited
    assert [str(w.message) for w in caught if "never awaited" in str(w.message)] == []


RELEASE: dict = {}


@xcs.op
async def held(name):
    """Ends once ``RELEASE["event"]`` is set: set by the test when all four calls are in
    flight, which only a program that issued the second gather before the first one's
    calls ended can reach."""
    LOG.append(f"{name} started")
    if sum(entry.endswith("started") for entry in LOG) == 4:
        RELEASE["event"].set()
    await asyncio.wait_for(RELEASE["event"].wait(), timeout=5)
    return name


def test_awaiting_a_gather_outside_try_does_not_wait_so_the_next_gather_overlaps_it():
    """Compiled code's ``await gather(...)`` of dispatched calls is lenient (the stand-ins
    are returned at once): the second gather's calls are issued while the first's run."""
    @xcs.jit(executor="asyncio")
    async def program():
        RELEASE["event"] = asyncio.Event()
        first = await asyncio.gather(held("a"), held("b"))
        second = await asyncio.gather(held("c"), held("d"))
        return first + second

    assert _within(20, lambda: asyncio.run(program())) == ["a", "b", "c", "d"]
    assert sorted(LOG) == ["a started", "b started", "c started", "d started"]


@xcs.op(effect=True)
def publish(text):
    LOG.append(f"published {text}")


@pytest.mark.parametrize("executor", EXECUTORS)
def test_an_effect_right_after_cancel_does_not_wait_for_the_cancelled_call(executor):
    """``task.cancel()`` cancels the call at once: the effect after it, which waits for
    every earlier call, finds it cancelled (its task only sees the cancellation when it
    next runs, after the effect)."""
    @xcs.jit(executor=executor)
    async def program(q):
        tasks = [asyncio.create_task(quick(q)), asyncio.create_task(never_ends(q))]
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        publish(q)
        return [task.result() for task in done]

    assert _within(20, lambda: asyncio.run(program("g"))) == ["g"]
    assert "g finished" not in LOG and LOG[-1] == "published g"


@pytest.mark.parametrize("executor", EXECUTORS)
def test_an_async_call_made_as_a_statement_and_never_awaited_is_cancelled(executor):
    """Plain Python never runs a coroutine nobody awaits; the jitted call cancels the
    call (it was dispatched when made) instead of waiting for it to end."""
    @xcs.jit(executor=executor)
    async def program(q):
        never_ends(q)  # a coroutine made and dropped
        return await quick(q)

    assert _within(20, lambda: asyncio.run(program("h"))) == "h"
    # never started, or started (it was dispatched) and cancelled, never finished
    assert sorted(LOG) in (["h done"], ["h cancelled", "h done", "h started"])


class _Token:
    state = 0  # a node's state before it is done


@pytest.mark.parametrize("first_step", [False, True])
def test_a_started_call_cancelled_before_or_after_its_tasks_first_step_is_reported_once(
        first_step):
    """The loop's side of cancelling (``_Starts``): a task cancelled before its first step
    never runs the call (its coroutine is never made) and still reports
    ``CancelledError``; one cancelled at its ``await`` reports the ``CancelledError`` its
    coroutine raised.  Either way the call is reported once and no task is kept."""
    from xcs_core.executors.aio import starts_of

    ran: list[str] = []
    reported: list = []

    async def call(name):
        ran.append(name)
        await asyncio.Event().wait()

    async def scenario():
        loop = asyncio.get_running_loop()
        starts, token = starts_of(loop), _Token()
        starts.add((call, ("x",), {}, reported.extend, token, None))
        await asyncio.sleep(0)  # the drain made the task
        assert token in starts.tasks
        if first_step:
            await asyncio.sleep(0)  # the task ran up to its ``await``
        starts.cancel(token)
        for _ in range(5):
            await asyncio.sleep(0)
        return starts

    starts = asyncio.run(scenario())
    assert ran == (["x"] if first_step else [])
    assert [(token_, value, type(exc)) for token_, value, exc in reported] == [
        (token_, None, asyncio.CancelledError) for token_, _, _ in reported]
    assert len(reported) == 1 and not starts.tasks


@pytest.mark.skipif(sys.version_info < (3, 12), reason="asyncio.eager_task_factory: 3.12+")
def test_async_calls_under_an_eager_task_factory_are_reported_and_not_kept():
    """An eager task factory runs a task's first step inside ``create_task``: a call that
    ends there is reported, and no finished task is kept for cancelling."""
    from xcs_core.executors.aio import starts_of

    @xcs.jit(executor="asyncio")
    async def program(n):
        ready = [quick(f"q{i}") for i in range(n)]
        return await asyncio.gather(*ready)

    async def main():
        asyncio.get_running_loop().set_task_factory(asyncio.eager_task_factory)
        value = await program(4)
        return value, dict(starts_of(asyncio.get_running_loop()).tasks)

    value, kept = _within(20, lambda: asyncio.run(main()))
    assert value == ["q0", "q1", "q2", "q3"] and kept == {}
    assert sorted(LOG) == ["q0 done", "q1 done", "q2 done", "q3 done"]


@pytest.mark.parametrize("executor", EXECUTORS)
def test_async_calls_kept_unawaited_in_a_list_are_cancelled_when_the_function_returns(
        executor):
    """Plain Python never runs the coroutines of a list it awaits only some of; the
    jitted call cancels the calls it dispatched for them instead of waiting for them (one
    that never ends hung it)."""
    @xcs.jit(executor=executor)
    async def program(q):
        calls = [quick(q), never_ends(q), never_ends(q + "2")]
        first = await calls[0]
        return [first, len(calls)]

    assert _within(20, lambda: asyncio.run(program("k"))) == ["k", 3]
    assert "k finished" not in LOG and "k2 finished" not in LOG
    assert "k done" in LOG


@pytest.mark.parametrize("executor", EXECUTORS)
def test_async_calls_returned_or_given_to_the_caller_unawaited_are_not_cancelled(executor):
    """A coroutine the function returns, or leaves in a list it was given, is the caller's
    to await, as in plain Python: its call runs and the caller gets its value."""
    @xcs.jit(executor=executor)
    async def program(q, box):
        box.append(quick(q + "-given"))
        held = quick(q + "-returned")
        return [held]

    async def caller():
        box: list = []
        returned = await program("r", box)
        return [await returned[0], await box[0]]

    assert _within(20, lambda: asyncio.run(caller())) == ["r-returned", "r-given"]
    assert sorted(LOG) == ["r-given done", "r-returned done"]


async def _some_never_awaited(q):
    quick(q + "-dropped")  # its coroutine dropped at once
    calls = [quick(q + "-first"), quick(q + "-kept")]
    return await calls[0]


async def _one_dropped(q):
    quick(q + "-dropped")  # freed at once (plain Python frees the list's later, when the
    return await quick(q + "-first")  # frame of its finished task is)


def _collect_earlier():
    """Collect what earlier tests left in cycles (their coroutines and stand-ins warn
    when collected): not the next program's to report."""
    import gc

    gc.collect()


def _run_collected(program):
    import gc

    value = asyncio.run(program("w"))
    gc.collect()  # plain Python warns when the coroutines are collected
    return value


def _warned(program, arg="w", shown=lambda value: value):
    """What ``asyncio.run(program(arg))`` returned (``shown`` of it, while it is still held),
    or the repr of what it raised, and the ``RuntimeWarning`` messages given meanwhile
    (sorted), what earlier tests left collected first."""
    import gc
    import warnings

    _collect_earlier()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = shown(asyncio.run(program(arg)))
        except Exception as exc:  # noqa: BLE001 - compared with plain Python's
            value = repr(exc)
        gc.collect()  # plain Python warns when the coroutines are collected
    return value, sorted(str(w.message) for w in caught if w.category is RuntimeWarning)


def test_async_calls_never_awaited_warn_as_plain_pythons_coroutines_do():
    plain = _warned(_some_never_awaited)
    assert plain == ("w-first", ["coroutine 'quick' was never awaited"] * 2)
    assert _warned(xcs.jit(_some_never_awaited, executor="asyncio")) == plain


def test_a_never_awaited_warning_made_an_error_is_unraisable_as_in_plain_python(monkeypatch):
    """``-W error``: plain Python cannot raise from a coroutine's finalizer and hands the
    warning to ``sys.unraisablehook``; the jitted call does the same, and returns."""
    import warnings

    def unraisable(program):
        hooked: list = []
        _collect_earlier()
        monkeypatch.setattr(sys, "unraisablehook", hooked.append)
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            value = _run_collected(program)
        return value, sorted(str(args.exc_value) for args in hooked
                             if isinstance(args.exc_value, RuntimeWarning))

    plain = unraisable(_one_dropped)
    assert plain == ("w-first", ["coroutine 'quick' was never awaited"])
    assert unraisable(xcs.jit(_one_dropped, executor="asyncio")) == plain


async def _finished_before_return(q):
    calls = [quick(q + "-first"), quick(q + "-kept")]
    first = await calls[0]
    await asyncio.sleep(0.05)  # the kept call has ended by now, jitted (plain never ran it)
    return first


def test_an_unawaited_call_that_ended_before_the_function_returned_still_warns():
    """Plain Python warns for every coroutine collected unawaited; the jitted call warns
    for each ``Pending`` collected unawaited, whether or not its call had ended."""
    plain = _warned(_finished_before_return)
    assert plain == ("w-first", ["coroutine 'quick' was never awaited"])
    assert _warned(xcs.jit(_finished_before_return, executor="asyncio")) == plain
    assert _warned(xcs.jit(_finished_before_return, executor="threads")) == plain


@xcs.op
def lookup_strict(key):
    time.sleep(0.05)  # fails after the calls that read it are made
    raise LookupError(f"no entry for {key!r}")


@xcs.op
async def answer(prompt):
    await asyncio.sleep(0)
    return prompt.upper()


async def _tasks_after_a_failure(q):
    text = lookup_strict(q)  # raises: plain Python never makes the coroutines below
    out = []
    for fut in asyncio.as_completed([answer(m + text) for m in ("a", "b")]):
        out.append(await fut)
    return out


def test_tasks_of_calls_plain_python_never_made_log_no_unretrieved_exception(caplog):
    """A failure stops plain Python before it makes the later coroutines; the jitted code
    has made them already, and ``as_completed`` tasks of them, which end with that failure.
    Nobody retrieves it: asyncio must not log "Task exception was never retrieved"."""
    import gc

    def logged(program):
        _collect_earlier()
        caplog.clear()
        with caplog.at_level("ERROR", logger="asyncio"):
            try:
                asyncio.run(program("q"))
            except LookupError as exc:
                error = repr(exc)
            gc.collect()
        return error, [r.getMessage() for r in caplog.records]

    plain = logged(_tasks_after_a_failure)
    assert plain == ("LookupError(\"no entry for 'q'\")", [])
    assert logged(xcs.jit(_tasks_after_a_failure, executor="asyncio")) == plain


async def _unawaited_after_a_failure(q):
    text = lookup_strict(q)  # raises: plain Python never makes the coroutines below
    answer(text)  # dropped at once
    spare = [answer(m + text) for m in ("a", "b")]  # kept, never awaited
    return spare


def test_calls_plain_python_never_made_give_no_never_awaited_warning():
    plain = _warned(_unawaited_after_a_failure, "q")
    assert plain == ("LookupError(\"no entry for 'q'\")", [])
    assert _warned(xcs.jit(_unawaited_after_a_failure, executor="asyncio"), "q") == plain
    assert _warned(xcs.jit(_unawaited_after_a_failure, executor="threads"), "q") == plain


def test_an_async_call_known_to_be_cheap_is_still_an_awaitable_never_awaited_warns():
    """The cost model may learn that an op's calls take microseconds; an async one still
    gives an awaitable (not a value computed inline), so one never awaited is warned of
    and cancelled as plain Python's coroutine never runs."""
    from xcs_core import cost

    for _ in range(100):  # as fast runs would teach it (whatever earlier tests taught)
        cost.learn(quick.key, 1e-7)
        if cost.cheap(quick.key):
            break
    try:
        assert cost.cheap(quick.key)
        plain = _warned(_some_never_awaited)
        assert plain == ("w-first", ["coroutine 'quick' was never awaited"] * 2)
        assert _warned(xcs.jit(_some_never_awaited, executor="asyncio")) == plain
    finally:  # what later tests of ``quick`` expect: a call of unknown, slow cost
        for _ in range(5):
            cost.learn(quick.key, 1.0)


@xcs.op
async def risky(name):
    await asyncio.sleep(0)
    raise KeyError(name)


async def _shout(name):
    said = await risky(name)
    return said.upper()


async def _kept_exception_and_unawaited_calls(q):
    spare = [quick(q + m) for m in "ab"]  # never awaited
    direct = await asyncio.gather(risky(q), return_exceptions=True)
    wrapped = await asyncio.gather(*(_shout(q + m) for m in "cd"), return_exceptions=True)
    return [len(spare), *direct, *wrapped]


def test_an_exception_the_program_keeps_does_not_delay_never_awaited_warnings():
    """Differential census seed 70130: an exception returned by ``gather(...,
    return_exceptions=True)`` held, through frames of xcs in its traceback, the failed
    call's node and the caller's frame, so the unawaited coroutines in its locals were
    freed (and warned of) only when the program's result was."""
    def warned(program):  # the result is held while the warnings are counted
        return _warned(program, "q", shown=lambda value: [repr(v) for v in value])

    plain = warned(_kept_exception_and_unawaited_calls)
    assert plain == (["2", "KeyError('q')", "KeyError('qc')", "KeyError('qd')"],
                     ["coroutine 'quick' was never awaited"] * 2)
    assert warned(xcs.jit(_kept_exception_and_unawaited_calls, executor="asyncio")) == plain


_DROPPED_UNDER_W_ERROR = """
import asyncio, gc
import xcs_core as xcs

@xcs.op
async def quick(name):
    await asyncio.sleep(0)
    return name

async def program(q):
    quick(q + "-dropped")  # never awaited
    return await quick(q)

fn = program if {plain} else xcs.jit(program, executor="asyncio")
print("returned", asyncio.run(fn("w")))
gc.collect()
"""


@pytest.mark.parametrize("plain", [True, False], ids=["plain", "jit"])
def test_a_never_awaited_warning_made_an_error_reaches_the_default_unraisable_hook(
        plain, tmp_path):
    """``-W error`` with the interpreter's own ``sys.unraisablehook``: the warning is
    printed as an exception ignored, and the call returns (the hook accepts only the
    interpreter's own arguments: xcs hands the warning over by raising it in a finalizer)."""
    import subprocess

    script = tmp_path / "dropped.py"  # a file: xcs compiles from source
    script.write_text(_DROPPED_UNDER_W_ERROR.format(plain=plain))
    done = subprocess.run([sys.executable, "-W", "error::RuntimeWarning", str(script)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "returned w"
    assert "Exception ignored in" in done.stderr
    assert "RuntimeWarning: coroutine 'quick' was never awaited" in done.stderr
