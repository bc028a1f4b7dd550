"""Programs that must stay parallel on every call, on every supported Python (structural)."""

import asyncio
import time

import pytest

import xcs_core as xcs
from tests.concurrency import InFlight

flight = InFlight()
_enter, _leave, expect = flight.enter, flight.leave, flight.expect


@xcs.op
def complete(model):
    _enter()
    time.sleep(0.003)
    _leave()
    return {"choices": [{"message": {"content": f"answer from {model}"}}]}


MODELS = [f"m{i}" for i in range(8)]


@xcs.jit
def ensemble():
    answers = []
    for model in MODELS:
        r = complete(model)
        answers.append(r["choices"][0]["message"]["content"])
    return answers


def test_subscripting_results_stays_parallel_on_the_hundredth_call():
    expect(1)
    for _ in range(99):
        ensemble()
    expect(len(MODELS))
    assert ensemble() == [f"answer from {m}" for m in MODELS]
    assert flight.peak == len(MODELS)


@xcs.op
async def agent(model, prompt):
    _enter(wait=False)
    await asyncio.sleep(0.05)
    _leave()
    return f"{model}: {prompt}"


async def run_agent(model, prompt):
    reply = await agent(model, prompt)
    return reply.upper()


@xcs.jit(executor="asyncio")
async def mixture(prompt):
    replies = await asyncio.gather(*[run_agent(m, prompt) for m in MODELS])
    return " | ".join(replies)


def test_gather_over_the_users_coroutines_runs_their_leaf_calls_at_once():
    expect(len(MODELS))
    out = asyncio.run(mixture("q"))
    assert out == asyncio.run(mixture.fn("q"))
    assert flight.peak == len(MODELS)


@xcs.op
async def reply(model):
    await asyncio.sleep(0.001 if model == "down" else 0.01)
    if model == "down":
        raise ValueError(f"{model} is down")
    return model


async def gather_ops(models, return_exceptions=False):
    calls = [agent(m, "q") for m in models] if return_exceptions is None else [
        reply(m) for m in models]
    replies = await asyncio.gather(*calls, return_exceptions=bool(return_exceptions))
    return type(replies).__name__, [r.upper() if isinstance(r, str) else repr(r)
                                    for r in replies]


async def gather_helpers(models):
    async def ask(model):
        return (await reply(model)).upper()

    return [repr(r) for r in await asyncio.gather(*map(ask, models), return_exceptions=True)]


def test_gather_over_op_calls_runs_them_at_once_with_the_results_of_plain_gather():
    jitted = xcs.jit(gather_ops, executor="asyncio")
    expect(len(MODELS))
    assert asyncio.run(jitted(MODELS, None)) == asyncio.run(gather_ops(MODELS, None))
    assert flight.peak == len(MODELS)


async def gather_agents_in_helpers(models):
    async def ask(model):
        return (await agent(model, "q")).upper()

    return await asyncio.gather(*map(ask, models), return_exceptions=True)


def test_awaits_that_wait_inside_gather_with_return_exceptions_still_overlap():
    jitted = xcs.jit(gather_agents_in_helpers, executor="asyncio")
    expect(len(MODELS))
    assert asyncio.run(jitted(MODELS)) == [f"{m}: Q".upper() for m in MODELS]
    assert flight.peak == len(MODELS)


def test_gather_with_return_exceptions_returns_each_calls_exception_as_plain_python():
    models = ["a", "down", "c"]
    for fn, args in ((gather_ops, (models, True)), (gather_helpers, (models,))):
        plain = asyncio.run(fn(*args))
        assert "ValueError('down is down')" in str(plain)
        assert asyncio.run(xcs.jit(fn, executor="asyncio")(*args)) == plain
    with pytest.raises(ValueError, match="down is down"):
        asyncio.run(xcs.jit(gather_ops, executor="asyncio")(models, False))


@xcs.op
def lookup(key):
    _enter()
    time.sleep(0.003)
    _leave()
    return None if key % 2 else {"key": key}


@xcs.jit
def with_an_identity_test_in_a_branch_never_taken(keys, check):
    found = [lookup(k) for k in keys]
    if check:
        return [f for f in found if f is not None]
    return len(found)


