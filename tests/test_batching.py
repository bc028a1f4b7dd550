"""Automatic batching (``@xcs.op(batch=..., max_batch=...)``): real threads, no mocks.

Batching is proven structurally: the batch functions record every request they
receive, and the tests count requests and their sizes; no timing is asserted.
"""

from __future__ import annotations

import math
import threading

import pytest

import xcs_core as xcs

REQUESTS: list[list] = []  # every request any batch function below received, in order
BAD = {3, 5}


def lookup_many(items):
    REQUESTS.append([i for (i,) in items])
    return [xcs.BatchFailure(KeyError(i)) if i in BAD else i * 10 for (i,) in items]


@xcs.op(batch=lookup_many, max_batch=4)
def lookup(i):
    if i in BAD:
        raise KeyError(i)
    return i * 10


def comprehension(ids):
    return [lookup(i) for i in ids]


def total(ids):
    return sum([lookup(i) for i in ids])


@pytest.fixture(autouse=True)
def _fresh():
    REQUESTS.clear()
    yield
    REQUESTS.clear()


def test_a_comprehension_sends_ceil_n_over_max_batch_requests_with_plain_results():
    ids = [0, 1, 2, 4, 6, 7, 8, 9, 10, 11]
    assert comprehension(ids) == [i * 10 for i in ids]
    assert REQUESTS == []  # plain Python calls lookup itself
    assert xcs.jit(comprehension)(ids) == comprehension(ids)
    # requests run concurrently: which one starts first is not part of the contract
    assert sorted(REQUESTS) == [[0, 1, 2, 4], [6, 7, 8, 9], [10, 11]]
    assert len(REQUESTS) == math.ceil(len(ids) / 4)


def test_max_batch_is_respected_and_every_call_sent_once():
    ids = [i for i in range(60) if i not in BAD]
    assert xcs.jit(total)(ids) == total(ids)
    REQUESTS.clear()
    xcs.jit(total)(ids)
    assert all(len(r) <= 4 for r in REQUESTS)
    assert sorted(i for r in REQUESTS for i in r) == ids
    assert len(REQUESTS) == math.ceil(len(ids) / 4)


def test_a_per_call_failure_reaches_exactly_that_call_as_in_plain_python():
    ids = [0, 1, 5, 2, 3, 4]
    with pytest.raises(KeyError) as plain:
        total(ids)
    with pytest.raises(KeyError) as jitted:
        xcs.jit(total)(ids)
    assert jitted.value.args == plain.value.args == (5,)  # first failure in program order


def test_a_failure_caught_around_its_own_call_is_caught_there():
    def safe(i):
        try:
            return lookup(i)
        except KeyError:
            return -1

    def program(ids):
        return [safe(i) for i in ids]

    assert xcs.jit(program)([1, 3, 4, 5]) == program([1, 3, 4, 5]) == [10, -1, 40, -1]


def test_an_exception_of_the_whole_batch_fails_each_call_in_program_order():
    def broken_many(items):
        REQUESTS.append([i for (i,) in items])
        raise ConnectionError("service down")

    @xcs.op(batch=broken_many, max_batch=8)
    def fetch(i):
        raise ConnectionError("service down")

    runs = []

    @xcs.jit
    def program():
        return [fetch(i) for i in range(3)]

    with xcs.execution(observer=runs.append), pytest.raises(ConnectionError, match="down"):
        program()
    calls = [n for n in runs[0].nodes if n.target.endswith("fetch")]
    assert len(REQUESTS) == 1 and len(calls) == 3
    assert all(isinstance(n.exc, ConnectionError) for n in calls)
    assert runs[0].sched.first_failure() is calls[0]


def test_a_batch_function_returning_the_wrong_number_of_results_names_the_op():
    def short_many(items):
        return [1] * (len(items) - 1)

    @xcs.op(batch=short_many)
    def score(x):
        return 1

    @xcs.jit
    def program():
        return [score(x) for x in "abc"]

    with pytest.raises(xcs.BatchResultError, match=r"xcs\.op .*score: batch function .*short_many"
                       r" was given 3 calls and returned 2 results"):
        program()


def test_effects_are_never_batched_across_an_ordering_point():
    log = []

    def get_many(items):
        log.append(("request", [i for (i,) in items]))
        return [i for (i,) in items]

    @xcs.op(batch=get_many)
    def get(i):
        return i

    @xcs.op(effect=True)
    def save(x):
        log.append(("save", x))

    @xcs.jit
    def program():
        before = [get(i) for i in range(3)]
        save("middle")
        after = [get(i) for i in range(3, 6)]
        if after[0]:  # a truth test waits too: the next calls form a new request
            tail = [get(6), get(7)]
        return before + after + tail

    assert program() == list(range(8))
    assert log == [("request", [0, 1, 2]), ("save", "middle"), ("request", [3, 4, 5]),
                   ("request", [6, 7])]
    with pytest.raises(TypeError, match="effect=True cannot be combined with batch="):
        xcs.op(effect=True, batch=get_many)(lambda x: x)


def test_arguments_are_bound_to_the_signature_with_defaults():
    seen = []

    def scale_many(items):
        seen.append(list(items))
        return [x * k for x, k in items]

    @xcs.op(batch=scale_many)
    def scale(x, k=2):
        return x * k

    @xcs.jit
    def program():
        return [scale(1), scale(2, 3), scale(x=3, k=4)]

    assert program() == [2, 6, 12]
    assert seen == [[(1, 2), (2, 3), (3, 4)]]


