"""The optimizer's prediction of batching over recorded graphs (``plan_batches``).

The online rules themselves (glue fused into its producer, cheap calls inline,
batching, release after last use) are tested where they run: test_batching.py,
test_memory.py, test_jit.py.
"""

import math
import time

import xcs_core as xcs
import xcs_core.optimize as optimize
from xcs_core.optimize import BatchPlan, plan_batches


def get_many(items):
    return [i for (i,) in items]


@xcs.op(batch=get_many, max_batch=4)
def get(i):
    return i


@xcs.op
def plain(i):
    return i


@xcs.op(effect=True)
def save(x):
    return None


def test_a_comprehension_is_predicted_as_ceil_n_over_max_batch_requests():
    def program():
        return [get(i) for i in range(10)] + [plain(i) for i in range(3)]

    graph = xcs.trace(program).graph
    assert plan_batches(graph) == (BatchPlan(get.target, 10, 3, 4),)
    assert xcs.analyze(graph).summary()["batches"] == [
        {"op": get.target, "calls": 10, "requests": 3, "max_batch": 4}]


def test_an_effect_or_a_truth_test_cuts_the_window():
    def program():
        a = [get(i) for i in range(3)]
        save(a)
        b = [get(i) for i in range(3)]
        if b[0] == 0:
            b.append(get(9))
        return a, b

    assert plan_batches(xcs.trace(program).graph) == (BatchPlan(get.target, 7, 3, 4),)


def test_calls_fed_by_one_request_are_predicted_as_one_request():
    def program():
        firsts = [get(i) for i in range(4)]
        return [get(f + 1) for f in firsts]

    assert plan_batches(xcs.trace(program).graph) == (BatchPlan(get.target, 8, 2, 4),)


def test_calls_fed_by_separate_unbatched_calls_are_predicted_one_request_each():
    def program():
        return [get(plain(i)) for i in range(3)]

    assert plan_batches(xcs.trace(program).graph) == (BatchPlan(get.target, 3, 3, 4),)


def test_the_graph_passes_nothing_ran_are_gone():
    for name in ("fuse_glue", "release_after_last_use", "group_maps", "optimize"):
        assert not hasattr(optimize, name)


def test_the_report_shows_calls_and_requests_per_batched_op():
    from xcs_core.report import pattern_lines

    def program():
        return [get(i) for i in range(10)]

    summary = xcs.analyze(xcs.trace(program).graph).summary()
    assert f"  batched: {get.target}: 10 calls in 3 requests (max_batch 4)" in pattern_lines(
        summary)


def fetch_many(items):
    time.sleep(0.002)
    return [i for (i,) in items]


@xcs.op(batch=fetch_many, max_batch=8)
def fetch(i):
    time.sleep(0.002)
    return i


@xcs.op
def fetch_alone(i):
    time.sleep(0.002)
    return i


def test_the_prediction_prices_a_batched_op_by_its_requests():
    batched = xcs.analyze(xcs.trace(lambda: [fetch(i) for i in range(32)]).graph)
    alone = xcs.analyze(xcs.trace(lambda: [fetch_alone(i) for i in range(32)]).graph)
    assert batched.dispatched_calls == 4  # ceil(32 / 8) requests, one dispatch each
    assert alone.dispatched_calls == 32
    # on 2 workers, the work to share out is 4 requests, each priced like the average call
    calls = [op.duration for op in batched.graph if op.target == fetch.target]
    average = sum(calls) / len(calls)
    expected = max(batched.critical_time, 4 * average / 2)
    assert math.isclose(batched.predicted_time(workers=2, dispatch_cost=0.0), expected)
    assert math.isclose(alone.predicted_time(workers=2, dispatch_cost=0.0),
                        max(alone.critical_time, alone.total_time / 2))
    # what batching saves: all but 4 average calls' worth of the 32 calls' work
    assert math.isclose(batched.batch_saving, batched.total_time - 4 * average)
    assert alone.batch_saving == 0.0
