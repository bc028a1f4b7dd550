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
import sys
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
    return type(r) == str, type(r).__name__  # noqa: E721 - the spelling under test


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


# -- shrunk programs found by the differential tester (tests/differential) ---------------
# Each body is what `python -m tests.differential --shrink` printed (it runs after the fixed
# prelude of tests/differential/prelude.py: leaf ops llm, chat, risky, ..., and LOG, TALLY,
# MEMO, COUNT), with the seed it came from (which also picks max_workers) and its arguments.
def _args(q, n, models, style, k):
    return {"q": q, "n": n, "models": models,
            "history": [{"role": "system", "content": "be brief"},
                        {"role": "user", "content": q}],
            "cfg": {"style": style, "k": k}}


SHRUNK = {
    # seed 26: hang differs
    "dict_mutated_and_result_stored_after_call": (
        26, _args("plan a trip", 4, ["m1", "m2"], "short", 3), """\
@xcs.jit
def program(q, n, models, history, cfg):
    # dict mutated after pending call
    params2 = {"q": q, "style": cfg["style"]}
    text1 = llm(params2)
    params2["q"] = "changed"
    params2["extra"] = text1
    return {}
"""),
    # seed 32: jit raises TypeError: expected string or bytes-like object, got "…"
    "helper_catches_json_error_on_result": (
        32, _args("rate this poem", 2, ["m1", "m2"], "formal", 1), """\
def safe_parse(reply):
    try:
        return json.loads(reply)
    except json.JSONDecodeError as exc:
        LOG.append(("not json", exc.msg))
        return None

@xcs.jit
async def program(q, n, models, history, cfg):
    # helper try json.loads
    opt1 = safe_parse(llm(q))
    flag2 = opt1 is None
    return {}
"""),
    # seed 42: result differs
    "set_of_results": (
        42, _args("rate this poem", 7, ["m1", "m2"], "formal", 3), """\
@xcs.jit
def program(q, n, models, history, cfg):
    # set of results
    moods6 = {classify(x) for x in models}
    texts7 = sorted(moods6)
    return {"moods6": moods6}
"""),
    # seed 31: jit raises TypeError: sequence item N: expected str instance, Traced found
    "helper_fan_out_then_join": (
        31, _args("why is the sky blue", 4, ["m1", "m2"], "short", 3), """\
def summarize_all(texts):
    parts = [llm("summarize: " + t) for t in texts]
    return " / ".join(parts)

@xcs.jit
async def program(q, n, models, history, cfg):
    # helper function with fan-out
    text2 = summarize_all(models)
    return {}
"""),
    # seed 53: jit raises TypeError: asdict() should be called on dataclass instances
    "helper_type_check_then_asdict": (
        53, _args("fix the bug", 16, ["m1", "m2", "m3"], "formal", 1), """\
def describe(value):
    if value is None:
        return "none"
    if type(value) == str:
        return "str:" + value
    return type(value).__name__

@xcs.jit
def program(q, n, models, history, cfg):
    # helper tests is None / type() on its argument
    text1 = describe(maybe(q))
    # dataclasses.asdict
    record5 = extract(text1)
    fields6 = asdict(record5)
    num7 = record5.score + 1
    return {}
"""),
    # seed 194: stand-in escapes
    "module_dict_keyed_by_result": (
        194, _args("why is the sky blue", 20, ["m1", "m2", "m3"], "short", 3), """\
@xcs.jit
def program(q, n, models, history, cfg):
    # module dict keyed by result
    text1 = classify(q)
    TALLY[text1] = TALLY.get(text1, 0) + 1
    return {}
"""),
    # seed 257: jit raises ValueError: risky rejected "…"
    "suppress_around_call_on_glue": (
        257, _args("plan a trip", 0, ["m1", "m2"], "short", 1), """\
@xcs.jit
def program(q, n, models, history, cfg):
    # str() and slicing
    text1 = str(n) + q[:3]
    # contextlib.suppress
    text2 = "suppressed"
    with contextlib.suppress(ValueError, KeyError):
        text2 = risky(text1)
    return {}
"""),
    # seed 164: calls differs
    "argument_list_mutated_after_call": (
        164, _args("why is the sky blue", 11, ["m1", "m2", "m3", "m4"], "short", 2), """\
@xcs.jit
async def program(q, n, models, history, cfg):
    # argument list mutated after pending call
    text2 = llm(models)
    models.append("m9")
    return {}
"""),
    # seed 4: jit raises AttributeError: "…" object has no attribute "…"
    "statistics_mean_of_filtered_scores": (
        4, _args("why is the sky blue", 8, ["m1", "m2"], "short", 1), """\
@xcs.jit
async def program(q, n, models, history, cfg):
    # scores list filtered
    nums2 = [score(x) for x in models if x]
    # statistics.mean
    stat3 = statistics.mean(nums2) if nums2 else 0
    return {"stat3": stat3}
"""),
    # seed 173: jit raises KeyError: "…"
    "suppress_after_helper_is_none": (
        173, _args("plan a trip", 14, ["m1", "m2"], "short", 3), """\
def lookup_or(text, default):
    found = maybe(text)
    return default if found is None else found

@xcs.jit
def program(q, n, models, history, cfg):
    # helper tests is None on its own result
    text5 = lookup_or(q, "fallback")
    # contextlib.suppress
    text6 = "suppressed"
    with contextlib.suppress(ValueError, KeyError):
        text6 = risky(text5)
    return {}
"""),
    # seed 29: jit raises TypeError instead of ValueError: sequence item N: expected str instance,
    "helper_join_then_failing_call": (
        29, _args("plan a trip", 7, ["m1", "m2", "m3"], "formal", 2), """\
def summarize_all(texts):
    parts = [llm("summarize: " + t) for t in texts]
    return " / ".join(parts)

@xcs.jit
def program(q, n, models, history, cfg):
    # helper function with fan-out
    text3 = summarize_all(models)
    # unguarded call that may raise
    text4 = risky(q)
    return {}
"""),
    # seed 40: jit raises TypeError: keys must be str, int, float, bool or None, not Traced
    "json_dumps_with_result_as_key": (
        40, _args("fix the bug", 14, ["m1", "m2", "m3"], "short", 3), """\
@xcs.jit
def program(q, n, models, history, cfg):
    # llm call + string glue
    text1 = llm(f"Summarize: {q}", model="m2")
    # json.dumps result as key
    text5 = json.dumps({text1: n}, sort_keys=True)
    return {}
"""),
    # seed 65: jit does not raise RuntimeError
    "helper_type_check_then_failing_effect": (
        65, _args("plan a trip", 16, ["m1", "m2"], "short", 3), """\
def describe(value):
    if value is None:
        return "none"
    if type(value) == str:
        return "str:" + value
    return type(value).__name__

@xcs.jit
def program(q, n, models, history, cfg):
    # helper tests is None / type() on its argument
    text3 = describe(maybe(q))
    # effect that may raise
    publish(text3)
    return {}
"""),
    # seed 76: jit raises TypeError instead of ValueError: expected string or bytes-like object, g
    "helper_json_then_failing_call": (
        76, _args("plan a trip", 3, ["m1", "m2", "m3"], "short", 3), """\
def safe_parse(reply):
    try:
        return json.loads(reply)
    except json.JSONDecodeError as exc:
        LOG.append(("not json", exc.msg))
        return None

@xcs.jit
def program(q, n, models, history, cfg):
    # helper try json.loads
    opt1 = safe_parse(llm(q))
    flag2 = opt1 is None
    # unguarded call that may raise
    text8 = risky(q)
    return {}
"""),
    # seed 93: jit raises TypeError: object of type "…" has no len()
    "global_counter_after_get_is_none": (
        93, _args("plan a trip", 18, ["m1", "m2", "m3"], "formal", 3), """\
@xcs.jit
def program(q, n, models, history, cfg):
    global COUNT
    # is None after d.get()
    doc2 = fetch(q)
    text3 = doc2.get("note")
    if text3 is None:
        text3 = "no note for " + doc2["title"]
    # global counter
    COUNT += len(text3)
    return {}
"""),
    # seed 100: jit raises TypeError instead of RuntimeError: asdict() should be called on datacla
    "asdict_then_failing_effect_in_coroutine": (
        100, _args("rate this poem", 14, ["m1", "m2"], "formal", 2), """\
@xcs.jit
async def program(q, n, models, history, cfg):
    # is None after await
    text1 = await amaybe(q)
    if text1 is None:
        text1 = "none"
    # dataclasses.asdict
    record6 = extract(q)
    fields7 = asdict(record6)
    num8 = record6.score + 1
    # effect that may raise
    publish(text1)
    return {}
"""),
    # seed 180: jit raises TypeError: Object of type NoneType is not JSON serializable
    "json_dumps_after_get_is_none_in_coroutine": (
        180, _args("plan a trip", 11, ["m1", "m2"], "short", 3), """\
@xcs.jit
async def program(q, n, models, history, cfg):
    # is None after d.get()
    doc2 = fetch(q)
    text3 = doc2.get("note")
    if text3 is None:
        text3 = "no note for " + doc2["title"]
    # json.dumps dict
    text4 = json.dumps({"answer": text3, "score": n})
    return {}
"""),
    # seed 241: jit raises TypeError instead of RuntimeError: expected string or bytes-like object
    "subscript_and_json_loads_then_failing_effect": (
        241, _args("fix the bug", 16, ["m1", "m2", "m3", "m4"], "short", 2), """\
@xcs.jit
def program(q, n, models, history, cfg):
    # subscripting results
    resp5 = chat([{"role": "user", "content": q}])
    text6 = resp5["choices"][0]["message"]["content"]
    num7 = resp5["usage"]["tokens"]
    # json.loads(reply)
    doc8 = json.loads(llm_json("Q: %s" % text6))
    text9 = doc8["answer"]
    num10 = doc8["score"]
    texts11 = doc8["tags"]
    # effect that may raise
    publish(text9)
    return {}
"""),
    # seed 221 on the front end: result differs (stand-ins as Counter keys)
    "counter_of_results_from_a_generator": (
        221, _args("plan a trip", 2, ["m1", "m2", "m3", "m4"], "formal", 1), """\
@xcs.jit
async def program(q, n, models, history, cfg):
    # Counter of results
    tally1 = Counter(classify(x) for x in models)
    return {"tally1": tally1}
"""),
    # seed 1016003 (t_memo) on the front end: stand-in escapes into an argument when the program r
    "history_holds_no_stand_in_after_a_failure": (
        1016003, _args("plan a trip", 1, ["m1", "m2"], "short", 2), """\
@xcs.jit
async def program(q, n, models, history, cfg):
    # unguarded call that may raise
    text5 = risky(q)
    # chat history + subscripted reply
    resp7 = chat(history)
    text6 = resp7["choices"][0]["message"]["content"]
    history.append({"role": "assistant", "content": text6})
    history.append({"role": "user", "content": f"Improve: {text6}"})
    return {}
"""),
    # seed 1843 on the front end (intermittent): a stand-in left in an argument after a failure
    "history_holds_no_stand_in_after_a_failure_sync": (
        1843, _args("plan a trip", 12, ["m1", "m2"], "short", 3), """\
@xcs.jit
def program(q, n, models, history, cfg):
    # unguarded call that may raise
    text1 = risky(q)
    # chat history + subscripted reply
    resp3 = chat(history)
    text2 = resp3["choices"][0]["message"]["content"]
    history.append({"role": "assistant", "content": text2})
    history.append({"role": "user", "content": f"Improve: {text2}"})
    return {"text1": text1}
"""),
    # seed 0: a stand-in left in a container the caller holds
    "aug_global_dict": (
        0, _args("why is the sky blue", 6, ["m1", "m2", "m3"], "short", 1), """\
@xcs.jit
def program(q, n, models, history, cfg):
    mood = classify(q)
    TALLY[mood] = TALLY.get(mood, 0)
    TALLY[mood] += score(q)
    return {}
"""),
    # seed 0: a stand-in left in a container the caller holds
    "chained_assignment_into_global_dict": (
        0, _args("why is the sky blue", 6, ["m1", "m2", "m3"], "short", 1), """\
@xcs.jit
def program(q, n, models, history, cfg):
    TALLY[q] = reply = llm(q)
    return {}
"""),
    # seed 0: a stand-in left in a container the caller holds
    "tuple_target_with_global_dict_entry": (
        0, _args("why is the sky blue", 6, ["m1", "m2", "m3"], "short", 1), """\
@xcs.jit
def program(q, n, models, history, cfg):
    reply, TALLY[q] = llm(q), score(q)
    return {}
"""),
    # seed 0: a stand-in left in a container the caller holds
    "slice_assignment_into_global_list": (
        0, _args("why is the sky blue", 6, ["m1", "m2", "m3"], "short", 1), """\
@xcs.jit
def program(q, n, models, history, cfg):
    NOTES[len(NOTES):] = [llm(m) for m in models]
    return {}
"""),
    # seed 0: a stand-in left in a container the caller holds
    "update_with_keyword_result": (
        0, _args("why is the sky blue", 6, ["m1", "m2", "m3"], "short", 1), """\
@xcs.jit
def program(q, n, models, history, cfg):
    TALLY.update(last=llm(q))
    return {}
"""),
    # seed 0: a stand-in left in a container the caller holds
    "iadd_through_alias_of_global_list": (
        0, _args("why is the sky blue", 6, ["m1", "m2", "m3"], "short", 1), """\
@xcs.jit
def program(q, n, models, history, cfg):
    notes = NOTES
    notes += [llm(q)]
    return {}
"""),
    # seed 0: a stand-in left in a container the caller holds
    "chained_assignment_into_object_attribute_dict": (
        0, _args("why is the sky blue", 6, ["m1", "m2", "m3"], "short", 1), """\
@xcs.jit
def program(q, n, models, history, cfg):
    state = SimpleNamespace(d={})
    state.d[q] = reply = llm(q)
    return {"state": state}
"""),
    # seed 0: RecursionError far below plain Python's limit (compiled calls take more frames)
    "deep_self_recursion": (
        0, _args("why is the sky blue", 6, ["m1", "m2", "m3"], "short", 1), """\
def deep_count(items):
    if not items:
        return 0
    return 1 + deep_count(items[1:])

@xcs.jit
def program(q, n, models, history, cfg):
    k = deep_count(list(range(800)))
    return {"k": k}
"""),
    # seed 700948: noise differs (tasks that an earlier failure stopped were logged as
    # "Task exception was never retrieved ... DeferredFailure")
    "tasks_stopped_by_an_earlier_failure_log_nothing": (
        700948, _args("plan a trip", 4, ["m1", "m2", "m3"], "short", 3), """\
async def run_llm(model, prompt):
    reply = await allm(prompt, model=model)
    return reply.upper()

async def shout_risky(text):
    said = await arisky(text)
    return said.upper()

@xcs.jit
async def program(q, n, models, history, cfg):
    texts1 = await asyncio.gather(*[run_llm(m, q) for m in models])
    text9 = await asyncio.wait_for(shout_risky(q), 5)
    opts = [await fut for fut in asyncio.as_completed([amaybe(x) for x in texts1], timeout=5)]
    return {"opts": opts}
"""),
    # seed 750259: noise differs (a task that an earlier failure stopped, ending in the
    # private loop's last turn, was logged as "Task exception was never retrieved")
    "tasks_stopped_in_the_loops_last_turn_log_nothing": (
        750259, _args("plan a trip", 20, ["m1", "m2", "m3"], "short", 2), """\
async def tree_llm(items, depth):
    if len(items) <= 1 or depth <= 0:
        return [await allm(x) for x in items]
    mid = len(items) // 2
    left, right = await asyncio.gather(tree_llm(items[:mid], depth - 1),
                                       tree_llm(items[mid:], depth - 1))
    return left + right

@xcs.jit
async def program(q, n, models, history, cfg):
    text1 = risky(q)
    texts2 = await tree_llm(models, 3)
    return {}
"""),
    # a context variable template on the engine before calls ran in their call site's
    # context: result differs (dispatched calls read the default, not what was set)
    "dispatched_calls_read_the_call_sites_context_variables": (
        0, _args("plan a trip", 4, ["m1", "m2", "m3"], "short", 2), """\
@xcs.jit
def program(q, n, models, history, cfg):
    REQUEST.set(f"req {len(models)}")
    texts1 = [tagged(x) for x in models]
    text2 = tagged(q)
    token = REQUEST.set(q)
    text3 = tagged(q)
    REQUEST.reset(token)
    return {"texts1": texts1, "text2": text2, "text3": text3}
"""),
    "a_jitted_coroutine_reads_its_callers_context_variables": (
        0, _args("fix the bug", 4, ["m1", "m2"], "short", 2), """\
@xcs.jit
async def program(q, n, models, history, cfg):
    text1 = await atagged(q)
    REQUEST.set(q + "!")
    text2 = await atagged(q) + tagged(q)
    texts3 = list(await asyncio.gather(*[atagged(x) for x in models]))
    return {"text1": text1, "text2": text2, "texts3": texts3}
"""),
    # seed 791001: error differs (a call that failed while an earlier failure was handled
    # lost that one as its context: the boundary raised it ``from None``)
    "a_fallback_failing_in_an_except_block_keeps_its_context": (
        791001, _args("why is the sky blue", 17, ["m1", "m2", "m3"], "short", 2), """\
def count_words(text):
    global COUNT
    reply = llm(text)
    COUNT += len(reply.split())
    return reply

@xcs.jit
def program(q, n, models, history, cfg):
    text5 = count_words(q)
    try:
        text6 = risky(text5)
    except ValueError:
        text6 = risky(text5 + "?")
    return {}
"""),
    # seed 792004: error differs (an exception raised ``from`` another lost its cause)
    "an_exception_raised_from_another_keeps_its_cause": (
        792004, _args("fix the bug", 13, ["m1", "m2", "m3"], "short", 3), """\
def describe(value):
    if value is None:
        return "none"
    if type(value) == str:
        return "str:" + value
    return type(value).__name__

@xcs.jit
async def program(q, n, models, history, cfg):
    params2 = {"q": q, "style": cfg["style"]}
    text1 = llm(params2)
    params2["q"] = "changed"
    params2["extra"] = text1
    text5 = describe(maybe(text1))
    try:
        text6 = await arisky(text5)
    except ValueError:
        text6 = await arisky(text5 + "?")
    text6 = text6 + lookup_strict(text6)
    return {}
"""),
    # leaf-mutation templates on the engine before it watched the containers a call is
    # given: result differs (the call appended to a copy; the caller's list never changed)
    "a_leaf_that_appends_to_its_list_changes_the_callers_list": (
        0, _args("rate this poem", 4, ["m1", "m2", "m3"], "short", 2), """\
@xcs.jit
def program(q, n, models, history, cfg):
    text1 = [q]
    for x in models:
        remember(text1, x)
        text1.append(len(text1))
    counts = {}
    for x in models:
        tally_into(counts, x)
    return {"text1": text1, "counts": counts}
"""),
    "an_awaited_leaf_that_appends_to_its_list_changes_the_callers_list": (
        0, _args("rate this poem", 4, ["m1", "m2"], "short", 2), """\
@xcs.jit
async def program(q, n, models, history, cfg):
    text1 = [q]
    for x in models:
        n1 = await aremember(text1, x)
        text1.append(n1 == len(text1))
    return {"text1": text1}
"""),
    # seed 795002: error differs (a leaf given a generator of pending results got the
    # stand-ins themselves: "expected str instance, Traced found")
    "a_leaf_given_a_generator_of_results_gets_their_values": (
        795002, _args("plan a trip", 7, ["m1", "m2", "m3", "m4"], "short", 3), """\
@xcs.jit
def program(q, n, models, history, cfg):
    REQUEST.set(f"req {len(models)}")
    texts6 = [tagged(x) for x in models]
    try:
        text7 = join_texts(x for x in texts6 if x)
    except ValueError:
        text7 = ''
    text8 = join_texts(x.upper() for x in texts6)
    return {"text7": text7, "text8": text8}
"""),
    # seed 4003: state differs (``xs += <pending list>`` asked the stand-in, which made a
    # new list: the program's argument never grew)
    "an_argument_list_grown_by_a_pending_list_grows_in_place": (
        4003, _args("rate this poem", 7, ["m1", "m2", "m3", "m4"], "short", 2), """\
@xcs.jit
def program(q, n, models, history, cfg):
    resp3 = chat(history)
    history += [c["message"] for c in resp3["choices"]]
    history += chat(history)["choices"][:1]
    models += llm(q).split()[-1:]
    return {}
"""),
    # seed 4009: result differs (the alias of a list grown by ``+=`` stayed as it was)
    "a_local_list_grown_by_a_pending_list_is_seen_through_its_alias": (
        4009, _args("rate this poem", 7, ["m1", "m2", "m3"], "short", 2), """\
@xcs.jit
def program(q, n, models, history, cfg):
    texts2 = [q]
    texts3 = texts2
    box = {"all": texts2}
    for x in models:
        texts2 += classify(x + q).split()
        box["all"] += llm(x).split()[:1]
    texts3 = list(texts3)
    return {"texts3": texts3}
"""),
    # seed 4008: hang differs (the rebound ``history`` was given to the next call, which
    # then waited on itself)
    "history_grown_by_a_pending_list_then_given_to_a_call_never_hangs": (
        4008, _args("rate this poem", 7, ["m1", "m2"], "short", 2), """\
@xcs.jit
def program(q, n, models, history, cfg):
    resp6 = chat(history)
    history += [c["message"] for c in resp6["choices"]]
    history += chat(history)["choices"][:1]
    resp10 = chat(history)
    text9 = resp10["choices"][0]["message"]["content"]
    history.append({"role": "assistant", "content": text9})
    return {"text9": text9}
"""),
    # seed 4023: jit raises TypeError: not enough arguments for format string (``%`` gave
    # the stand-in of a tuple to str formatting, which took it for one value)
    "percent_formatting_of_a_pending_tuple": (
        4023, _args("rate this poem", 7, ["m1", "m2"], "short", 2), """\
@xcs.jit
def program(q, n, models, history, cfg):
    text1 = llm(q + " and more", model=models[0])
    text3 = "%s:%s%s" % llm(text1).partition(" ")
    fmt = "%s=%s"
    text4 = fmt % tuple(llm(q).split(" says "))
    text5 = "%s" % (llm(q).partition(" "),)
    return {"text3": text3, "text4": text4, "text5": text5}
"""),
    # seed 3000: jit raises SystemExit instead of ValueError (a failed call's stand-in,
    # first used inside a later ``try``, raised xcs's signal there, which ``except:`` took)
    "a_bare_except_after_a_failed_call_never_runs": (
        3000, _args("plan a trip", 10, ["m1", "m2", "m3"], "formal", 1), """\
@xcs.jit
def program(q, n, models, history, cfg):
    text7 = risky(q)
    try:
        text6 = json.loads(json.dumps(text7))
    except:
        raise SystemExit("cannot read the reply")
    return {}
"""),
    # seed 3002: jit raises SystemExit instead of ValueError (the same, after a failed
    # await, with ``except BaseException``)
    "except_base_exception_after_a_failed_await_never_runs": (
        3002, _args("plan a trip", 3, ["m1", "m2", "m3"], "short", 2), """\
@xcs.jit
async def program(q, n, models, history, cfg):
    text5 = await arisky(q)
    try:
        text4 = text5.upper() + str(len(text5))
    except BaseException as exc:
        raise SystemExit(f"giving up: {type(exc).__name__}")
    return {}
"""),
    # seed 200: calls differs (the timed-out call ran to its end: plain Python cancels it)
    "a_timed_out_async_call_is_cancelled": (
        200, _args("plan a trip", 3, ["m1", "m2"], "short", 2), """\
@xcs.jit
async def program(q, n, models, history, cfg):
    try:
        text4 = await asyncio.wait_for(aslow(q), timeout=0.01)
    except asyncio.TimeoutError:
        text4 = "timed out"
    return {"text4": text4}
"""),
    # seed 205: calls differs (the same, for a task cancelled while its call runs)
    "a_cancelled_task_cancels_its_async_call": (
        205, _args("plan a trip", 3, ["m1", "m2"], "short", 2), """\
@xcs.jit
async def program(q, n, models, history, cfg):
    tk = asyncio.create_task(aslow(q))
    await asyncio.sleep(0.01)
    tk.cancel()
    try:
        text6 = await tk
    except asyncio.CancelledError:
        text6 = "cancelled"
    return {"text6": text6}
"""),
    # on 3.12+ ``wait_for`` awaits the call in the caller's own task: the await, made by
    # code xcs does not compile, must wait, or the timeout never fires and the jitted
    # call returns the value where plain Python raises TimeoutError
    "an_unguarded_wait_for_times_out": (
        201, _args("plan a trip", 3, ["m1", "m2"], "short", 2), """\
@xcs.jit
async def program(q, n, models, history, cfg):
    text4 = await asyncio.wait_for(aslow(q), timeout=0.01)
    return {"text4": text4}
"""),
    # seed 10201: calls differs (an effect right after ``task.cancel()`` waited for every
    # earlier call, the cancelled one included, before its task could see the cancellation:
    # the call ran to its end and recorded itself)
    "an_effect_right_after_cancel_does_not_wait_for_the_cancelled_call": (
        10201, _args("rate this poem", 3, ["m1", "m2"], "short", 2), """\
def checked(text):
    out = risky(text)
    LOG.append(("checked", text))
    return out.upper()

@xcs.jit
async def program(q, n, models, history, cfg):
    tk = [asyncio.create_task(allm(q)), asyncio.create_task(aslow(q))]
    done, pending = await asyncio.wait(tk, return_when=asyncio.FIRST_COMPLETED)
    for p in pending:
        p.cancel()
    texts1 = [d.result() for d in done]
    msgs4 = [q, q]
    text3 = llm(msgs4)
    msgs4.append("extra")
    try:
        text6 = checked(text3)
    except ValueError as exc:
        LOG.append(("helper ValueError", str(exc)))
        text6 = "bad"
    except KeyError:
        text6 = "nokey"
    else:
        LOG.append(("else", text6))
    finally:
        LOG.append("helper finally")
    publish(text6)
    return {}
"""),
    # the same inside ``asyncio.timeout`` (3.11+; a with body: the call is awaited there)
    "a_call_in_an_expired_timeout_block_is_cancelled": (
        202, _args("plan a trip", 3, ["m1", "m2"], "short", 2), """\
@xcs.jit
async def program(q, n, models, history, cfg):
    try:
        async with asyncio.timeout(0.01):
            text4 = await aslow(q)
    except TimeoutError:
        text4 = "timed out"
    return {"text4": text4}
"""),
    # seed 300: jit raises TypeError: Object of type function is not JSON serializable
    # (``locals()`` held the compiler's helpers)
    "json_dumps_of_locals_in_a_helper": (
        300, _args("plan a trip", 3, ["m1", "m2"], "short", 2), """\
def snapshot(text):
    reply = llm(text)
    size = len(reply)
    return json.dumps(locals(), sort_keys=True)

@xcs.jit
def program(q, n, models, history, cfg):
    text7 = snapshot(q)
    return {"text7": text7}
"""),
    # seed 302: result differs (``dir()``, ``vars()`` and ``locals()`` listed the compiler's
    # helpers and temporaries)
    "dir_vars_and_locals_list_only_the_users_names": (
        302, _args("plan a trip", 3, ["m1", "m2"], "short", 2), """\
def names_of(text):
    reply = classify(text)
    table = {"reply": reply}
    table["again"] = kept = classify(text + "!")
    return dir() + sorted(vars())

@xcs.jit
def program(q, n, models, history, cfg):
    texts1 = names_of(q)
    text2 = llm(q)
    num3 = len(locals()) + len(dir())
    return {"texts1": texts1, "num3": num3}
"""),
    # seed 306: log differs (a record's funcName and lineno were those of xcs's frame)
    "a_log_record_names_the_callers_function_and_line": (
        306, _args("plan a trip", 3, ["m1", "m2"], "short", 2), """\
import logging
import warnings


class CallerLog(logging.Handler):
    def emit(self, record):
        LOG.append(("caller", record.funcName, record.lineno, record.getMessage()))


CALLER = logging.getLogger(__name__ + ".caller")
CALLER.propagate = False
CALLER.setLevel(logging.INFO)
CALLER.addHandler(CallerLog())


def warn_odd(text):
    reply = llm(text)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        warnings.warn(f"odd reply {reply}")
    return [(w.lineno, str(w.message)) for w in seen]

@xcs.jit
def program(q, n, models, history, cfg):
    CALLER.info("reply %s", llm(q))
    warned = warn_odd(q)
    return {"warned": warned}
"""),
    "deep_recursive_closure": (
        0, _args("why is the sky blue", 6, ["m1", "m2", "m3"], "short", 1), """\
@xcs.jit
async def program(q, n, models, history, cfg):
    def depth(j):
        return 0 if j == 0 else 1 + depth(j - 1)

    k = depth(800) + score(q)
    return {"k": k}
"""),
}


