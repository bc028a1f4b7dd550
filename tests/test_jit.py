"""xcs.jit: parallel execution with plain-Python results, exceptions and effects."""

import asyncio
import threading
import time
import traceback
import warnings

import pytest

import xcs_core as xcs
from tests.concurrency import InFlight
from tests.conftest import line_of
from xcs_core import scheduler
from xcs_core.executors import get_executor


class Probe(InFlight):
    """Counts how many leaf calls run at once (after ``expect(n)``, each call waits up to
    2 s for ``n`` in flight, so overlap does not depend on sleeps), and what ran."""

    def __init__(self):
        super().__init__()
        self.calls: list = []

    def enter(self, name):
        with self.cond:
            self.calls.append(name)
        super().enter()


probe = Probe()


@xcs.op
def slow_model(i, q, delay=0.05):
    probe.enter(("model", i))
    try:
        time.sleep(delay)
        return f"{q}:{i}"
    finally:
        probe.leave()


@xcs.op
def judge(answers):
    return " ".join(answers)


@pytest.fixture(autouse=True)
def fresh_probe():
    global probe
    probe = Probe()
    yield probe


# 1 ------------------------------------------------------------------------------------
def test_ensemble_of_eight_runs_at_once_from_the_first_call():
    @xcs.jit
    def ensemble(q):
        return judge([slow_model(i, q) for i in range(8)])

    probe.expect(8)
    out = ensemble("q")
    assert probe.peak == 8  # all eight calls were in flight at once, on the first call
    probe.expect(1)
    with xcs.execution(executor="sequential"):
        assert ensemble("q") == out == " ".join(f"q:{i}" for i in range(8))
    # (wall times are measured by benchmarks/run.py, not asserted here)


def test_new_inputs_get_new_answers():
    @xcs.jit
    def ensemble(q):
        return judge([slow_model(i, q, 0.001) for i in range(3)])

    assert ensemble("a") == "a:0 a:1 a:2"
    assert ensemble("b") == "b:0 b:1 b:2"


# 2 ------------------------------------------------------------------------------------
class Reply:
    def __init__(self, text):
        self.text = text


events: list = []


@xcs.op
def m1(q):
    time.sleep(0.005)
    events.append("m1 done")
    return Reply(q + "!")


@xcs.op
def m2(s):
    events.append(f"m2 start {s}")
    return s


def test_derived_dependency_runs_after_its_source_with_the_right_input():
    @xcs.jit
    def derived(q):
        a = m1(q)
        return m2(a.text.upper())

    for i in range(20):
        events.clear()
        assert derived(f"q{i}") == f"Q{i}!"
        assert events == ["m1 done", f"m2 start Q{i}!"]


# 3 ------------------------------------------------------------------------------------
world: list = []


@xcs.op(effect=True)
def send(tag):
    world.append(tag)
    return tag


@xcs.op
def jitter(i):
    time.sleep((i * 7919 % 5) / 2000)
    return i


def test_effects_reach_the_world_in_program_order_every_time():
    @xcs.jit
    def pipeline(n):
        vals = [jitter(i) for i in range(n)]
        for i in range(n):
            send(("a", i))
            jitter(i + 100)
        send(("sum", sum(vals)))

    for _ in range(30):
        world.clear()
        pipeline(6)
        assert world == [("a", i) for i in range(6)] + [("sum", 15)]


# 4 ------------------------------------------------------------------------------------
@xcs.op
def maybe_fail(i, q):
    probe.enter(i)
    try:
        time.sleep(0.03 if i != 2 else 0.01)
        if i == 2:
            raise ValueError(f"model {i} failed on {q!r}")
        return i
    finally:
        probe.leave()


@xcs.jit
def failing_ensemble(q):
    answers = [maybe_fail(i, q) for i in range(8)]
    send(("after", q))
    return answers


def test_failure_raises_the_same_exception_at_the_users_call_site():
    world.clear()
    with pytest.raises(ValueError, match="model 2 failed on 'x'") as info:
        failing_ensemble("x")
    assert world == []  # the effect after the failing call never ran
    assert probe.now == 0  # nothing left running
    frames = traceback.extract_tb(info.value.__traceback__)
    call_line = line_of(failing_ensemble.fn, "answers = [maybe_fail")
    assert any(f.filename == __file__ and f.lineno == call_line for f in frames)
    assert frames[-1].name == "maybe_fail"
    # the next call works
    assert failing_ensemble.fn.__name__ == "failing_ensemble"

    @xcs.jit
    def fine(q):
        return [slow_model(i, q, 0.001) for i in range(3)]

    assert fine("ok") == ["ok:0", "ok:1", "ok:2"]


