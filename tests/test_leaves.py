"""Leaf calls without editing the callee (``leaves=``), and the warning that suggests them."""

import time
import warnings

import pytest

import xcs_core as xcs
from tests.concurrency import InFlight

flight = InFlight()


class Client:
    """An SDK-style client: nobody decorates its methods with ``@xcs.op``."""

    def __init__(self, fail_on=None):
        self.fail_on = fail_on

    def complete(self, prompt):
        flight.enter()
        time.sleep(0.02)
        flight.leave()
        if prompt == self.fail_on:
            raise RuntimeError(f"rate limited on {prompt}")
        return f"answer to {prompt}"


PROMPTS = ["a", "b", "c", "d"]


def ensemble(client):
    answers = [client.complete(p) for p in PROMPTS]
    return " / ".join(answers)


def guarded(client):
    try:
        return client.complete("x")
    except RuntimeError as exc:
        return f"caught {exc}"


def run(fn, *args, expected=1):
    return flight.peak_of(expected, fn, *args)


@pytest.mark.parametrize("leaves", [[Client.complete], [Client], [Client.__module__]],
                         ids=["method", "class", "module"])
def test_leaves_make_a_client_ensemble_parallel_with_identical_results(leaves):
    client = Client()
    plain, plain_peak = run(ensemble, client)
    jitted, peak = run(xcs.jit(ensemble, leaves=leaves), client, expected=len(PROMPTS))
    assert jitted == plain and plain_peak == 1
    assert peak == len(PROMPTS)


def test_a_bound_method_is_a_leaf_for_that_client():
    client = Client()
    assert run(xcs.jit(ensemble, leaves=[client.complete]), client, expected=4) == (
        ensemble(client), len(PROMPTS))


def test_leaf_exceptions_are_those_of_plain_python():
    failing = Client(fail_on="c")
    with pytest.raises(RuntimeError, match="rate limited on c"):
        xcs.jit(ensemble, leaves=[Client])(failing)
    assert xcs.jit(guarded, leaves=[Client])(Client(fail_on="x")) == "caught rate limited on x"


def test_calls_of_a_library_module_become_leaves():
    def naps():
        return [time.sleep(0.02) for _ in range(4)]

    seen = []
    with xcs.execution(observer=lambda ctx: seen.append(ctx.leaf_calls)):
        assert xcs.jit(naps, leaves=["time"])() == [None] * 4
        with pytest.warns(xcs.XcsWarning, match="naps made no leaf call"):
            assert xcs.jit(naps)() == [None] * 4
    assert seen == [4, 0]


def test_execution_scope_adds_leaves():
    client = Client()
    jitted = xcs.jit(ensemble)
    with xcs.execution(leaves=[Client.complete]):
        out, peak = run(jitted, client, expected=len(PROMPTS))
    assert out == ensemble(client) and peak == len(PROMPTS)


def test_first_run_without_leaf_calls_warns_once_naming_the_slow_call_and_the_fix():
    jitted = xcs.jit(ensemble)
    client = Client()
    with pytest.warns(xcs.XcsWarning) as record:
        jitted(client)
    # record may also hold an unrelated warning emitted meanwhile (a ResourceWarning
    # when the garbage collector meets another test's event loop)
    text = str(next(w.message for w in record if issubclass(w.category, xcs.XcsWarning)))
    line = ensemble.__code__.co_firstlineno + 1
    assert "ensemble made no leaf call" in text
    assert f"Client.complete at tests/test_leaves.py:{line}: 4 call(s)" in text
    assert "complete = xcs.op(client.complete)" in text and "leaves=[client.complete]" in text
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        jitted(client)  # once per function


def test_bad_leaves_name_the_item():
    with pytest.raises(TypeError, match=r"jit\(leaves=...\): item 1 is 42 \(int\)"):
        xcs.jit(ensemble, leaves=[Client, 42])
    with pytest.raises(TypeError, match=r"execution\(leaves=...\): item 0 is 'no such'"):
        with xcs.execution(leaves=["no such"]):
            pass


def helper_loop(client):
    return ensemble(client)