def test_calls_made_ready_by_one_request_form_one_request():
    def program(ids):
        return [lookup(i // 10) for i in [lookup(i) for i in ids]]

    ids = [0, 1, 2, 4]
    assert xcs.jit(program)(ids) == program(ids)
    REQUESTS.clear()
    xcs.jit(program)(ids)
    assert REQUESTS == [[0, 1, 2, 4], [0, 1, 2, 4]]


def test_concurrent_jitted_callers_never_share_a_request():
    tagged = []

    def tag_many(items):
        tagged.append({caller for caller, _ in items})
        threading.Event().wait(0.02)  # a slow service, so the callers overlap
        return [i for _, i in items]

    @xcs.op(batch=tag_many, max_batch=5)
    def tag(caller, i):
        return i

    @xcs.jit
    def program(caller):
        return [tag(caller, i) for i in range(12)]

    start = threading.Barrier(4)
    out = {}

    def caller(name):
        start.wait()
        out[name] = program(name)

    threads = [threading.Thread(target=caller, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert out == {n: list(range(12)) for n in range(4)}
    assert all(len(callers) == 1 for callers in tagged)
    assert len(tagged) == 4 * math.ceil(12 / 5)


def test_a_jitted_call_inside_a_leaf_call_batches_on_its_own():
    tagged = []

    def pair_many(items):
        tagged.append(sorted({k for k, _ in items}))
        return [k * 100 + i for k, i in items]

    @xcs.op(batch=pair_many)
    def pair(k, i):
        return k * 100 + i

    @xcs.jit
    def inner(k):
        return [pair(k, i) for i in range(4)]

    @xcs.op
    def worker(k):
        return inner(k)

    @xcs.jit
    def outer():
        return [worker(k) for k in range(3)]

    @xcs.jit
    def joined():
        return [inner(k) for k in range(3)]  # compiled code: inner joins this graph

    expected = [[k * 100 + i for i in range(4)] for k in range(3)]
    assert outer() == expected
    assert sorted(tagged) == [[0], [1], [2]]
    tagged.clear()
    assert joined() == expected
    assert tagged == [[0, 1, 2]]


def test_under_trace_each_call_runs_through_the_op_and_the_graph_marks_the_batch():
    ids = [0, 1, 2]
    result = xcs.trace(comprehension, ids)
    assert result.outputs == comprehension(ids)
    assert REQUESTS == []
    calls = result.graph.calls()
    assert len(calls) == 3 and all(op.meta["batch"] == 4 for op in calls)


@pytest.mark.parametrize("executor", ["threads", "asyncio"])
def test_batching_on_each_local_executor(executor):
    ids = list(range(9))
    ids = [i for i in ids if i not in BAD]
    with xcs.execution(executor=executor):
        assert xcs.jit(comprehension)(ids) == comprehension(ids)
    assert len(REQUESTS) == math.ceil(len(ids) / 4)


def test_a_bad_batch_declaration_is_refused_naming_the_op():
    def f(i):
        return i

    with pytest.raises(TypeError, match=r"xcs\.op .*f: batch= must be a function"):
        xcs.op(batch=3)(f)
    with pytest.raises(ValueError, match="max_batch must be a positive integer"):
        xcs.op(batch=lookup_many, max_batch=0)(f)


def test_one_worker_runs_the_requests_one_after_another():
    ids = [i for i in range(10) if i not in BAD]
    with xcs.execution(max_workers=1):
        assert xcs.jit(comprehension)(ids) == comprehension(ids)
    assert [len(r) for r in REQUESTS] == [4, 4]


def test_batching_in_worker_processes_gives_plain_results():
    ids = [i for i in range(10) if i not in BAD]
    with xcs.execution(executor="processes", max_workers=2):
        assert xcs.jit(total)(ids) == total(ids)
        with pytest.raises(KeyError) as caught:
            xcs.jit(total)([1, 2, 3])
    assert caught.value.args == (3,)


def test_an_async_op_with_an_async_batch_function():
    import asyncio

    async def triple_many(items):
        REQUESTS.append([k for (k,) in items])
        await asyncio.sleep(0)
        return [k * 3 for (k,) in items]

    @xcs.op(batch=triple_many, max_batch=5)
    async def triple(k):
        return k * 3

    @xcs.jit
    async def program():
        return [await triple(k) for k in range(7)]

    for executor in ("threads", "asyncio"):
        REQUESTS.clear()
        with xcs.execution(executor=executor):
            assert asyncio.run(program()) == [k * 3 for k in range(7)]
        assert sorted(REQUESTS) == [[0, 1, 2, 3, 4], [5, 6]]


def test_a_batch_form_does_not_keep_another_op_of_the_same_function_from_running_inline():
    def lookup(key):
        return key * 2

    def lookup_many(items):
        return [key * 2 for (key,) in items]

    batched = xcs.op(batch=lookup_many, max_batch=8)(lookup)
    single = xcs.op(lookup)

    @xcs.jit
    def both(keys):
        return [batched(k) for k in keys], [single(k) for k in keys]

    runs = []
    for _ in range(4):  # the inline decision takes three samples
        with xcs.execution(observer=runs.append):
            assert both(range(4)) == ([0, 2, 4, 6], [0, 2, 4, 6])
    reasons = {node.reason for node in runs[-1].nodes
               if node.kind is xcs.OpKind.CALL and node.target == single.target
               and node.fn is single}
    assert reasons == {"cheaper than a dispatch: runs inline"}  # the batched op's own key
