import xcs_core as xcs
from xcs_core.ir import ComputationGraph, OpKind
from xcs_core.optimize import (
    dispatch_count,
    fuse_glue,
    group_maps,
    optimize,
    peak_live_values,
    release_after_last_use,
)


class Reply:
    def __init__(self, text):
        self.text = text


@xcs.op
def ask(i, q):
    return Reply(f"{q}{i}")


@xcs.op
def judge(texts):
    return max(texts)


@xcs.op(effect=True)
def log(x):
    return None


def program(q):
    replies = [ask(i, q) for i in range(4)]
    texts = [r.text.upper() for r in replies]
    best = judge(texts)
    if best.startswith(q.upper()):
        log(best)
    return best


def _call_reachability(graph: ComputationGraph) -> set[tuple[str, str]]:
    """(call a, call b) pairs where b transitively waits for a, by call site and target."""
    reach: dict[int, set[int]] = {}
    for op in graph:
        acc: set[int] = set()
        for d in graph.dependencies(op):
            acc |= reach[d.id]
            if d.kind is OpKind.CALL:
                acc.add(d.id)
        reach[op.id] = acc
    key = {op.id: (op.id, op.target) for op in graph}
    return {(key[a], key[op.id]) for op in graph.calls() for a in reach[op.id]}


def test_fusion_removes_glue_dispatches_and_keeps_every_call_ordering():
    graph = xcs.trace(program, "q").graph
    fused = fuse_glue(graph)
    assert dispatch_count(graph) > dispatch_count(fused) == len(graph.calls())
    assert not [op for op in fused if op.kind is OpKind.GLUE]
    assert _call_reachability(fused) == _call_reachability(graph)
    judge_op = next(op for op in fused if op.target == "judge")
    assert judge_op.meta["fused"].count(".text") == 4
    fused.lint()


def test_release_marks_each_value_once_after_its_last_use():
    graph = release_after_last_use(xcs.trace(program, "q").graph)
    released = [v for op in graph for v in op.meta.get("release", ())]
    assert len(released) == len(set(released))
    for op in graph:
        for value_id in op.meta.get("release", ()):
            later = [o for o in graph if o.id > op.id and any(r.id == value_id for r in o.inputs)]
            assert later == []
    assert peak_live_values(graph) < len([op for op in graph if op.outputs])


def test_map_members_form_one_group_and_optimize_reports_each_pass():
    graph = xcs.trace(program, "q").graph
    grouped = group_maps(graph)
    members = [op for op in grouped if "group" in op.meta]
    assert [op.target for op in members] == ["ask"] * 4
    assert {op.meta["group_size"] for op in members} == {4}
    optimized, stats = optimize(graph)
    assert [s.name for s in stats] == ["fuse_glue", "release_after_last_use", "group_maps"]
    assert stats[0].dispatch_after < stats[0].dispatch_before
    assert stats[1].peak_after < stats[1].peak_before
    assert _call_reachability(optimized) == _call_reachability(graph)