def test_watch_names_the_repeated_method_not_the_helper_around_it_nor_what_it_calls():
    from xcs_core.leaves import Watch
    from xcs_core.tracing import trace_call

    watch = Watch()
    traced = trace_call(helper_loop, (Client(),), {}, wrap_inputs=False, watch=watch)
    slow = watch.slowest(wall=traced.wall_time)
    line = ensemble.__code__.co_firstlineno + 1
    assert [(s.callee, s.site, s.count) for s in slow] == [
        ("Client.complete", f"tests/test_leaves.py:{line}", len(PROMPTS))]
    assert slow[0].share > 0.5 and "xcs.op(client.complete)" in slow[0].fix


def test_watched_trace_counts_time_outside_leaf_calls_and_applies_leaves():
    from xcs_core.leaves import Leaves, Watch
    from xcs_core.tracing import trace_call

    watch = Watch()
    traced = trace_call(helper_loop, (Client(),), {}, wrap_inputs=False,
                        leaves=Leaves([Client.complete]), watch=watch)
    assert [op.target for op in traced.graph.calls()] == ["Client.complete"] * len(PROMPTS)
    # the time is in leaf calls now: nothing outside them takes a quarter of it (without
    # the leaves, Client.complete takes nearly all of it; a loaded machine can stretch
    # the recording between calls past the 5% a report names)
    assert watch.slowest(wall=traced.wall_time, min_share=0.25) == []


def test_a_method_of_a_pending_value_is_not_timed_and_forces_nothing():
    @xcs.op
    def ask(p):
        return f"answer {p}"

    def body():
        return [ask(p).upper() for p in PROMPTS]

    from xcs_core.leaves import Watch
    from xcs_core.tracing import trace_call

    traced = trace_call(body, watch=Watch())
    assert not traced.sync_points and traced.outputs == [f"ANSWER {p.upper()}" for p in PROMPTS]


def test_a_nested_jitted_function_brings_its_own_leaves():
    inner = xcs.jit(ensemble, leaves=[Client.complete])

    @xcs.jit
    def outer(client):
        return inner(client)

    client = Client()
    out, peak = run(outer, client, expected=len(PROMPTS))
    assert out == ensemble(client) and peak == len(PROMPTS)
    traced = xcs.trace(outer, client)
    assert sum(op.kind is xcs.OpKind.CALL for op in traced.graph) == len(PROMPTS)


def test_calls_cheaper_than_a_dispatch_are_never_suggested():
    def busy(n):
        seen = {}
        for i in range(n):
            seen[i % 7] = seen.get(i % 7, 0) + len(str(i))
        return seen

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "made no leaf call" warning for cheap calls
        assert xcs.jit(busy)(20000) == busy(20000)


def test_one_preempted_sample_does_not_make_a_cheap_call_look_slow():
    from xcs_core.leaves import Watch

    watch = Watch()

    def cheap(i):
        return i

    for i in range(5000):  # the 4th call is "preempted" for 20 ms, the rest take < 1 us
        watch.timed(cheap, ("f.py", 1), (lambda: time.sleep(0.02)) if i == 3 else (
            lambda i=i: cheap(i)))
    assert watch.slowest(wall=0.1) == []


def test_a_first_run_stops_timing_calls_at_its_first_leaf_call():
    @xcs.op
    def leaf(x):
        return x

    def helper(x):
        return x + 1

    def program(n):
        total = sum(helper(i) for i in range(n))  # timed: no leaf call yet
        return [leaf(total)] + [helper(i) for i in range(n)]  # after it: not timed

    seen = []
    with xcs.execution(observer=seen.append):
        assert xcs.jit(program)(100) == program(100)
    assert seen[0].leaf_calls == 1 and seen[0].watch is None


def test_the_first_run_stops_timing_what_cannot_be_worth_a_leaf():
    from xcs_core.leaves import _SAMPLED, Watch
    from xcs_core.tracing import trace_call

    def tiny(x):
        return x + 1

    def body():
        out = []
        for i in range(3 * _SAMPLED):
            out.append(tiny(i))
        return out

    watch = Watch()
    traced = trace_call(body, watch=watch)
    assert traced.outputs == [i + 1 for i in range(3 * _SAMPLED)]
    counts = {key[0]: entry[0] for key, entry in watch.calls.items()}
    # timed while its samples were taken, then known to be cheaper than a dispatch
    assert counts[tiny] == _SAMPLED
    assert (list, "append") not in counts  # a method of a plain value is never timed
