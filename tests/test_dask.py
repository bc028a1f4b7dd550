"""The Dask executor keeps values on the workers: structure, fetching, and parity with threads.

These tests start a real LocalCluster (worker processes on loopback).  Leaf ops live at
module level so the workers can unpickle them.  No assertion here is about time.
"""

import os
import time
from types import SimpleNamespace

import pytest

pytest.importorskip("dask.distributed")

import xcs_core as xcs  # noqa: E402
from xcs_core.executors import get_executor  # noqa: E402
from xcs_core.remote import Remote  # noqa: E402

pytestmark = pytest.mark.usefixtures("small_dask_cluster")


@pytest.fixture
def fetches(monkeypatch):
    """Every ``fetch_all`` of the Dask executor: the number of values each one fetched."""
    executor = get_executor("dask")
    calls: list[int] = []
    fetch_all = executor.fetch_all

    def counting(handles):
        calls.append(len(handles))
        return fetch_all(handles)

    monkeypatch.setattr(executor, "fetch_all", counting)
    return calls


class Travels:
    """A value that records the process of everyone who pickles it (one entry a move)."""

    def __init__(self, made_in, moved_by=()):
        self.made_in, self.moved_by = made_in, tuple(moved_by)

    def __reduce__(self):
        return Travels, (self.made_in, (*self.moved_by, os.getpid()))


@xcs.op
def make_travels(i):
    return Travels(os.getpid())


@xcs.op
def moves_of(travels):
    return [(t.made_in, t.moved_by) for t in travels] if isinstance(travels, list) \
        else [(travels.made_in, travels.moved_by)]


def test_a_dependent_call_gets_its_input_from_the_workers_not_through_the_client(fetches):
    def program():
        one = make_travels(0)
        many = [make_travels(i) for i in range(4)]
        return moves_of(one), moves_of(many)

    single, several = xcs.jit(program, executor="dask")()
    here = os.getpid()
    for made_in, moved_by in single + several:
        assert made_in != here  # made on a worker
        assert here not in moved_by  # never pickled by this process on its way
    assert fetches == [2]  # only the two results the boundary returns, together


@xcs.op
def double(x):
    return 2 * x


def plain_total(values):  # plain Python, not an op: it needs the values here
    return sum(values)


def test_many_values_read_by_plain_python_come_in_one_gather(fetches):
    def program(n):
        return plain_total([double(i) for i in range(n)])

    assert xcs.jit(program, executor="dask")(16) == sum(2 * i for i in range(16))
    assert fetches == [16]


def test_values_returned_or_stored_come_back_in_one_gather_and_concrete(fetches):
    def program(n, out):
        out.append(double(100))
        return [double(i) for i in range(n)]

    out: list = []
    result = xcs.jit(program, executor="dask")(8, out)
    assert result == [2 * i for i in range(8)] and out == [200]
    assert all(type(v) is int for v in [*result, *out])  # nothing pending or remote escapes
    assert fetches == [9]


@xcs.op
def square(x):
    return x * x


@xcs.op
def total(values):
    return sum(values)


@xcs.op
def checked(x, bad):
    if x == bad:
        raise KeyError(f"bad {x}")
    return x


@xcs.op
def fails_late(x):
    time.sleep(0.3)
    raise ValueError(f"first failure, call {x}")


@xcs.op
def fails_early(x):
    raise ValueError(f"second failure, call {x}")


def glue_program(n, bad):
    squares = [square(i) for i in range(n)]
    summed = total(squares)
    label = str(summed + 1)
    first = squares[0] + 1
    checks = [checked(i, bad) for i in range(n)]
    try:
        guarded = checked(bad, bad)
    except KeyError as exc:  # the same except catches it on every executor
        guarded = f"caught {exc}"
    return label, first, total(checks), guarded, len(label)


def two_failures():
    values = [fails_late(1), fails_early(2)]
    return values


def outcome(fn, *args, executor):
    try:
        return "value", xcs.jit(fn, executor=executor)(*args)
    except Exception as exc:  # noqa: BLE001 - compared between executors
        return "error", (type(exc), str(exc))


@pytest.mark.parametrize("case", [(glue_program, 6, -1), (glue_program, 6, 3),
                                  (two_failures,)])
def test_results_and_failures_equal_the_threads_executor(case):
    fn, *args = case
    expected = outcome(fn, *args, executor="threads")
    assert outcome(fn, *args, executor="dask") == expected
    if fn is two_failures:
        assert expected == ("error", (ValueError, "first failure, call 1"))


def test_a_failed_call_raises_its_own_exception_at_the_call_site():
    def program():
        values = [checked(i, 2) for i in range(4)]
        return values

    with pytest.raises(KeyError, match="bad 2"):
        xcs.jit(program, executor="dask")()


def test_a_cancelled_task_fails_its_call_with_an_error_that_says_so():
    executor = get_executor("dask")
    outcomes: list = []
    future = SimpleNamespace(status="cancelled", key="square-1")
    executor._ended(outcomes.extend, "token", future)
    (token, value, exc), = outcomes
    assert token == "token" and value is None
    assert isinstance(exc, RuntimeError) and "cancelled" in str(exc)


def test_a_value_left_on_the_cluster_is_fetched_once_and_kept(fetches):
    executor = get_executor("dask")
    remote = Remote(executor.client.submit(square, 7, pure=False), executor)
    assert remote.get() == 49 and remote.get() == 49
    assert fetches == [1]