@pytest.fixture(scope="module")
def runner():
    r = Runner()
    yield r
    r.close()


# shrunk programs of a known difference: they fail until the engine is fixed
PENDING_SHRUNK = {}
PENDING_SHRUNK["a_log_record_names_the_callers_function_and_line"] = (
    "logging's funcName/lineno and warnings.warn's line name xcs's frame (calls.py), not the "
    "user's: a call from compiled code to library code goes through calls.call")


@pytest.mark.parametrize("name", [
    pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=PENDING_SHRUNK[name]))
    if name in PENDING_SHRUNK else name for name in SHRUNK])
def test_shrunk_program_matches_plain_python(runner, name):
    if "asyncio.timeout(" in SHRUNK[name][2] and sys.version_info < (3, 11):
        pytest.skip("asyncio.timeout is 3.11+")
    seed, args, body = SHRUNK[name]
    prog = dataclasses.replace(Program.from_body(body, args, name), seed=seed)
    report = runner.check(prog, tries=3, timeout=10)
    assert report.diff is None, report.explain()


# handlers that take every exception, after a call failed before their ``try``: in plain
# Python the call raised at its line, so none of them runs (3.10 has no ``except*``)
BROAD_HANDLERS = {
    "bare_except_in_a_retry_loop": """\
    text1 = risky(q)
    for attempt in range(3):
        try:
            text2 = text1 + str(attempt)
            break
        except:
            LOG.append(("retry", attempt))
""",
    "except_base_exception_in_a_helper": """\
    text1 = describe_reply(risky(q))
""",
    "except_star_base_exception": """\
    text1 = risky(q)
    try:
        text2 = text1.upper()
    except* BaseException as eg:
        LOG.append(("star", len(eg.exceptions)))
""",
}


