"""Named regressions: one test per defect of ``@xcs.jit`` found on real programs (issue 10,
"What goes wrong today"), then the shrunk programs found by the differential tester.

Every test compares the jitted function with the same function undecorated (plain Python):
the result and the types inside it, the exception, and what every leaf call saw.  Leaf calls
sleep a little so that results are still pending when the program uses them.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import json
import re
import statistics
import threading
import time
from collections import defaultdict
from types import SimpleNamespace

import pytest

import xcs_core as xcs
from tests.differential.generator import Program, Stmt, generate
from tests.differential.harness import canon, leaks
from tests.differential.worker import Runner

SEEN: list = []  # (leaf, args) deep-copied when each leaf call ran
_lock = threading.Lock()


class Peak:
    """How many leaf calls were in flight at once."""

    def __init__(self):
        self.now = self.most = 0

    def __enter__(self):
        with _lock:
            self.now += 1
            self.most = max(self.most, self.now)

    def __exit__(self, *exc):
        with _lock:
            self.now -= 1


peak = Peak()


def _saw(name, *args):
    time.sleep(0.003)
    with _lock:
        SEEN.append((name, copy.deepcopy(args)))


@dataclasses.dataclass
class Finding:
    name: str
    score: int


@xcs.op
def llm(prompt, model="m0"):
    _saw("llm", prompt, model)
    return f"{model} on {len(str(prompt))}"


@xcs.op
def llm_json(prompt):
    _saw("llm_json", prompt)
    return json.dumps({"answer": prompt.upper(), "score": len(prompt) % 10})


@xcs.op
def rate(text):
    _saw("rate", text)
    return len(text) % 7


@xcs.op
def classify(text):
    _saw("classify", text)
    return ("happy", "sad")[len(text) % 2]


@xcs.op
def maybe(text):
    _saw("maybe", text)
    return None if "none" in text else text.upper()


@xcs.op
def fetch(key):
    _saw("fetch", key)
    return {"id": key, "note": f"about {key}"} if key % 2 else {"id": key}


@xcs.op
def find(text):
    _saw("find", text)
    return Finding(text, len(text))


@xcs.op
def chat(messages):
    _saw("chat", messages)
    return {"choices": [{"message": {"content": f"reply {len(messages)}"}}]}


DELAY = 0.03


@xcs.op
def slow(i):
    with peak:
        time.sleep(DELAY)
    return {"choices": [{"message": {"content": f"answer {i}"}}]}


@xcs.op
async def allm(prompt, model="m0"):
    await asyncio.sleep(0.003)
    with _lock:
        SEEN.append(("allm", (prompt, model)))
    return None if "none" in prompt else f"{model}: {prompt}"


@xcs.op
async def aslow(model):
    with peak:
        await asyncio.sleep(0.03)
    return model


@pytest.fixture(autouse=True)
def _fresh():
    global peak
    SEEN.clear()
    peak = Peak()
    yield


def same_as_plain(fn, *args):
    """Run ``fn`` plainly and jitted on deep copies of ``args``; both must agree exactly."""
    plain_args, jit_args = copy.deepcopy(args), copy.deepcopy(args)
    SEEN.clear()
    expected = _outcome(fn, plain_args)
    plain_seen = sorted(map(repr, SEEN))
    SEEN.clear()
    got = _outcome(xcs.jit(fn), jit_args)
    assert not leaks(got[1]) and not leaks(jit_args), "an xcs stand-in escaped"
    assert got == expected
    assert canon(jit_args) == canon(plain_args), "arguments end in a different state"
    assert sorted(map(repr, SEEN)) == plain_seen, "leaf calls saw different arguments"
    return expected[1]


def _outcome(fn, args):
    try:
        return "returned", canon(fn(*args))
    except Exception as exc:  # noqa: BLE001 - compared
        return "raised", (type(exc).__name__, str(exc).split("\nxcs:")[0])


# -- crashes plain Python never has ---------------------------------------------------------
def parse_reply(q):
    return json.loads(llm_json(q))["answer"]


def test_json_loads_of_a_result():
    assert same_as_plain(parse_reply, "why") == canon("WHY")


def first_number(q):
    m = re.search(r"on (\d+)", llm(q))
    return int(m.group(1)) if m else None


def test_re_search_on_a_result():
    assert same_as_plain(first_number, "twelve") == canon(6)


def join_answers(models):
    answers = [llm("q", model=m) for m in models]
    return ", ".join(answers)


def test_str_join_of_results():
    assert same_as_plain(join_answers, ["a", "b", "c"]) == canon("a on 1, b on 1, c on 1")


def dump_result(q):
    result = llm(q)
    return json.dumps({"q": q, "answer": result})


def test_json_dumps_of_a_result():
    same_as_plain(dump_result, "why")


def result_as_json_key(q):
    return json.dumps({llm(q): 1})


def test_json_dumps_with_a_result_as_key():
    same_as_plain(result_as_json_key, "why")


def finding_fields(q):
    return dataclasses.asdict(find(q))


def test_dataclasses_asdict_of_a_result():
    assert same_as_plain(finding_fields, "abc") == canon({"name": "abc", "score": 3})


def mean_score(texts):
    return statistics.mean([rate(t) for t in texts])


def test_statistics_mean_of_results():
    same_as_plain(mean_score, ["a", "bb", "ccc"])


def test_trace_works_where_jit_works():
    graph = xcs.trace(lambda s: ", ".join(s.split()), "a b c")
    assert graph.outputs == "a, b, c"


# -- silently wrong results -----------------------------------------------------------------
def note_or_default(n):
    rec = fetch(n)
    hit = rec.get("note")
    if hit is None:
        return "no note"
    return hit


def test_is_none_after_dict_get():
    assert same_as_plain(note_or_default, 2) == canon("no note")
    assert same_as_plain(note_or_default, 3) == canon("about 3")


def present(texts):
    docs = [maybe(t) for t in texts]
    return [r for r in docs if r is not None]


def test_is_not_none_in_a_comprehension_filter():
    assert same_as_plain(present, ["a", "none", "b"]) == canon(["A", "B"])


def any_missing(texts):
    docs = [maybe(t) for t in texts]
    return any(r is None for r in docs)


def test_is_none_in_any_over_a_generator():
    assert same_as_plain(any_missing, ["a", "none"]) == canon(True)
    assert same_as_plain(any_missing, ["a", "b"]) == canon(False)


def walrus(text):
    if (x := maybe(text)) is not None:
        return x
    return "absent"


def test_walrus_is_not_none():
    assert same_as_plain(walrus, "none") == canon("absent")
    assert same_as_plain(walrus, "a") == canon("A")


def _lookup(text):
    return maybe(text)


def caller_tests_helper_result(text):
    r = _lookup(text)
    if r is None:
        return "missing"
    return r


def test_helper_returns_result_and_caller_tests_is_none():
    assert same_as_plain(caller_tests_helper_result, "none") == canon("missing")


MEMO: dict = {}


def _cached(prompt):
    if prompt not in MEMO:
        MEMO[prompt] = maybe(prompt)
    return MEMO[prompt]


def memoised(texts):
    out = []
    for t in texts:
        r = _cached(t)
        out.append("missing" if r is None else r)
    return out, [_cached(t) is _cached(t) for t in texts]


def test_memoising_helper_with_a_module_dict():
    texts = ["none 1", "b", "none 1", "b"]
    MEMO.clear()
    expected = memoised(texts)
    plain_seen = sorted(map(repr, SEEN))
    MEMO.clear()
    SEEN.clear()
    got = xcs.jit(memoised)(texts)
    assert canon(got) == canon(expected)
    assert sorted(map(repr, SEEN)) == plain_seen  # each prompt asked once
    assert not leaks(MEMO), "a stand-in was stored in the module-level cache"


def exact_type(text):
    r = llm(text)
    return type(r) == str, type(r).__name__


def test_type_of_a_result_is_its_real_type():
    assert same_as_plain(exact_type, "x") == canon((True, "str"))


def tally(texts):
    counts = defaultdict(int)
    for t in texts:
        counts[classify(t)] += 1
    return dict(counts)


def test_results_as_dict_keys_do_not_escape():
    assert same_as_plain(tally, ["a", "bb", "c"]) == canon({"sad": 2, "happy": 1})


def mood_set(texts):
    return {classify(t) for t in texts}


def test_results_as_set_members_do_not_escape():
    same_as_plain(mood_set, ["a", "bb"])


def on_attributes(text):
    state = SimpleNamespace()
    state.answer = llm(text)
    state.mood = classify(text)
    return state


def test_results_stored_on_attributes_do_not_escape():
    same_as_plain(on_attributes, "abc")


async def await_then_is(text):
    r = await allm(text)
    if r is None:
        return "none"
    return r


def test_is_none_after_await_in_a_jitted_coroutine():
    for text in ("none here", "hi"):
        expected = asyncio.run(await_then_is(text))
        got = asyncio.run(xcs.jit(await_then_is)(text))
        assert canon(got) == canon(expected)


# -- deadlock ---------------------------------------------------------------------------------
def _history_program():
    stmt = Stmt("chat history appended after call", (
        "for _ in range(3):",
        "    note = llm(history)",
        '    history.append({"role": "assistant", "content": note})',
        "out = history",
    ), (("out", "any"),))
    return Program(0, False, (stmt,), ("out",), generate(0).args)


def test_history_appended_after_a_pending_call_never_hangs():
    runner = Runner()
    try:
        for _ in range(10):
            report = runner.check(_history_program(), timeout=10)
            assert report.diff is None, report.explain()
    finally:
        runner.close()


# -- wrong arguments ------------------------------------------------------------------------
def list_mutated_after_call(text):
    msgs = [text]
    r = llm(msgs)
    msgs.append("later")
    return r, msgs


def test_list_mutated_after_the_call_is_seen_as_it_was():
    same_as_plain(list_mutated_after_call, "q")


def dict_mutated_after_call(text):
    params = {"q": text}
    r = chat(params)
    params["q"] = "changed"
    params["extra"] = 1
    return r


def test_dict_mutated_after_the_call_is_seen_as_it_was():
    same_as_plain(dict_mutated_after_call, "q")


# -- silently sequential (measured as calls in flight at once, never as time) ---------------
def subscripted(n):
    out = []
    for i in range(n):
        r = slow(i)
        out.append(r["choices"][0]["message"]["content"])
    return out


def test_subscripting_results_stays_parallel_on_later_calls():
    jitted = xcs.jit(subscripted)
    globals()["DELAY"] = 0.001
    try:
        for _ in range(100):  # long enough for the interpreter to specialise the code
            assert canon(jitted(4)) == canon(subscripted(4))
    finally:
        globals()["DELAY"] = 0.03
    global peak
    peak = Peak()
    jitted(4)
    assert peak.most == 4


async def _run_model(model):
    return await aslow(model)


async def gather_user_coroutines(models):
    return await asyncio.gather(*[_run_model(m) for m in models])


def test_gather_over_user_coroutines_runs_at_once():
    models = ["a", "b", "c", "d"]
    expected = asyncio.run(gather_user_coroutines(models))
    global peak
    peak = Peak()
    got = asyncio.run(xcs.jit(gather_user_coroutines)(models))
    assert canon(got) == canon(expected)
    assert peak.most == 4


def never_taken_identity_branch(n, check=False):
    replies = []
    for i in range(n):
        prev = slow(i)
        if check and prev is not None:
            replies.append("checked")
        replies.append(prev)
    return len(replies)


def test_identity_test_in_a_branch_not_taken_keeps_calls_parallel():
    assert same_as_plain(never_taken_identity_branch, 4) == canon(4)
    global peak
    peak = Peak()
    xcs.jit(never_taken_identity_branch)(4)
    assert peak.most == 4
