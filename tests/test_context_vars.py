"""Context variables (``contextvars``) under ``xcs.jit``: what each call sees, what sticks.

Plain Python runs a leaf call in its caller's context, so a request id or a tracing
span set before the call is what the call reads.  xcs runs a dispatched call in a copy
of its call site's context (as asyncio runs a task): it sees every variable set before
it, and what it sets itself stays its own.  A jitted coroutine runs in its caller's
context, so what its body sets is set in the caller once it is awaited.  Real threads,
real event loops; no timing is asserted.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time

import xcs_core as xcs

REQUEST: contextvars.ContextVar[str] = contextvars.ContextVar("request", default="none")
SEEN: list[tuple[str, str, int]] = []  # (text, request, thread) as each call saw them


@xcs.op
def tagged(text):
    time.sleep(0.005)  # slow enough to be dispatched to a worker
    SEEN.append((text, REQUEST.get(), threading.get_ident()))
    return f"{text}@{REQUEST.get()}"


@xcs.op
async def atagged(text):
    await asyncio.sleep(0.002)
    return f"{text}@{REQUEST.get()}"


@xcs.op
def claim(text):
    time.sleep(0.002)
    REQUEST.set(text)
    return text


@xcs.op(effect=True)
def claim_in_order(text):
    REQUEST.set(text)
    return text


def run_in_fresh_context(fn, *args):
    return contextvars.Context().run(fn, *args)


def test_dispatched_calls_see_what_was_set_before_each_of_them():
    @xcs.jit
    def flow():
        REQUEST.set("a")
        first = [tagged(f"x{i}") for i in range(3)]
        REQUEST.set("b")
        return first + [tagged("y")]

    SEEN.clear()
    assert run_in_fresh_context(flow) == ["x0@a", "x1@a", "x2@a", "y@b"]
    assert any(thread != threading.get_ident() for _, _, thread in SEEN)  # on workers


def test_async_calls_on_the_executors_loop_see_their_call_sites_context():
    @xcs.jit(executor="asyncio")
    def flow():
        REQUEST.set("first")
        a = atagged("a")
        REQUEST.set("second")
        return [a, atagged("b")]

    assert run_in_fresh_context(flow) == ["a@first", "b@second"]
    assert REQUEST.get() == "none"  # the fresh context took the writes, not this one


def test_a_jitted_coroutine_runs_in_its_callers_context_and_what_it_sets_stays_set():
    @xcs.jit
    async def flow():
        before = [await atagged("a"), tagged("b")]
        REQUEST.set("set inside")
        return before + [await atagged("c"), REQUEST.get()]

    async def main():
        REQUEST.set("caller")
        out = await flow()
        return out, REQUEST.get()

    out, after = asyncio.run(main())
    assert out == ["a@caller", "b@caller", "c@set inside", "set inside"]
    assert after == "set inside"  # as if the body had run in the caller's task


def test_aio_of_a_jitted_function_reads_and_sets_the_awaiting_tasks_context():
    @xcs.jit
    def flow():
        out = [tagged("a"), tagged("b")]
        REQUEST.set("from the body")
        return out

    async def main():
        REQUEST.set("task")
        return await flow.aio(), REQUEST.get()

    assert asyncio.run(main()) == (["a@task", "b@task"], "from the body")


def test_what_a_dispatched_call_sets_stays_its_own_and_an_effect_sets_the_callers():
    @xcs.jit
    def flow():
        REQUEST.set("start")
        claim("dispatched")  # runs on a worker, in a copy of this context
        after_dispatched = tagged("p")
        claim_in_order("effect")  # an effect runs here, in this context
        return [after_dispatched, tagged("q")]

    assert run_in_fresh_context(flow) == ["p@start", "q@effect"]


LOCAL = threading.local()


@xcs.op
def local_user(text):
    time.sleep(0.002)
    return f"{text}@{getattr(LOCAL, 'user', 'unset')}"


@xcs.op(effect=True)
def local_user_in_order(text):
    return f"{text}@{getattr(LOCAL, 'user', 'unset')}"


def test_thread_local_data_is_the_callers_only_in_calls_run_on_its_thread():
    """Documented difference: a dispatched call runs on a worker thread."""
    @xcs.jit
    def flow():
        LOCAL.user = "caller"  # on a thread of its own (below): nothing to clean up
        return [local_user("a"), local_user_in_order("b")]

    out: list = []
    thread = threading.Thread(target=lambda: out.append(flow()))
    thread.start()
    thread.join(10)
    assert out == [["a@unset", "b@caller"]]


REQUESTS: list[list[str]] = []


def tag_many(items):
    REQUESTS.append([REQUEST.get()] * len(items))
    return [f"{text}@{REQUEST.get()}" for (text,) in items]


@xcs.op(batch=tag_many, max_batch=8)
def batched_tag(text):
    return f"{text}@{REQUEST.get()}"


def test_a_batch_function_sees_the_context_of_the_first_call_it_carries():
    @xcs.jit
    def flow():
        REQUEST.set("batch")
        return [batched_tag(f"k{i}") for i in range(4)]

    REQUESTS.clear()
    assert run_in_fresh_context(flow) == [f"k{i}@batch" for i in range(4)]
    assert REQUESTS and all(seen == ["batch"] * len(seen) for seen in REQUESTS)
