"""Maps name the loop they come from (read from the source on every trace)."""

import xcs_core as xcs
from tests.conftest import line_of
from xcs_core.loops import loop_at


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


def test_independent_loops_and_comprehensions_are_found_and_carried_ones_are_not():
    for_line, comp = line_of(program, "for x in xs:"), line_of(program, "doubled = [")
    carried = line_of(program, "acc = f(acc + x)")
    assert loop_at(__file__, for_line + 1).startswith("for loop at ")
    assert loop_at(__file__, for_line + 1).endswith(f"test_loops.py:{for_line}")
    assert loop_at(__file__, comp).endswith(f"test_loops.py:{comp}")
    assert loop_at(__file__, comp).startswith("comprehension at ")
    assert loop_at(__file__, carried) == ""  # loop-carried: not independent
    assert loop_at("<no such file>", 1) == ""


def test_traced_maps_name_their_loop_and_the_reduce_is_found():
    analysis = xcs.analyze(xcs.trace(program, [1, 2, 3]).graph)
    described = sorted(m.describe() for m in analysis.patterns.maps)
    for_line, comp = line_of(program, "for x in xs:"), line_of(program, "doubled = [")
    assert any("x3 f (for loop at" in d and f":{for_line})" in d for d in described)
    assert f"test_loops.py:{comp} x3 f" in [d.split("/")[-1] for d in described]  # same line
    (reduce,) = analysis.patterns.reduces
    assert reduce.target == "combine" and reduce.inputs == 3