class AppError(Exception):
    pass


@xcs.op
def fetch_from(url):
    time.sleep(0.002)
    try:
        {}[url]
    except KeyError as exc:
        raise AppError(f"cannot fetch {url}") from exc


@xcs.op
def fetch_while_handling(url):
    time.sleep(0.002)
    try:
        {}[url]
    except KeyError:
        raise AppError(f"lost {url}")  # noqa: B904 - the implicit context is the point


@xcs.op
def unavailable(url):
    time.sleep(0.002)
    raise AppError(f"{url} unavailable")


def fetch_with_fallback(url):
    try:
        return [unavailable(url)]
    except AppError:
        return [unavailable(url + "/mirror")]  # fails while the first failure is handled


@xcs.op
async def aunavailable(url):
    await asyncio.sleep(0.002)
    raise AppError(f"{url} unavailable")


async def afetch_with_fallback(url):
    try:
        first = await aunavailable(url)
    except AppError:
        first = await aunavailable(url + "/mirror")
    return [first]


def chain(exc):
    """What a traceback prints before ``exc``: its cause, or its context if not suppressed."""
    out = []
    while exc is not None:
        out.append((type(exc).__name__, str(exc).split("\nxcs:")[0]))
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    return out


def fetch_a():
    return [fetch_from("a")]


def fetch_b():
    return [fetch_while_handling("b")]


@pytest.mark.parametrize("program, url", [(fetch_a, None), (fetch_b, None),
                                          (fetch_with_fallback, "c")],
                         ids=["raise from", "raised while handling", "fallback"])
def test_a_failing_calls_exception_keeps_its_cause_and_context(program, url):
    args = () if url is None else (url,)
    with pytest.raises(AppError) as plain:
        program(*args)
    with warnings.catch_warnings(), pytest.raises(AppError) as jitted:
        warnings.simplefilter("error", xcs.XcsWarning)  # compiled, not run as plain Python
        xcs.jit(program)(*args)
    assert len(chain(plain.value)) == 2
    assert chain(jitted.value) == chain(plain.value)


def test_an_awaited_calls_exception_keeps_its_context():
    with pytest.raises(AppError) as plain:
        asyncio.run(afetch_with_fallback("d"))
    with warnings.catch_warnings(), pytest.raises(AppError) as jitted:
        warnings.simplefilter("error", xcs.XcsWarning)
        asyncio.run(xcs.jit(afetch_with_fallback)("d"))
    assert chain(jitted.value) == chain(plain.value) == [
        ("AppError", "d/mirror unavailable"), ("AppError", "d unavailable")]


@xcs.op
def joined(texts):
    return " | ".join(texts)


def test_a_leaf_given_a_generator_of_results_runs_where_it_is_called():
    def program(q):
        answers = [slow_model(i, q, 0.01) for i in range(3)]
        first = joined(a.upper() for a in answers)
        suffix = "!"
        late = joined(a + suffix for a in answers)  # plain Python reads suffix now
        suffix = "?"
        return first, late, suffix

    expected = program("g")
    assert xcs.jit(program)("g") == expected == (
        "G:0 | G:1 | G:2", "g:0! | g:1! | g:2!", "?")


def test_a_failing_call_is_never_run_twice():
    with pytest.raises(ValueError):
        failing_ensemble("y")
    assert probe.calls.count(2) == 1
    assert all(probe.calls.count(i) <= 1 for i in range(8))


def test_exception_is_caught_by_the_same_except_inside_the_function():
    @xcs.jit
    def guarded(q):
        try:
            value = maybe_fail(2, q)
        except ValueError as exc:
            value = f"fallback after {exc}"
        return value, maybe_fail(1, q)

    assert guarded("z") == ("fallback after model 2 failed on 'z'", 1)


def test_python_side_effects_and_branches_happen_on_every_call():
    seen = []

    @xcs.op
    def classify(x):
        return x % 3

    @xcs.jit
    def branchy(xs):
        out = []
        for x in xs:
            c = classify(x)
            seen.append(x)
            if c == 0:
                out.append(("zero", m2(x)))
            else:
                out.append(("other", c))
        return out

    for xs in ([0, 1, 2, 3], [5, 6]):
        seen.clear()
        expected = [("zero", x) if x % 3 == 0 else ("other", x % 3) for x in xs]
        assert branchy(xs) == expected
        assert seen == xs


