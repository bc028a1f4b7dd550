import pytest

from xcs_core.ir import ComputationGraph, GraphError, Operation, OpKind, ValueRef


def _graph() -> ComputationGraph:
    return ComputationGraph([
        Operation(0, OpKind.INPUT, "arg0", outputs=(ValueRef(0),)),
        Operation(1, OpKind.CALL, "m1", (ValueRef(0),), (ValueRef(1),), site="a.py:3",
                  meta={"duration": 0.5}),
        Operation(2, OpKind.CALL, "m2", (ValueRef(0),), (ValueRef(2),), site="a.py:4"),
        Operation(3, OpKind.SYNC, "sync", (ValueRef(1),), (), control=(), site="a.py:5",
                  meta={"reason": "truth test"}),
        Operation(4, OpKind.CALL, "log", (ValueRef(2),), (ValueRef(4),), control=(3,),
                  effect=True, site="a.py:6"),
    ], outputs=[ValueRef(4)])


def test_dependencies_users_and_levels():
    g = _graph()
    assert g.dependencies(g[4]) == (g[2], g[3]) == g.dependencies(4)
    assert g.users(g[0]) == (g[1], g[2])
    assert [[op.id for op in level] for level in g.topological_levels()] == [
        [0], [1, 2], [3], [4]]
    assert g.independent_sets() == [[g[1], g[2]]]
    assert [op.id for op in g.calls()] == [1, 2, 4]


def test_a_call_prints_its_constant_arguments_and_keywords():
    ops = [Operation(0, OpKind.INPUT, "arg0", outputs=(ValueRef(0),)),
           Operation(1, OpKind.CALL, "ask", (ValueRef(0),), (ValueRef(1),), args=("'a'", "%0")),
           Operation(2, OpKind.CALL, "ask", (ValueRef(0),), (ValueRef(2),),
                     args=("'b'", "%0", "temperature=0.5"))]
    g = ComputationGraph(ops)
    assert "%1 = call[1] ask('a', %0)" in str(g)
    assert "%2 = call[2] ask('b', %0, temperature=0.5)" in str(g)
    assert ComputationGraph.from_json(g.to_json()) == g
    assert repr(g[1]) == "<Operation %1 = call[1] ask('a', %0)>"


def test_a_traced_graph_records_what_each_call_was_given():
    import xcs_core as xcs

    @xcs.op
    def ask(model, prompt, temperature=0.0):
        return f"{model}:{prompt}"

    def program(q):
        return [ask("a", q), ask("b", q, temperature=0.5), ask(["x", 1], None)]

    text = str(xcs.trace(program, "q").graph)
    assert "ask('a', %0)" in text and "ask('b', %0, temperature=0.5)" in text
    assert "ask(['x', 1], None)" in text


def test_ssa_violation_is_rejected_with_the_operation_named():
    ops = [Operation(0, OpKind.INPUT, "x", outputs=(ValueRef(0),)),
           Operation(1, OpKind.CALL, "f", (ValueRef(0),), (ValueRef(0),))]
    with pytest.raises(GraphError, match=r"redefines %0"):
        ComputationGraph(ops)


def test_use_before_definition_is_rejected():
    with pytest.raises(GraphError, match="reads %7 before"):
        ComputationGraph([Operation(0, OpKind.CALL, "f", (ValueRef(7),), (ValueRef(0),))])


def test_control_edge_to_a_later_operation_is_rejected():
    with pytest.raises(GraphError, match="control edge"):
        ComputationGraph([Operation(0, OpKind.CALL, "f", control=(3,))])


def test_json_round_trip_preserves_everything():
    g = _graph()
    back = ComputationGraph.from_json(g.to_json())
    assert back == g
    assert back[1].duration == 0.5
    assert back[4].effect and back[3].meta["reason"] == "truth test"
    assert back.outputs == (ValueRef(4),)


def test_unknown_schema_is_a_clear_error():
    with pytest.raises(GraphError, match="schema 99"):
        ComputationGraph.from_dict({"schema": 99, "operations": []})


def test_text_has_one_line_per_operation_and_dot_marks_effects():
    g = _graph()
    text = str(g).splitlines()
    assert len(text) == len(g) + 1
    assert text[1] == "%1 = call[1] m1(%0)  # a.py:3"
    assert "after [3] !effect" in text[4]
    dot = g.to_dot()
    assert dot.startswith("digraph")
    assert 'n4 [label="log\\na.py:6", shape=box, color="red"]' in dot
    assert "n3 -> n4 [style=dashed];" in dot and "n2 -> n4;" in dot


def test_a_list_of_results_passed_to_a_call_prints_as_values_of_the_graph():
    import xcs_core as xcs

    @xcs.op
    def ask(i):
        return [i]

    @xcs.op
    def judge(answers):
        return max(answers)

    def program():
        return judge([ask(i) for i in range(3)])

    assert "judge([%0, %1, %2])" in str(xcs.trace(program).graph)


def test_a_call_prints_its_arguments_as_they_were_when_it_was_made():
    import xcs_core as xcs

    @xcs.op
    def count(items, extra=None):
        return len(items)

    def program():
        items, options = ["a"], {"k": 1}
        first = count(items, extra=options)
        items.append("b")
        options["k"] = 2
        return first, count(items)

    text = str(xcs.trace(program).graph)
    assert "count(['a'], extra={'k': 1})" in text and "count(['a', 'b'])" in text