@pytest.mark.parametrize("name", list(BROAD_HANDLERS))
def test_an_earlier_failure_passes_handlers_of_every_exception(runner, name):
    if "star" in name and sys.version_info < (3, 11):
        pytest.skip("except* is 3.11+")
    body = f"""\
def describe_reply(reply):
    try:
        return f"{{len(reply)}} chars"
    except BaseException as exc:
        LOG.append(("helper", type(exc).__name__))
        return "unreadable"

@xcs.jit
def program(q, n, models, history, cfg):
{BROAD_HANDLERS[name]}    return {{"log": list(LOG)}}
"""
    prog = dataclasses.replace(Program.from_body(body, _args("plan a trip", 3, ["m1"],
                                                             "short", 2), name), seed=3002)
    report = runner.check(prog, tries=3, timeout=10, strict=True)
    assert report.plain.error is not None and report.plain.error[0] == "ValueError"
    assert report.diff is None, report.explain()


def _depth(items):
    return 0 if not items else 1 + _depth(items[1:])


async def _deep_async(n):
    await asyncio.sleep(0)
    return _depth(list(range(n)))


def _deep_sync(n):
    return _depth(list(range(n)))


@pytest.mark.parametrize("program", [_deep_sync, _deep_async], ids=["sync", "async"])
def test_the_first_run_recurses_as_deep_as_plain_python(program):
    """900 levels under the default limit of 1000: the first run times calls (to name slow
    ones) without a frame per level of recursion, on every Python version."""
    import warnings

    jitted = xcs.jit(program, executor="asyncio")  # a fresh function: its first run
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", xcs.XcsWarning)  # "made no leaf call"
        out = asyncio.run(jitted(900)) if program is _deep_async else jitted(900)
    assert out == 900


