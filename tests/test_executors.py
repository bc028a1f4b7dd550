"""Every executor keeps plain-Python semantics; each one's own promises.

Leaf ops live at module level so the process and Dask executors can pickle them.
The Dask tests start a real LocalCluster (worker processes on loopback).
"""

import asyncio
import os
import signal
import threading
import time
import traceback

import pytest

import xcs_core as xcs
from tests.conftest import line_of
from tests.test_jit_properties import outcome, programs
from xcs_core.executors import get_executor

EXECUTORS = ["threads", "processes", "asyncio", "dask"]
world: list = []


@xcs.op
def square(i, delay=0.01):
    time.sleep(delay)
    return i * i


@xcs.op
def total(values):
    return sum(values)


@xcs.op
def fails_on(i, bad):
    time.sleep(0.01 if i != bad else 0.002)
    if i == bad:
        raise ValueError(f"call {i} failed")
    return i


@xcs.op(effect=True)
def record(tag):
    world.append(tag)


@xcs.op
def describe(x):
    return {"text": f"value {x}"}


def pipeline(n):
    squares = [square(i) for i in range(n)]
    first = describe(squares[1])
    record(("sum", n))
    if first["text"].endswith("1"):
        return total(squares), first["text"].upper()
    return total(squares), None


def failing(n):
    values = [fails_on(i, 2) for i in range(n)]
    record(("after", n))
    return values


pytestmark = pytest.mark.usefixtures("small_dask_cluster")


@pytest.mark.parametrize("executor", EXECUTORS)
def test_results_effects_and_branches_equal_plain_python(executor):
    world.clear()
    expected = pipeline(6)
    plain_world = list(world)
    world.clear()
    with xcs.execution(executor=executor):
        assert xcs.jit(pipeline)(6) == expected == (55, "VALUE 1")
    assert world == plain_world


@pytest.mark.parametrize("executor", EXECUTORS)
def test_failure_raises_the_same_exception_at_the_call_site(executor):
    world.clear()
    with xcs.execution(executor=executor):
        with pytest.raises(ValueError, match="call 2 failed") as info:
            xcs.jit(failing)(6)
        assert world == []  # the effect after the failing call never ran
        frames = traceback.extract_tb(info.value.__traceback__)
        assert any(f.lineno == line_of(failing, "values = [") for f in frames)
        assert xcs.jit(pipeline)(3) == (5, "VALUE 1")  # the next call works


@pytest.mark.parametrize("executor", ["processes", "asyncio", "dask"])
def test_random_programs_equal_sequential(executor):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(program=programs, workers=st.integers(1, 4))
    def check(program, workers):
        assert outcome(executor, program, workers) == outcome("sequential", program)

    check()


# -- processes ----------------------------------------------------------------------------
def test_unpicklable_call_is_rejected_at_its_call_site_before_it_runs():
    ran = []

    @xcs.op
    def local(x):
        ran.append(x)
        return x

    def uses_local():
        return local(1)

    def uses_lock():
        return square(threading.Lock())

    with xcs.execution(executor="processes"):
        with pytest.raises(TypeError) as info:
            xcs.jit(uses_local)()
        message = str(info.value)
        assert "cannot send test_unpicklable_call_is_rejected_at_its_call_site_before_it_runs" \
            ".<locals>.local (called at " in message
        assert f"test_executors.py:{line_of(uses_local, 'return local')})" in message
        assert "Define the function at module level" in message and ran == []
        with pytest.raises(TypeError, match=r"cannot send argument 0 of square \(called at "):
            xcs.jit(uses_lock)()


def test_process_executor_runs_calls_in_other_processes():
    @xcs.jit(executor="processes", max_workers=2)
    def pids():
        return [worker_pid(i) for i in range(4)]

    found = pids()
    assert os.getpid() not in found and len(set(found)) >= 1


def _pid_after(i):
    time.sleep(0.05)
    return os.getpid()