def test_an_identity_test_in_a_branch_not_taken_costs_no_parallelism():
    expect(6)
    assert with_an_identity_test_in_a_branch_never_taken(range(6), False) == 6
    assert flight.peak == 6
    expect(1)
    assert with_an_identity_test_in_a_branch_never_taken(range(4), True) == [
        {"key": 0}, {"key": 2}]


@xcs.jit
def joined_from_a_generator():
    return ", ".join(complete(m)["choices"][0]["message"]["content"] for m in MODELS), sum(
        len(complete(m)["choices"]) for m in MODELS)


def test_generators_consumed_whole_by_c_code_dispatch_every_call_first():
    expect(len(MODELS))
    assert joined_from_a_generator() == joined_from_a_generator.fn()
    assert flight.peak == len(MODELS)


probed = []


@xcs.op
def probe(key):
    probed.append(key)
    return None if key % 2 else key


@xcs.jit
def stops_early(keys):
    return any(probe(k) is None for k in keys)


def test_any_stops_at_the_first_hit_and_makes_no_further_call():
    probed.clear()
    assert stops_early(range(6)) is True
    assert probed == [0, 1]


def fan_out(models):
    """Recursive: a module-level function that names itself."""
    if len(models) == 1:
        return [complete(models[0])]
    half = len(models) // 2
    return fan_out(models[:half]) + fan_out(models[half:])


class Panel:
    def __init__(self, models):
        self.models = models

    def ask_all(self):
        return [Panel.ask(self, m) for m in self.models]  # names its own class

    def ask(self, model):
        return complete(model)


def test_functions_that_name_themselves_or_their_class_stay_compiled_and_parallel():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", xcs.XcsWarning)
        for jitted in (xcs.jit(fan_out), xcs.jit(lambda ms: Panel(ms).ask_all())):
            results, peak = flight.peak_of(len(MODELS), jitted, MODELS)
            assert [r["choices"][0]["message"]["content"] for r in results] == [
                f"answer from {m}" for m in MODELS]
            assert peak == len(MODELS)


async def with_create_task(models):
    tasks = [asyncio.create_task(agent(m, "q")) for m in models]
    return [await t for t in tasks]


async def with_ensure_future_and_wait_for(models):
    futures = [asyncio.ensure_future(agent(m, "q")) for m in models]
    return [await asyncio.wait_for(f, 5) for f in futures]


async def with_task_group(models):
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(agent(m, "q")) for m in models]
    return [t.result() for t in tasks]


ASYNCIO_APIS = [with_create_task, with_ensure_future_and_wait_for] + (
    [with_task_group] if hasattr(asyncio, "TaskGroup") else [])


@pytest.mark.parametrize("program", ASYNCIO_APIS, ids=lambda f: f.__name__)
def test_an_op_call_is_a_coroutine_to_asyncio_and_its_tasks_overlap(program):
    assert asyncio.run(_an_op_call()) is True  # asyncio.iscoroutine(op(x)), as in plain Python
    expect(1)
    plain = asyncio.run(program(MODELS))
    expect(len(MODELS))
    assert asyncio.run(xcs.jit(program, executor="asyncio")(MODELS)) == plain
    assert flight.peak == len(MODELS)


@xcs.jit(executor="asyncio")
async def _an_op_call():
    call = reply("a")
    is_coroutine = asyncio.iscoroutine(call)
    await call
    return is_coroutine


async def tasks_made_outside_the_try(models):
    tasks = [asyncio.create_task(reply(m)) for m in models]
    out = []
    for task in tasks:
        try:
            out.append(await task)
        except ValueError as exc:
            out.append(f"caught {exc}")
    return out


def test_a_task_of_a_failing_op_call_raises_where_the_task_is_awaited():
    models = ["a", "down", "c"]
    plain = asyncio.run(tasks_made_outside_the_try(models))
    assert plain == ["a", "caught down is down", "c"]
    assert asyncio.run(xcs.jit(tasks_made_outside_the_try, executor="asyncio")(models)) == plain
