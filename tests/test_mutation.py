"""Leaf calls that change the containers they are given (``xcs_core.mutation``).

Plain Python passes a leaf call the caller's own list or dict, so what the call appends
is there on the caller's next line.  Under ``xcs.jit`` an op runs at once, with the
objects themselves, until its calls are seen to leave their containers alone; only then
is it dispatched with copies.  Real threads; overlap is proven by calls in flight, not
by timing.
"""

from __future__ import annotations

import asyncio
import time
import warnings

import pytest

import xcs_core as xcs
from tests.concurrency import InFlight
from xcs_core import mutation


@pytest.fixture(autouse=True)
def forget():
    """Each test starts with ops whose habits are not known yet."""
    saved = dict(mutation._known)
    mutation._known.clear()
    yield
    mutation._known.clear()
    mutation._known.update(saved)


@xcs.op
def respond(history):
    time.sleep(0.002)
    reply = f"reply {len(history)}"
    history.append({"role": "assistant", "content": reply})
    return reply


def chat(history):
    first = respond(history)
    after_first = len(history)  # plain Python: the reply is already there
    second = respond(history)
    return [first, second, after_first, len(history)]


def fresh_history():
    return [{"role": "user", "content": "hi"}]


def test_a_call_that_appends_to_its_list_is_seen_at_once_from_the_first_run():
    expected = chat(fresh_history())
    jitted = xcs.jit(chat)
    for _ in range(2):
        history = fresh_history()
        assert jitted(history) == expected == ["reply 1", "reply 2", 2, 3]
        assert [m["content"] for m in history] == ["hi", "reply 1", "reply 2"]


@xcs.op
def count_into(state, key):
    time.sleep(0.002)
    state[key] = state.get(key, 0) + 1
    return state[key]


def test_a_call_that_sets_a_key_of_its_dict_is_seen_at_once():
    def program(state):
        a = count_into(state, "x")
        b = count_into(state, "x")
        return [a, b, dict(state)]

    assert xcs.jit(program)({}) == program({}) == [1, 2, {"x": 2}]


probe = InFlight()


@xcs.op
def summarize(messages, i):
    probe.enter()
    try:
        time.sleep(0.01)
        return f"{i}: {len(messages)}"
    finally:
        probe.leave()


def test_an_op_that_leaves_its_arguments_alone_is_dispatched_after_its_first_call():
    def fan(messages):
        return [summarize(messages, i) for i in range(4)]

    messages = fresh_history()
    probe.expect(3)  # the first call runs at once; the other three together
    assert xcs.jit(fan, max_workers=4)(messages) == [f"{i}: 1" for i in range(4)]
    assert probe.peak == 3
    assert mutation.known(summarize.key) is False
    probe.expect(4)
    assert xcs.jit(fan, max_workers=4)(messages) == [f"{i}: 1" for i in range(4)]
    assert probe.peak == 4  # known now: every call is dispatched with copies


changing = {"now": False}


@xcs.op
def sometimes_appends(items, tag):
    time.sleep(0.005)
    if changing["now"]:
        items.append(tag)
    return tag


def test_an_op_that_starts_changing_its_arguments_is_written_back_and_named():
    def program(items):
        done = [sometimes_appends(items, t) for t in ("a", "b")]
        return done, items

    changing["now"] = False
    xcs.jit(program)([])  # learns: it leaves its list alone
    assert mutation.known(sometimes_appends.key) is False
    changing["now"] = True
    mine = {"own": 1}
    items = [mine]
    with pytest.warns(xcs.XcsWarning, match="sometimes_appends .* changed the container"):
        done, out = xcs.jit(program)(items)
    assert done == ["a", "b"]
    assert items[0] is mine  # the caller's own item, not the snapshot's copy of it
    assert "a" in items[1:] or "b" in items[1:]  # copied back when the call finished
    assert mutation.known(sometimes_appends.key) is True
    items = [mine]
    with warnings.catch_warnings():
        warnings.simplefilter("error", xcs.XcsWarning)  # said once
        assert xcs.jit(program)(items) == (["a", "b"], [mine, "a", "b"])  # at once now


@xcs.op
async def arespond(history):
    await asyncio.sleep(0.002)
    history.append("answer")
    return len(history)


def test_an_async_call_that_appends_to_its_list_is_seen_at_once():
    async def program(history):
        a = await arespond(history)
        b = await arespond(history)
        return [a, b, list(history)]

    expected = asyncio.run(program(["q"]))
    assert asyncio.run(xcs.jit(program)(["q"])) == expected == [2, 3, ["q", "answer", "answer"]]


@xcs.op
def checked(items):
    time.sleep(0.002)
    if not all(isinstance(i, int) for i in items):
        raise TypeError("ints only")
    return items


def test_a_dispatched_call_that_returns_its_argument_returns_the_callers_object():
    def program(items):
        same = checked(items)
        items.append(99)  # plain Python: ``same`` is ``items``, so it has 99 too
        return same

    jitted = xcs.jit(program)
    for _ in range(2):  # the first call runs at once; the second is dispatched with a copy
        items = [1, 2]
        out = jitted(items)
        assert out is items and out == [1, 2, 99]
    assert mutation.known(checked.key) is False


def test_a_trace_names_an_op_that_changes_its_arguments_as_running_at_once():
    from pytest_xcs import advice

    def agent(history, models):
        replies = [respond(history) for _ in models]  # each sees the one before it
        return replies, [summarize(["hi"], i) for i in range(2)]

    traced = xcs.trace(agent, fresh_history(), ["m1", "m2", "m3"])
    reasons = {op.target: op.meta.get("reason", "") for op in traced.graph.calls()}
    assert reasons == {"respond": "changes the containers it is given: runs at once",
                       "summarize": ""}
    (blocker,) = advice.blockers(traced.graph).blockers
    assert blocker.kind == "changes" and "return the new value" in blocker.suggestion


class Counter:
    def __init__(self):
        self.count = 0


@xcs.op
def bump(state):
    time.sleep(0.005)
    state.count += 1
    return state.count


def test_an_attribute_a_call_sets_is_there_once_its_result_is_used():
    """Documented difference: other objects are shared, not watched (a client that updates
    itself on every call would never run in parallel), so read the attribute after using
    the call's result, as here, to see what plain Python shows."""
    def program(state):
        first = bump(state)
        used = int(first)  # the value is used here: the call has run
        return used, state.count

    assert xcs.jit(program)(Counter()) == program(Counter()) == (1, 1)
    assert mutation.known(bump.key) is None  # never run at once for it
