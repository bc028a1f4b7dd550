import threading
import warnings
from dataclasses import dataclass

import pytest

import xcs_core as xcs
from tests.conftest import line_of
from xcs_core.ir import OpKind


@xcs.op
def model(i, q):
    return f"{q}:{i}"


@xcs.op
def judge(answers):
    return max(answers)


def ensemble(q):
    answers = [model(i, q) for i in range(8)]
    return judge(answers)


def test_ensemble_is_nine_calls_one_independent_set_a_map_and_a_reduce():
    result = xcs.trace(ensemble, "q")
    assert result.outputs == "q:7"
    analysis = xcs.analyze(result.graph)
    assert analysis.calls == 9
    assert [len(s) for s in analysis.independent_sets] == [8]
    assert analysis.max_width == 8 and analysis.critical_path_calls == 2
    loop_line = line_of(ensemble, "answers = [")
    judge_line = line_of(ensemble, "return judge")
    (the_map,) = analysis.patterns.maps
    assert the_map.site.endswith(f"test_tracing.py:{loop_line}") and the_map.size == 8
    (the_reduce,) = analysis.patterns.reduces
    assert the_reduce.site.endswith(f"test_tracing.py:{judge_line}")
    assert the_reduce.inputs == 8 and the_reduce.target == "judge"


class Reply:
    def __init__(self, text):
        self.text = text


@xcs.op
def m1(q):
    return Reply(q + "!")


@xcs.op
def m2(s):
    return s * 2


def derived(q):
    a = m1(q)
    return m2(a.text.upper())


def test_value_derived_from_a_result_keeps_its_dependency():
    result = xcs.trace(derived, "hi")
    assert result.outputs == "HI!HI!"
    g = result.graph
    first, second = g.calls()
    # m2's input chain goes back to m1 through glue only (no serialization point)
    assert not result.sync_points
    chain, frontier = set(), list(g.dependencies(second))
    while frontier:
        op = frontier.pop()
        chain.add(op)
        frontier.extend(g.dependencies(op))
    assert first in chain
    assert {op.kind for op in chain} == {OpKind.CALL, OpKind.GLUE, OpKind.INPUT}


@xcs.op
def score(q):
    return len(q) / 10


def branchy(q):
    s = score(q)
    if s > 0.5:
        return m2(q)
    return m2(q + "?")


def test_branch_on_a_result_is_a_blocking_sync_point_that_orders_later_calls():
    for q, expected in (("long question", "long questionlong question"), ("hi", "hi?hi?")):
        result = xcs.trace(branchy, q)
        assert result.outputs == expected
        analysis = xcs.analyze(result.graph)
        (point,) = [p for p in analysis.sync_points if p.blocking]
        assert point.site.endswith(f":{line_of(branchy, 'if s > 0.5')}")
        assert "truth test" in point.reason
        assert analysis.independent_sets == []  # the second call waits for the first
        assert analysis.critical_path_calls == 2


effects: list[str] = []


@xcs.op(effect=True)
def write(key, value):
    effects.append(f"{key}={value}")


def two_writes(q):
    a, b = model(1, q), model(2, q)
    write("a", a)
    write("b", b)


def test_effectful_pair_is_kept_in_program_order():
    effects.clear()
    g = xcs.trace(two_writes, "q").graph
    assert effects == ["a=q:1", "b=q:2"]
    w1, w2 = [op for op in g.calls() if op.effect]
    assert w1 in g.dependencies(w2)  # the second write waits for the first
    assert set(g.dependencies(w1)) >= set(g.calls()[:2])


@dataclass
class Request:
    prompt: str
    extra: dict


def containers(q):
    a = model(1, q)
    b = model(2, q)
    return judge([Request(a, {"k": b}).prompt, {"x": (b,)}["x"][0]])


def test_inputs_inside_lists_tuples_dicts_and_dataclasses_count():
    result = xcs.trace(containers, "q")
    assert result.outputs == "q:2"
    g = result.graph
    last = g.calls()[-1]
    data_sources, frontier = set(), [g.producer(r).id for r in last.inputs]
    while frontier:
        op = g[frontier.pop()]
        if op.kind is OpKind.CALL:
            data_sources.add(op.target)
        else:
            frontier.extend(g.producer(r).id for r in op.inputs)
    assert data_sources == {"model"}
    assert len([op for op in g.calls() if op.target == "model"]) == 2


def test_durations_are_measured_per_call():
    import time

    @xcs.op
    def slow(x):
        time.sleep(0.02)
        return x

    result = xcs.trace(lambda x: slow(slow(x)), 1)
    assert result.outputs == 1
    assert len(result.durations) == 2
    assert all(d >= 0.015 for d in result.durations.values())
    assert xcs.analyze(result.graph).critical_time >= 0.03


def test_c_code_sees_plain_python_semantics():
    def probe(q):
        r = m1(q)
        return hasattr(r, "missing"), getattr(r, "missing", "default"), sum([score(q), 1])

    assert xcs.trace(probe, "abc").outputs == (False, "default", 1.3)


def test_tracing_from_many_threads_gives_separate_correct_graphs():
    results, errors = {}, []

    def work(i):
        try:
            results[i] = xcs.trace(ensemble, f"t{i}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for i, result in results.items():
        assert result.outputs == f"t{i}:7"
        assert len(result.graph.calls()) == 9


def test_untraceable_function_warns_once_and_runs_plainly():
    def gen(n):
        for i in range(n):
            yield model(i, "g")

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        jitted = xcs.jit(gen)
    assert [str(w.message) for w in caught if w.category is xcs.XcsWarning] == [
        f"xcs.jit: {gen.__qualname__!r} runs as plain sequential Python: generator "
        "functions yield values lazily and cannot be traced"]
    assert list(jitted(3)) == ["g:0", "g:1", "g:2"]


def test_trace_rejects_a_non_callable():
    with pytest.raises(TypeError, match="fn must be callable"):
        xcs.trace(42)


def test_xcs_value_on_a_container_records_a_serialization_point_per_result():
    def program(q):
        docs = [model(i, q) for i in range(3)]
        text = " | ".join(xcs.value(docs))
        return judge([text])

    result = xcs.trace(program, "q")
    assert result.outputs == "q:0 | q:1 | q:2"
    analysis = xcs.analyze(result.graph)
    assert analysis.critical_path_calls == 2  # judge waits for the models through the syncs
    assert len([p for p in analysis.sync_points if p.blocking]) == 3


def _refuse(p):
    raise ValueError(model(0, p))


@pytest.mark.parametrize("program", [lambda p: model(0, p), _refuse],
                         ids=["returned", "raised"])
def test_a_finished_trace_lets_go_of_what_it_recorded_without_the_garbage_collector(program):
    import gc
    import weakref

    class Payload:
        pass

    payload = Payload()
    ref = weakref.ref(payload)
    enabled = gc.isenabled()
    gc.disable()  # what is freed here is freed by reference counting alone
    try:
        try:
            outputs = xcs.trace(program, payload).outputs
        except ValueError as exc:
            outputs = exc.args[0]
        del payload
        assert outputs.endswith(":0") and ref() is None
    finally:
        if enabled:
            gc.enable()