# 5 ------------------------------------------------------------------------------------
@xcs.jit
class Inner(xcs.Operator):
    def forward(self, inputs):
        return [slow_model(i, inputs, 0.01) for i in range(2)]


@xcs.jit
class Outer(xcs.Operator):
    def __init__(self):
        self.inner = Inner()

    def forward(self, inputs):
        return [self.inner(inputs), slow_model(9, inputs, 0.01)]


def test_nested_jitted_operators_compose_into_one_graph():
    runs = []
    probe.expect(3)
    with xcs.execution(observer=runs.append):
        assert Outer()("n") == [["n:0", "n:1"], "n:9"]
    (ctx,) = runs
    assert [n.target for n in ctx.nodes if n.kind is xcs.OpKind.CALL] == ["slow_model"] * 3
    assert probe.peak == 3


@xcs.jit
def inner_job(q):
    return [slow_model(i, q, 0.005) for i in range(3)]


@xcs.op
def leaf_calling_jit(q):
    return inner_job(q)


@xcs.jit(max_workers=1)
def inner_job_one_worker(q):
    return [slow_model(i, q, 0.005) for i in range(3)]


@xcs.op
def leaf_calling_one_worker_jit(q):
    return inner_job_one_worker(q)


@pytest.mark.parametrize("leaf", [leaf_calling_jit, leaf_calling_one_worker_jit],
                         ids=["inner default pool", "one worker on both levels"])
def test_leaf_calling_a_jitted_function_does_not_deadlock_with_one_worker(leaf):
    @xcs.jit(max_workers=1)
    def outer(q):
        return [leaf(q), leaf(q + "2")]

    result: list = []
    thread = threading.Thread(target=lambda: result.append(outer("d")), daemon=True)
    thread.start()
    thread.join(timeout=10)
    assert not thread.is_alive(), "deadlock"
    assert result == [[["d:0", "d:1", "d:2"], ["d2:0", "d2:1", "d2:2"]]]


# 6 ------------------------------------------------------------------------------------
def test_same_function_from_eight_threads_gives_eight_correct_results():
    @xcs.jit
    def ensemble(q):
        return judge([slow_model(i, q, 0.01) for i in range(4)])

    results: dict = {}

    def work(k):
        results[k] = ensemble(f"t{k}")

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {k: " ".join(f"t{k}:{i}" for i in range(4)) for k in range(8)}


# 7 ------------------------------------------------------------------------------------
def test_bad_arguments_name_the_argument():
    with pytest.raises(TypeError, match="expected a function or an Operator class, got int 42"):
        xcs.jit(42)
    positive = r"jit\(max_workers=...\): must be a positive integer, got 0"
    with pytest.raises(ValueError, match=positive):
        xcs.jit(max_workers=0)
    with pytest.raises(ValueError, match=r"jit\(max_workers=...\).*got 2.5"):
        xcs.jit(lambda: 1, max_workers=2.5)
    unknown = (r"jit\(executor=...\): 'gpu' is not a known executor; choose one of asyncio, "
               r"dask, processes, sequential, threads")
    with pytest.raises(ValueError, match=unknown):
        xcs.jit(executor="gpu")
    with pytest.raises(ValueError, match=r"execution\(executor=...\): 'nope'"):
        with xcs.execution(executor="nope"):
            pass
    with pytest.raises(TypeError, match="a class must subclass xcs.Operator"):
        xcs.jit(dict)
    with pytest.raises(TypeError, match="xcs.op: expected a function"):
        xcs.op("text")


# pool and worker limits ------------------------------------------------------------------
@pytest.mark.parametrize("step_ms, most, least", [(1.5, None, 10), (0.1, 2, 1)],
                         ids=["each call after a millisecond", "calls within a millisecond"])
def test_the_issuing_thread_gives_up_the_gil_once_per_millisecond_of_issuing(
        monkeypatch, step_ms, most, least):
    # the scheduler's clock advances ``step_ms`` at each reading; its yields are recorded
    readings = iter(range(10_000))
    monkeypatch.setattr(scheduler, "_clock", lambda: next(readings) * step_ms / 1000)
    yields: list = []
    monkeypatch.setattr(scheduler, "_yield", yields.append)

    @xcs.jit(max_workers=10)
    def fan(q):
        return [slow_model(i, q, 0.002) for i in range(10)]

    assert fan("y") == [f"y:{i}" for i in range(10)]
    assert len(yields) >= least
    assert most is None or len(yields) <= most