def test_a_jitted_coroutine_leaves_no_event_loop_open_when_its_thread_ends():
    """Its body runs on a worker thread's private loop: that loop is closed when the thread
    ends (here: ``asyncio.run`` shuts its default executor down), as ``asyncio.run``
    closes its own, so the garbage collector never finds it open."""
    import gc
    import warnings

    @xcs.op
    async def ask(q):
        await asyncio.sleep(0)
        return q

    @xcs.jit
    async def flow(q):
        return [await ask(f"{q}{i}") for i in range(3)]

    async def main():
        return await flow("a")

    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always", ResourceWarning)
        assert asyncio.run(main()) == ["a0", "a1", "a2"]
        gc.collect()
    assert [str(w.message) for w in warned if w.category is ResourceWarning] == []


@xcs.op
async def _rejects_now(x):
    raise ValueError(x)


@xcs.op
async def _missing_now(x):
    raise KeyError(x)


async def _fails_before_its_await_in_an_except_block():
    try:
        await _rejects_now("a")
    except ValueError:
        call = _missing_now("b")
        await asyncio.sleep(0.05)  # the call has failed by now, before anyone awaited it
        return await call


def test_an_async_call_that_fails_before_its_await_keeps_the_exception_it_was_made_in():
    """Census seed 80182 (rare: when the call failed before its await): the failure of an
    async call nobody has awaited yet is nobody's, but one awaited later becomes the
    program's, raised from its call site with the exception being handled there as its
    context; its node must keep that call site until the jitted call is over."""
    def outcome(program):
        try:
            asyncio.run(program())
        except KeyError as exc:
            context = exc.__context__
            return repr(exc), None if context is None else repr(context)

    plain = outcome(_fails_before_its_await_in_an_except_block)
    assert plain == ("KeyError('b')", "ValueError('a')")
    assert outcome(xcs.jit(_fails_before_its_await_in_an_except_block,
                           executor="asyncio")) == plain
