"""Calling conventions of the public API: analyze a trace, pass extra arguments to operators."""

import threading

import pytest

import xcs_core as xcs


class Model(xcs.Operator):
    """A model wrapper whose forward takes sampling options."""

    def __init__(self, name):
        self.name = name

    def forward(self, inputs, temperature=1.0, *, top_k=None):
        return f"{self.name}({inputs}, t={temperature}, k={top_k})"


class Gate(xcs.Operator):
    """Waits until ``parties`` calls are in flight at once: only a parallel run passes."""

    def __init__(self, barrier):
        self.barrier = barrier

    def forward(self, inputs, suffix=""):
        self.barrier.wait(timeout=5)
        return f"{inputs}{suffix}"


def test_analyze_accepts_what_trace_returns():
    m = Model("m")

    def program(q):
        return [m(q, temperature=t) for t in (0.1, 0.5, 0.9)]

    traced = xcs.trace(program, "q")
    assert xcs.analyze(traced).summary() == xcs.analyze(traced.graph).summary()
    assert xcs.analyze(traced).max_width == 3
    with pytest.raises(TypeError, match="expected a ComputationGraph or the result of "
                                        "xcs.trace, got list"):
        xcs.analyze([1, 2])


def test_operator_passes_extra_arguments_to_forward_everywhere():
    m = Model("m")
    expected = "m(q, t=0.5, k=3)"
    assert m("q", temperature=0.5, top_k=3) == expected  # plain Python
    assert m("q", 0.5, top_k=3) == expected
    assert xcs.trace(lambda q: m(q, temperature=0.5, top_k=3), "q").outputs == expected

    @xcs.jit
    def jitted(q):
        return [m(q, temperature=0.5, top_k=3), m(inputs=q), m(q, 0.5, top_k=3)]

    assert jitted("q") == [expected, "m(q, t=1.0, k=None)", expected]


def test_operator_calls_with_keywords_still_run_in_parallel():
    gate = Gate(threading.Barrier(3))

    @xcs.jit
    def three(q):
        return [gate(q, suffix=s) for s in "abc"]

    assert three("q") == ["qa", "qb", "qc"]  # would time out (BrokenBarrierError) if serial


def test_jitted_operator_class_takes_extra_arguments():
    @xcs.jit
    class Ensemble(xcs.Operator):
        def forward(self, inputs, temperature=1.0):
            return [Model(n)(inputs, temperature=temperature) for n in "ab"]

    assert Ensemble()("q", temperature=0.2) == ["a(q, t=0.2, k=None)", "b(q, t=0.2, k=None)"]


def test_operator_without_inputs_raises_as_plain_python():
    m = Model("m")
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'inputs'"):
        m()

    @xcs.jit
    def broken():
        return m()

    with pytest.raises(TypeError, match="missing 1 required positional argument: 'inputs'"):
        broken()