worker_pid = xcs.op(_pid_after)  # wrapped rather than decorated: pickled via its function


# -- asyncio ------------------------------------------------------------------------------
in_flight = {"now": 0, "peak": 0}


@xcs.op
async def fetch(i):
    in_flight["now"] += 1
    in_flight["peak"] = max(in_flight["peak"], in_flight["now"])
    await asyncio.sleep(0.02)
    in_flight["now"] -= 1
    return i


def fan_out(n):
    return [fetch(i) for i in range(n)]


def test_async_calls_share_one_event_loop_concurrently():
    in_flight["peak"] = 0
    with xcs.execution(executor="asyncio"):
        assert xcs.jit(fan_out)(10) == list(range(10))
    assert in_flight["peak"] == 10
    # plain synchronous call of an async op runs it to completion
    assert fetch(3) == 3


def test_inside_a_running_loop_await_aio_instead_of_blocking():
    jitted = xcs.jit(fan_out, executor="asyncio")

    async def main():
        with pytest.raises(RuntimeError, match=r"await fan_out.aio\(...\)"):
            jitted(3)
        return await jitted.aio(3)

    assert asyncio.run(main()) == [0, 1, 2]


# -- dask ---------------------------------------------------------------------------------
@xcs.op
def slow_identity(x):
    time.sleep(1.5)
    return x


def test_dask_runs_each_call_as_a_task_on_the_cluster():
    executor = get_executor("dask")
    assert len(executor.client.scheduler_info()["workers"]) == 2
    with xcs.execution(executor="dask"):
        assert xcs.jit(pipeline)(4) == (14, "VALUE 1")


effects: list = []


@xcs.op(effect=True)
def count_effect(values):
    effects.append(values)


def test_dask_survives_a_worker_killed_mid_run():
    executor = get_executor("dask")
    client = executor.client
    pids = client.run(os.getpid)  # worker address -> process id
    result: list = []
    effects.clear()

    def killed_mid_run():
        values = [slow_identity(i) for i in range(2)]
        count_effect(values)
        return values

    runner = threading.Thread(target=lambda: result.append(
        xcs.jit(killed_mid_run, executor="dask")()))
    runner.start()
    deadline = time.time() + 10
    busy: list = []
    while time.time() < deadline and not busy:
        busy = [addr for addr, keys in client.processing().items() if keys]
        time.sleep(0.05)
    assert busy, "no task started on the cluster"
    os.kill(pids[busy[0]], signal.SIGKILL)  # the worker process dies mid-call
    runner.join(timeout=60)
    assert result == [[0, 1]]
    assert effects == [[0, 1]]  # Dask reran the lost call; the effect still ran once


def test_dask_missing_says_which_extra_to_install(monkeypatch):
    import sys

    from xcs_core.executors.dask import DaskExecutor

    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    with pytest.raises(ImportError, match=r"pip install 'pytest-xcs\[dask\]'"):
        DaskExecutor()


@xcs.jit(max_workers=2)
def inner_squares(n):
    return [square(i, 0.001) for i in range(n)]


@xcs.op
def leaf_calling_jit(n):
    return total(inner_squares(n))


def nested(n):
    return [leaf_calling_jit(n), leaf_calling_jit(n + 1)]


@pytest.mark.parametrize("executor", EXECUTORS)
def test_a_leaf_call_may_itself_call_a_jitted_function(executor):
    with xcs.execution(executor=executor, max_workers=1):
        assert xcs.jit(nested)(3) == [5, 14]


@pytest.mark.parametrize("executor", EXECUTORS)
def test_eight_threads_calling_one_jitted_function_get_their_own_results(executor):
    jitted = xcs.jit(pipeline, executor=executor)
    results: dict = {}

    def work(k):
        results[k] = jitted(k + 2)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert results == {k: pipeline(k + 2) for k in range(8)}


