"""The plugin's advice: slow calls that are not leaves, what blocks parallelism, ranked.

Costs and orderings are asserted on graphs whose call durations are injected, so
no assertion depends on how long anything took.
"""

import dataclasses
import json

import pytest

import xcs_core as xcs
from pytest_xcs import advice
from tests.conftest import line_of
from xcs_core.ir import ComputationGraph, OpKind
from xcs_core.leaves import Watch
from xcs_core.tracing import TraceResult, trace_call


@xcs.op
def ask(model):
    return f"answer of {model}"


@xcs.op(effect=True)
def save(record):
    pass


def program():
    kept = []
    for m in "abc":
        answer = ask(m)
        if answer:  # truth test in the loop: 3 times
            kept.append(answer)
    first = ask("x")
    save(first)  # an effect between calls
    second = ask("y")
    try:
        third = ask("z")  # runs at once in a jitted run
    except ValueError:
        third = None
    return kept, second, third, ask("w")


DURATIONS = {"'a'": 0.02, "'b'": 0.02, "'c'": 0.02, "'z'": 0.025}  # others 10 ms


def injected_graph():
    """The traced program, each call given a fixed duration."""
    graph = trace_call(program).graph

    def timed(op):
        if op.kind is not OpKind.CALL:
            return op
        seconds = 0.0 if op.effect else DURATIONS.get(op.args[0], 0.01)
        return dataclasses.replace(op, meta={**op.meta, "duration": seconds})

    return ComputationGraph([timed(op) for op in graph], graph.outputs)


def site(text):
    return f"tests/test_advice.py:{line_of(program, text)}"


def test_blockers_are_ranked_by_what_each_adds_to_the_critical_path():
    result = advice.blockers(injected_graph())
    found = result.blockers
    # alone, every other blocker fixed (critical path 25 ms): the truth test makes the
    # loop's three 20 ms calls serial and the rest wait for the last (60 + 25 ms), the
    # effect splits the run in two (20 + 25 ms), the try call runs before 'w' (25 + 10 ms)
    assert [(b.kind, b.site, b.count) for b in found] == [
        ("sync", site("if answer:"), 3),
        ("effect", site("save(first)"), 1),
        ("try", site('ask("z")'), 1)]
    assert [b.cost for b in found] == pytest.approx([0.060, 0.020, 0.010])
    assert found[0].reason == "truth test (if/while/and/or/not)"
    assert found[0].suggestion.startswith("test after the loop")
    assert found[1].reason == "effect save(): waits for every earlier call"
    assert "move it after the calls" in found[1].suggestion
    assert "runs at once" in found[2].reason and "except" in found[2].suggestion
    assert result.predicted < found[0].predicted_if_fixed < result.predicted_all_fixed
    assert result.together == (site("if answer:"),)


def test_a_value_later_calls_need_anyway_costs_nothing():
    def chain():
        first = ask("a")
        if len(first) > 3:
            return ask(first)
        return None

    result = advice.blockers(trace_call(chain).graph)
    assert [(b.kind, b.reason, b.cost) for b in result.blockers] == [("sync", "len()", 0.0)]
    assert result.blockers[0].suggestion == advice.NO_GAIN and result.together == ()


def serialized_twice():
    for m in "abc":
        answer = ask(m)
        if answer:  # alone, this keeps the loop in order
            pass
        save(answer)  # and so does this
    return ask("w")


def test_blockers_that_serialize_the_same_loop_are_suggested_together():
    graph = trace_call(serialized_twice).graph
    graph = ComputationGraph([dataclasses.replace(
        op, meta={**op.meta, "duration": 0.0 if op.effect else 0.01})
        if op.kind is OpKind.CALL else op for op in graph], graph.outputs)
    traced = TraceResult(graph, None, {}, 0.04)
    got = advice.advise(traced, Watch())
    sites = {f"tests/test_advice.py:{line_of(serialized_twice, text)}"
             for text in ("if answer:", "save(answer)")}
    assert {b.site for b in got.blockers} == sites
    # alone, either makes the three calls serial and 'w' wait for the last: 40 ms, not 10
    assert [b.cost for b in got.blockers] == pytest.approx([0.03, 0.03])
    assert all(b.predicted_if_fixed == pytest.approx(got.predicted) for b in got.blockers)
    assert got.top.startswith("fix ") and got.top.endswith(
        " together: each alone keeps the calls in order")
    assert set(got.top[4:].split(" together")[0].split(", ")) == sites
    assert got.predicted_if_fixed == pytest.approx(got.predicted_all_fixed)
    assert "\n".join(advice.report_lines(got)).count("fix: ") == 2


@pytest.mark.parametrize("kind, reason, count, expected", [
    ("sync", "xcs.value()", 4, "hoist it"),
    ("sync", "passed to json.dumps() (code xcs does not compile)", 3, "build the list first"),
    ("sync", "formatting (f-string or format())", 1, "format the value after"),
    ("uncompiled", "", 1, "call it from your own function"),
])
def test_each_reason_has_a_concrete_suggestion(kind, reason, count, expected):
    assert expected in advice.suggestion(kind, reason, count)


def test_advice_survives_json():
    found = advice.blockers(injected_graph()).blockers
    graph_advice = advice.Advice(0.1, 0.2, (), found, 1.0, 2.0, "top", 1.5)
    data = json.loads(json.dumps(dataclasses.asdict(graph_advice)))
    assert advice.Advice.from_dict(data) == graph_advice


