"""What is still different from plain Python (docs/execution.md), one test each.

Each test pins the documented behaviour, so a change to it is noticed and the docs updated.
"""

import asyncio
import dataclasses
import threading
import time
import warnings

import pytest

import xcs_core as xcs
from xcs_core.values import is_traced

log = []


@xcs.op
def fails(x):
    time.sleep(0.01)
    raise ValueError(f"no {x}")


@xcs.op
def echo(x):
    time.sleep(0.01)
    return x


def test_python_side_effects_after_a_failing_pure_call_have_run():
    def program():
        a = fails("a")
        log.append("after")
        return a + "!"

    log.clear()
    with pytest.raises(ValueError, match="no a"):
        program()
    assert log == []
    with pytest.raises(ValueError, match="no a"):
        xcs.jit(program)()
    assert log == ["after"]


class Config:
    def __init__(self):
        self.temperature = 1


@xcs.op
def read_config(cfg):
    time.sleep(0.02)
    return cfg.temperature


def test_an_object_that_is_not_a_container_is_shared_with_the_pending_call():
    def program():
        cfg = Config()
        seen = read_config(cfg)
        cfg.temperature = 0
        return seen

    assert program() == 1
    assert xcs.jit(program)() == 0  # the call ran after the attribute was set


@dataclasses.dataclass
class Answer:
    text: object

    @property
    def empty(self):
        return self.text is None


class Inbox:
    def __init__(self):
        self.items = []

    @property
    def first_is_missing(self):  # run by Python itself: not compiled
        return self.items[0] is None

    def first_missing(self):  # an ordinary method: compiled
        return self.items[0] is None


def test_uncompiled_code_sees_a_stand_in_appended_to_an_objects_list():
    def program():
        inbox = Inbox()
        inbox.items.append(echo(None))
        return inbox.first_is_missing, inbox.first_missing(), Answer(echo(None)).empty

    assert program() == (True, True, True)
    assert xcs.jit(program)() == (False, True, True)


def test_a_container_entry_whose_call_failed_keeps_a_stand_in():
    kept = []

    def program():
        kept.append(echo("ok"))
        kept.append(fails("x"))
        return kept[0] + kept[1]

    with pytest.raises(ValueError):
        xcs.jit(program)()
    assert kept[0] == "ok" and is_traced(kept[1])


started = []


@xcs.op
async def notify(x):
    started.append(x)
    return x


def test_an_async_leaf_call_that_is_never_awaited_may_have_run():
    """Dispatched when made, it may have run (here it has no ``await`` to be cancelled at)
    before the jitted call, at its end, cancels what nobody awaited."""
    async def program():
        notify("never awaited")
        return "done"

    started.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # plain Python: never awaited
        assert asyncio.run(program()) == "done"
    assert started == []
    assert asyncio.run(xcs.jit(program, executor="asyncio")()) == "done"
    assert started in ([], ["never awaited"])


refused = threading.Event()


@xcs.op
async def refuse(x):
    started.append(x)
    refused.set()
    raise ValueError(f"refused {x}")


def test_a_failing_async_leaf_call_that_is_never_awaited_raises_nothing():
    async def program():
        refuse("never awaited")
        await asyncio.to_thread(refused.wait, 10)  # it has run and failed
        return "done"

    started.clear()
    refused.clear()
    assert asyncio.run(xcs.jit(program, executor="asyncio")()) == "done"
    assert started == ["never awaited"]  # it ran (the difference above), and its failure is
    # nobody's: plain Python raises nothing either


def test_a_generator_function_cannot_be_jitted_and_runs_plainly():
    def numbers():
        yield echo(1)

    with pytest.warns(xcs.XcsWarning, match="generator"):
        jitted = xcs.jit(numbers)
    assert list(jitted()) == [1]
