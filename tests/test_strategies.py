import xcs_core as xcs
from tests.conftest import line_of
from xcs_core.strategies import HybridStrategy, StaticStrategy, TraceStrategy, independent_loops


@xcs.op
def f(x):
    return x * 2


@xcs.op
def combine(xs):
    return sum(xs)


def program(xs):
    out = []
    for x in xs:
        out.append(f(x))
    doubled = [f(x) for x in out]
    acc = 0
    for x in xs:
        acc = f(acc + x)
    return combine(doubled), acc


def test_static_strategy_finds_independent_loops_before_running():
    loops = independent_loops(program)
    lines = {(loop.kind, loop.line, loop.call_line) for loop in loops if loop.call == "f"}
    for_line = line_of(program, "for x in xs:")
    assert ("for loop", for_line, for_line + 1) in lines
    comp = line_of(program, "doubled = [")
    assert ("comprehension", comp, comp) in lines
    carried = line_of(program, "acc = f(acc + x)")
    assert all(loop.call_line != carried for loop in loops)  # loop-carried: not independent
    graph = StaticStrategy().graph(program)
    assert {op.meta["loop"].split(" at ")[0] for op in graph} == {"for loop", "comprehension"}
    assert all(op.meta["count"] is None for op in graph)


def test_hybrid_strategy_names_the_loop_of_each_traced_map():
    graph = HybridStrategy().graph(program, [1, 2, 3])
    assert TraceStrategy().graph(program, [1, 2, 3]).calls().__len__() == len(graph.calls())
    analysis = xcs.analyze(graph)
    described = sorted(m.describe() for m in analysis.patterns.maps)
    for_line, comp = line_of(program, "for x in xs:"), line_of(program, "doubled = [")
    assert any("x3 f (for loop at" in d and f":{for_line})" in d for d in described)
    assert any("x3 f (comprehension at" in d and f":{comp})" in d for d in described)
    (reduce,) = analysis.patterns.reduces
    assert reduce.target == "combine" and reduce.inputs == 3