def test_issuing_async_calls_keeps_the_gil(monkeypatch):
    # an event loop given the GIL starts every call issued so far before it gives it back
    readings = iter(range(10_000))
    monkeypatch.setattr(scheduler, "_clock", lambda: next(readings) * 0.0015)
    yields: list = []
    monkeypatch.setattr(scheduler, "_yield", yields.append)

    @xcs.op
    async def answer(i):
        await asyncio.sleep(0.002)
        return i

    @xcs.jit(executor="asyncio")
    def fan():
        return [answer(i) for i in range(10)]

    assert fan() == list(range(10))
    assert yields == []


def test_max_workers_is_respected_and_the_pool_is_reused():
    @xcs.jit(max_workers=2)
    def ensemble(q):
        return [slow_model(i, q, 0.01) for i in range(8)]

    assert ensemble("w") == [f"w:{i}" for i in range(8)]
    assert probe.peak == 2
    before = threading.active_count()
    for _ in range(5):
        ensemble("w")
    assert threading.active_count() == before
    assert get_executor("threads", 2) is get_executor("threads", 2)
    assert get_executor("threads", 2).threads == 2  # never more threads than max_workers


def test_longest_remaining_path_goes_first_when_workers_are_scarce():
    order = []

    @xcs.op
    def blocker():
        time.sleep(0.05)

    @xcs.op
    def step(name, *deps):
        order.append(name)
        time.sleep(0.002)
        return name

    @xcs.jit(max_workers=1)
    def program():
        blocker()
        short1, short2 = step("short1"), step("short2")
        head = step("head")
        tail = step("tail", head)
        tail2 = step("tail2", tail)
        return short1, short2, tail2

    assert program() == ("short1", "short2", "tail2")
    assert order.index("head") < order.index("short1")


@xcs.op
def maybe_none(q):
    time.sleep(0.002)
    return None if q == "none" else q


def test_identity_tests_on_results_take_the_plain_python_branch():
    @xcs.jit
    def checks(q):
        r = maybe_none(q)
        if r is None:
            first = "missing"
        else:
            first = "present"
        second = "none" if maybe_none(q) is None else "value"
        s = maybe_none(q)
        third = type(s) is str
        return first, second, third

    for q, expected in (("none", ("missing", "none", False)), ("x", ("present", "value", True))):
        assert checks(q) == expected
        assert xcs.trace(checks.fn, q).outputs == expected


@xcs.op
def word(i):
    time.sleep(0.002)
    return f"w{i}"


def test_pending_results_reaching_c_code_arrive_concrete_and_the_wait_is_recorded():
    @xcs.jit
    def joined():
        answers = [word(i) for i in range(3)]
        return ", ".join(answers)

    assert joined() == "w0, w1, w2"
    traced = xcs.trace(joined, )
    assert traced.outputs == "w0, w1, w2"
    reasons = [op.meta["reason"] for op in traced.sync_points]
    assert reasons and all("str.join()" in r for r in reasons)


def test_a_jitted_run_records_why_it_waited_for_values_passed_to_c_code():
    @xcs.jit
    def joined():
        answers = [slow_model(i, "j", 0.02) for i in range(3)]
        return ", ".join(answers)

    runs = []
    probe.expect(3)
    with xcs.execution(observer=runs.append):
        assert joined() == "j:0, j:1, j:2"
    (ctx,) = runs
    waits = [n for n in ctx.nodes if n.kind is xcs.OpKind.SYNC]
    assert [n.inputs[0].target for n in waits] == ["slow_model"] * 3
    assert {n.reason for n in waits} == {"passed to str.join() (code xcs does not compile)"}


def test_users_own_exception_waits_for_calls_in_flight_and_earlier_failures_win():
    @xcs.jit
    def user_raises(q):
        pending = [slow_model(i, q, 0.03) for i in range(4)]
        raise LookupError(f"user code gave up on {len(pending)} calls")

    with pytest.raises(LookupError, match="gave up on 4 calls"):
        user_raises("u")
    assert probe.now == 0  # every call in flight had finished before the raise
    assert probe.calls.count(("model", 3)) == 1

    @xcs.jit
    def call_fails_first(q):
        values = [maybe_fail(i, q) for i in range(4)]  # call 2 fails
        raise LookupError(f"after {len(values)} calls")

    with pytest.raises(ValueError, match="model 2 failed on 'v'"):
        call_fails_first("v")  # plain Python would have stopped at call 2