CLIENT = '''
import time

import pytest


class Client:
    """An SDK client: nobody decorates its methods with @xcs.op."""

    def __init__(self, fail_on=None):
        self.fail_on = fail_on

    def complete(self, prompt):
        time.sleep(0.02)
        if prompt == self.fail_on:
            raise RuntimeError(f"rate limited on {prompt}")
        return f"answer to {prompt}"


def ensemble(client, prompts):
    return [client.complete(p) for p in prompts]


EXPECTED = [f"answer to {p}" for p in "abcdef"]


@pytest.mark.xcs_parallel
def test_plain():
    assert ensemble(Client(), "abcdef") == EXPECTED


@pytest.mark.xcs_parallel(leaves=[Client.complete])
def test_leaves():
    assert ensemble(Client(), "abcdef") == EXPECTED


@pytest.mark.xcs_parallel(leaves=[Client.complete])
def test_leaves_raise():
    with pytest.raises(RuntimeError, match="rate limited on c"):
        ensemble(Client(fail_on="c"), "abcdef")
'''

CALL_SITE = "test_client.py:{}".format(CLIENT.lstrip("\n").splitlines().index(
    "    return [client.complete(p) for p in prompts]") + 1)


@pytest.fixture
def client_tests(pytester):
    pytester.makepyfile(test_client=CLIENT)
    return pytester


def test_report_names_the_client_method_its_site_share_and_fix(client_tests):
    result = client_tests.runpytest("--xcs-report", "--xcs-json", "out.json", "-k", "plain")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines([
        "test_client.py::test_plain",
        "  slow calls that are not leaf calls (*% of * outside leaf calls):",
        f"    Client.complete at {CALL_SITE}: 6 call(s), * (*%)",
        "      fix: complete = xcs.op(client.complete), or @xcs.op on the method*",
        "*@pytest.mark.xcs_parallel(leaves=?Client.complete?)",
        f"  top suggestion: make Client.complete a leaf call ({CALL_SITE})",
        "    predicted speedup 1.00x now, up to *x once applied"])
    got = json.loads((client_tests.path / "out.json").read_text())
    slow = got["tests"]["test_client.py::test_plain"]["advice"]["slow_calls"]
    assert [(s["callee"], s["site"], s["count"]) for s in slow] == [
        ("Client.complete", CALL_SITE, 6)]
    assert slow[0]["share"] > 0.5  # six sleeps against a list comprehension


def test_the_engine_warns_once_when_the_jitted_test_makes_no_leaf_call(client_tests):
    result = client_tests.runpytest("--xcs-ab", "--xcs-rounds", "2", "-W",
                                    "always::xcs_core.errors.XcsWarning")
    assert result.ret == pytest.ExitCode.OK
    out = result.stdout.str()
    assert out.count("test_plain made no leaf call") == 1
    assert "test_leaves made no leaf call" not in out


def test_marker_leaves_make_the_same_ensemble_parallel_with_identical_results(client_tests):
    result = client_tests.runpytest("--xcs-ab", "--xcs-rounds", "2", "--xcs-json",
                                    "out.json")
    assert result.ret == pytest.ExitCode.OK  # the body's asserts ran on both sides
    tests = json.loads((client_tests.path / "out.json").read_text())["tests"]
    plain, leaves = tests["test_client.py::test_plain"], tests["test_client.py::test_leaves"]
    assert (plain["summary"]["calls"], plain["summary"]["max_width"]) == (0, 0)
    assert leaves["summary"]["max_width"] == 6
    assert leaves["summary"]["maps"] == [f"{CALL_SITE} x6 Client.complete"]
    assert leaves["advice"]["slow_calls"] == []
    assert tests["test_client.py::test_leaves_raise"]["summary"]["calls"] == 3


def test_a_bad_marker_leaves_is_a_collection_error_naming_the_item(pytester):
    pytester.makepyfile(test_bad='''
import pytest

@pytest.mark.xcs_parallel(leaves=["httpx", 42])
def test_bad():
    pass
''')
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines([
        "test_bad.py::test_bad: xcs_parallel(leaves=...): item 1 is 42 (int); expected a "
        "function, a bound method, a class or a module name such as 'httpx'",
        "*1 error*"])


LOOP = '''
import pytest

import xcs_core as xcs


@xcs.op
def ask(model):
    return model * 2


@xcs.op(effect=True)
def save(record):
    pass


@pytest.mark.xcs_parallel
def test_loop():
    kept = []
    for m in "abcdef":
        answer = ask(m)
        if answer:
            kept.append(answer)
        save(answer)
    assert len(kept) == 6
'''


def test_report_lists_each_blocker_once_with_its_count_and_suggestion(pytester):
    pytester.makepyfile(test_loop=LOOP)
    result = pytester.runpytest("--xcs-report", "--xcs-json", "out.json")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines([
        "  what blocks parallelism (time it adds to the critical path):",
        "*top suggestion: test_loop.py:2[13] (*)"])
    out = result.stdout.str()
    assert out.count("test_loop.py:21: truth test (if/while/and/or/not), 6 times") == 1
    assert out.count("test_loop.py:23: effect save(): waits for every earlier call, "
                     "6 times") == 1
    assert "fix: test after the loop" in out and "fix: move it after the calls" in out
    got = json.loads((pytester.path / "out.json").read_text())["tests"]
    blockers = got["test_loop.py::test_loop"]["advice"]["blockers"]
    assert sorted((b["site"], b["kind"], b["count"]) for b in blockers) == [
        ("test_loop.py:21", "sync", 6), ("test_loop.py:23", "effect", 6)]