# -- jitted coroutines ----------------------------------------------------------------------
seen: dict = {}


@xcs.op
async def fetch_on_loop(i):
    seen.setdefault("loops", set()).add(id(asyncio.get_running_loop()))
    in_flight["now"] += 1
    in_flight["peak"] = max(in_flight["peak"], in_flight["now"])
    await asyncio.sleep(0.02)
    in_flight["now"] -= 1
    if i < 0:
        raise KeyError(f"no item {i}")
    return i


@xcs.op
def crunch(values):
    seen.setdefault("threads", set()).add(threading.current_thread().name)
    return sum(values)


@xcs.jit(executor="asyncio")
async def gather_all(n):
    answers = [await fetch_on_loop(i) for i in range(n)]
    return crunch(answers)


@xcs.jit(executor="asyncio")
async def with_fallback(i):
    try:
        value = await fetch_on_loop(i)
    except KeyError:
        value = "fallback"
    return value


@xcs.jit(executor="asyncio")
async def outer_coroutine():
    return [await gather_all(3), await with_fallback(-1)]


def test_jitted_coroutine_runs_async_calls_at_once_on_the_callers_loop():
    seen.clear()
    in_flight["peak"] = 0

    async def main():
        seen["loop thread"] = threading.current_thread().name
        return await gather_all(10), id(asyncio.get_running_loop())

    result, caller_loop = asyncio.run(main())
    assert in_flight["peak"] == 10
    assert seen["loops"] == {caller_loop}
    assert seen["threads"] and seen["loop thread"] not in seen["threads"]  # never blocks it
    assert result == asyncio.run(gather_all.fn(10)) == 45  # same as the plain coroutine


def test_jitted_coroutine_keeps_exceptions_and_try_blocks():
    assert asyncio.run(with_fallback(-1)) == "fallback"
    assert asyncio.run(with_fallback(4)) == 4
    with pytest.raises(KeyError, match="no item -2"):
        asyncio.run(_fails())
    assert asyncio.run(outer_coroutine()) == [3, "fallback"]


@xcs.jit(executor="asyncio")
async def _fails():
    values = [await fetch_on_loop(i) for i in (1, -2, 3)]
    return crunch(values)


@xcs.op
async def maybe_nothing(i):
    await asyncio.sleep(0.005)
    return None if i % 2 else i


@xcs.jit(executor="asyncio")
async def identity_after_await(i):
    r = await maybe_nothing(i)
    if r is None:
        return "nothing"
    return r


def test_identity_test_after_await_takes_the_plain_branch():
    for i, expected in ((1, "nothing"), (2, 2)):
        assert asyncio.run(identity_after_await(i)) == expected
        assert asyncio.run(identity_after_await.fn(i)) == expected


left_behind: list = []


async def leave_a_task_running():
    left_behind.append(asyncio.get_running_loop().create_task(asyncio.sleep(30)))
    return await fetch_on_loop(2)


def test_a_task_left_running_by_a_jitted_coroutine_is_cancelled_as_asyncio_run_does():
    for body in (leave_a_task_running, xcs.jit(leave_a_task_running, executor="asyncio")):
        left_behind.clear()

        async def main(body=body):
            return [await body(), await body()]

        assert asyncio.run(main()) == [2, 2]
        assert len(left_behind) == 2 and all(t.cancelled() for t in left_behind)


def test_bad_dask_environment_values_name_the_variable(monkeypatch):
    from xcs_core.env import positive_int

    monkeypatch.setenv("XCS_DASK_THREADS", "many")
    with pytest.raises(ValueError, match=r"XCS_DASK_THREADS='many' must be a positive integer"):
        positive_int("XCS_DASK_THREADS", 4, "threads per worker", 4)
    monkeypatch.setenv("XCS_DASK_THREADS", "2")
    assert positive_int("XCS_DASK_THREADS", 4, "threads per worker", 4) == 2
