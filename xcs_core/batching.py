"""Automatic batching: calls of one op that are ready together run as one request.

Why
---
Embedding endpoints, vector stores, databases (``WHERE id IN (...)``) and LLM
batch APIs take many items per request at nearly the cost of one.  Code is
written one item at a time (``[embed(t) for t in texts]``); Haxl ("There is no
Fork", ICFP 2014) and the DataLoader pattern showed that such code can be
batched for the programmer.  Here an op declares its batch form::

    def embed_many(items):                  # [(text,), (text,), ...] -> [vector, ...]
        return client.embed([text for (text,) in items])

    @xcs.op(batch=embed_many, max_batch=64)
    def embed(text):                        # one call: plain Python, xcs.trace, try blocks
        return client.embed([text])[0]

The batch function receives one tuple per call (the call's arguments bound to
the op's signature, defaults filled in) and returns one result per call, in
order; a result may be ``BatchFailure(exc)``, which fails exactly that call
with ``exc``.  An exception raised by the batch function fails every call of
the request; the jitted call raises it once, for the call first in program
order, as plain Python would have.

When a batch is cut: the collection window
------------------------------------------
A timer (collect for 5 ms, then send) costs every request its latency and
still splits batches arbitrarily.  The window here is tied to the scheduler
instead, to the two moments at which "ready together" has a precise meaning:

* **The jitted code runs ahead.**  Calls the jitted code makes whose inputs
  are ready are held in a window per op (DataLoader's "one tick").  The window
  is cut when it holds ``max_batch`` calls, and otherwise the next time the
  jitted code (or anything) waits for a value: a truth test, ``str(x)``, an
  effect, a ``try`` body's call with a pending argument, the end of the jitted
  call.  So ``[embed(t) for t in texts]`` sends ``ceil(N / max_batch)``
  requests, and no call is held while the code that made it is blocked.
* **A finished call releases its dependents.**  Calls made ready by one
  completion step (one call, or all calls of one request, finishing) form one
  group, cut when that step ends: ``[embed(fetch(x)) for x in xs]`` with a
  batched ``fetch`` sends its ``embed`` calls as one request too (Haxl's
  rounds).

The price, stated: while the jitted code computes without waiting, the calls
it made to a batched op wait for it to stop (at the latest, the boundary).

What is never batched
---------------------
Effects: ``op(effect=True, batch=...)`` is refused, since an effect runs alone,
after everything before it, in program order.  Every effect waits for all
earlier calls, which cuts the window: calls before and after an effect never
share a request.  Calls made inside a ``try``/``with`` body, or by code xcs did
not compile, run at once through the op itself, as do all calls under
``xcs.trace`` and the sequential executor.  A call whose arguments do not bind
to a tuple (keyword-only parameters) runs alone, through the op.  Windows
belong to one scheduler (one jitted call and the jitted functions it calls
from compiled code), so concurrent jitted calls, and jitted calls made inside
a leaf call, never share a request.

How it plugs in (``xcs_core.scheduler``)
----------------------------------------
A ready call of a batched op is *held* (state ``RUNNING``, in no queue) in
a ``Batcher`` instead of being queued.  Cutting a group makes ``Request``
nodes (``dependents`` = the calls, so cancelling a request cancels them) that
are queued like any node, take one worker slot, and run through the
executor's ``call``, so threads, processes and Dask run batch functions alike.
A worker waiting for a held call cuts the window and, if the request is still
queued, runs it itself, as it would any queued node.  Batched ops are never run
inline (``cost.always_dispatch``): the request is the cheaper path.
"""

from __future__ import annotations

import heapq
import inspect
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from xcs_core import cost
from xcs_core.ir import OpKind
from xcs_core.nodes import DONE, QUEUED, Cancelled, Node, begin, ended, in_context
from xcs_core.optimize import BatchPlan

__all__ = ["HOLDS", "Batch", "BatchFailure", "BatchResultError", "Batcher", "Request",
           "batch_of", "run_request"]

#: type of a callee -> whether its instances may carry a batch form (``__xcs_batch__``);
#: the scheduler asks this per ready call, so the answer is cached per type
HOLDS: dict[type, bool] = {}


def batch_of(fn: Any) -> Batch | None:
    """``fn``'s batch form, if it has one (asked once per type whether it can)."""
    kind = type(fn)
    holds = HOLDS.get(kind)
    if holds is None:
        holds = HOLDS[kind] = hasattr(kind, "__xcs_batch__")
    return fn.__xcs_batch__ if holds else None


@dataclass(frozen=True)
class BatchFailure:
    """A per-call failure in a batch function's results: that call raises ``error``."""

    error: BaseException

    def __post_init__(self) -> None:
        if not isinstance(self.error, BaseException):
            raise TypeError(f"xcs.BatchFailure: expected an exception instance, got "
                            f"{type(self.error).__name__} {self.error!r}")


class BatchResultError(TypeError):
    """A batch function returned something other than one result per call."""


@dataclass(frozen=True)
class Batch:
    """An op's batch form: ``fn(list of argument tuples) -> list of results``."""

    fn: Callable[[list[tuple]], Sequence[Any]]
    max_batch: int
    op: str  # the op's qualified name, for messages
    signature: inspect.Signature | None
    arity: int  # parameters, when all are positional (-1 otherwise): the fast path of ``item``

    def item(self, args: tuple, kwargs: dict) -> tuple | None:
        """The call's arguments as the batch function receives them, or ``None`` when
        they do not bind to a tuple (the call then runs alone, through the op)."""
        if not kwargs and len(args) == self.arity:
            return args  # every parameter given by position: nothing to bind
        if self.signature is None:
            return None if kwargs else args
        try:
            bound = self.signature.bind(*args, **kwargs)
        except TypeError:
            return None  # the op raises plain Python's TypeError itself
        bound.apply_defaults()
        return None if bound.kwargs else bound.args

    def results(self, value: Any, count: int) -> list[Any]:
        """``value`` as a list of ``count`` results, or ``BatchResultError`` naming the op."""
        try:
            results = list(value)
        except TypeError:
            results = None
        if results is None or len(results) != count:
            got = (f"{len(results)} results" if results is not None
                   else f"{type(value).__name__} {value!r:.60}")
            raise BatchResultError(
                f"xcs.op {self.op}: batch function {_name(self.fn)} was given {count} calls "
                f"and returned {got}; it must return a list with one result per call, in "
                "order (xcs.BatchFailure(exc) for a call that failed)")
        return results


def make_batch(op: str, single: Callable[..., Any], fn: Any, max_batch: Any) -> Batch:
    """Validate ``op(batch=fn, max_batch=...)`` for ``single`` and build its ``Batch``."""
    if not callable(fn):
        raise TypeError(f"xcs.op {op}: batch= must be a function taking a list of argument "
                        f"tuples and returning a list of results, got {type(fn).__name__} "
                        f"{fn!r}")
    if isinstance(max_batch, bool) or not isinstance(max_batch, int) or max_batch < 1:
        raise ValueError(f"xcs.op {op}: max_batch must be a positive integer (the most calls "
                         f"one request may carry), got {max_batch!r}")
    if inspect.iscoroutinefunction(fn):
        from xcs_core.ops import CoroutineCall  # deferred: ops imports this module

        fn = CoroutineCall(fn)
    try:
        signature: inspect.Signature | None = inspect.signature(single)
    except (TypeError, ValueError):
        signature = None
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    params = [] if signature is None else list(signature.parameters.values())
    arity = len(params) if all(p.kind in positional for p in params) and params else -1
    return Batch(fn, max_batch, op, signature, arity)


def _name(fn: Any) -> str:
    fn = getattr(fn, "coroutine_function", fn)
    return getattr(fn, "__qualname__", None) or type(fn).__qualname__


class Request(Node):
    """One batched request: its calls are its ``dependents`` (see module doc)."""

    __slots__ = ("batch",)


class Batcher:
    """The collection windows of one scheduler; every method runs under its lock."""

    def __init__(self, sched: Any) -> None:
        self.sched = sched
        self.window: dict[int, list[Node]] = {}  # held calls the jitted code made, per op
        self.step: dict[int, list[Node]] = {}  # held calls a completion step made ready
        self.sent: dict[str, BatchPlan] = {}  # what was sent, per op (``Scheduler.batches``)

    def hold(self, node: Node, batch: Batch, window: bool) -> bool:
        """Hold a ready call of a batched op; a full group is cut at once (True)."""
        groups = self.window if window else self.step
        group = groups.setdefault(id(batch), [])
        group.append(node)
        if len(group) < batch.max_batch:
            return False
        del groups[id(batch)]
        self._cut(group, batch)
        return True

    def cut_window(self) -> None:
        """The jitted code waits (or ends): send what it made ready."""
        self._cut_all(self.window)

    def cut_step(self) -> None:
        """A completion step ends: send what it made ready."""
        self._cut_all(self.step)

    def _cut_all(self, groups: dict[int, list[Node]]) -> None:
        for group in list(groups.values()):
            self._cut(group, batch_of(group[0].fn))
        groups.clear()

    def _cut(self, group: list[Node], batch: Batch) -> None:
        """Queue ``group`` as requests of at most ``max_batch`` calls."""
        sched = self.sched
        for start in range(0, len(group), batch.max_batch):
            calls = group[start:start + batch.max_batch]
            first = calls[0]
            request = Request(first.seq, OpKind.CALL, f"{batch.op} x{len(calls)}")
            request.batch, request.key, request.sched = batch, first.key, sched
            request.dependents, request.owner = calls, first.owner
            # calls held as the jitted code made them carry no height of their own
            request.height = max(max(call.height for call in calls), cost.estimate(first.key))
            for call in calls:
                call.request = request
            request.state = QUEUED
            sent = self.sent.get(batch.op) or BatchPlan(batch.op, 0, 0, batch.max_batch)
            self.sent[batch.op] = replace(sent, calls=sent.calls + len(calls),
                                          requests=sent.requests + 1)
            sched.unfinished += 1
            heapq.heappush(sched._heap, (-request.height, request.seq, request))


def run_request(sched: Any, request: Request, dispatched: bool) -> Node | None:
    """Run one request on this thread and record each call's outcome in one step."""
    calls, request.dependents = request.dependents, []
    outcomes: list[tuple[Node, Any, BaseException | None]] = []
    items: list[tuple] = []
    sent: list[Node] = []
    for node in calls:
        node.request = None
        if node.seq > sched.failed_seq:
            outcomes.append((node, None, Cancelled()))
            continue
        try:
            args, kwargs = begin(node)
        except BaseException as exc:  # noqa: BLE001 - an input failed elsewhere
            outcomes.append((node, None, exc))
            continue
        item = request.batch.item(args, kwargs)
        if item is None:
            outcomes.append(_alone(sched, node, args, kwargs))
        else:
            items.append(item)
            sent.append(node)
    if sent:
        outcomes += _send(sched, request, sent, items)
    with sched.lock:
        request.state = DONE
        sched.unfinished -= 1
    first, *more = outcomes
    return sched._finish(*first, dispatched=dispatched, more=more)


def _send(sched: Any, request: Request, calls: list[Node], items: list[tuple]
          ) -> list[tuple[Node, Any, BaseException | None]]:
    """One call of the batch function for ``calls``; each call's outcome."""
    batch = request.batch
    error: BaseException | None = None
    results: list[Any] = []
    try:
        if sched._around is None:  # in the context of the request's first call
            value = in_context(calls[0], sched._call, batch.fn, (items,), {})
        else:
            with sched._around(request):
                value = in_context(calls[0], sched._call, batch.fn, (items,), {})
        results = batch.results(value, len(items))
    except BaseException as exc:  # noqa: BLE001 - every call of the request fails with it
        error = exc
    end = time.perf_counter()
    out: list[tuple[Node, Any, BaseException | None]] = []
    for i, node in enumerate(calls):
        result = None if error is not None else results[i]
        failed = error if error is not None else (
            result.error if isinstance(result, BatchFailure) else None)
        node.end = end
        out.append((node, None, failed) if failed is not None else (node, result, None))
    if error is None:  # one request, one duration: learned once, not once per call
        cost.learn(calls[0].key, end - calls[0].start)
    return out


def _alone(sched: Any, node: Node, args: tuple, kwargs: dict
           ) -> tuple[Node, Any, BaseException | None]:
    """A call whose arguments do not bind to a tuple runs through the op itself."""
    try:
        value, exc = in_context(node, sched._call, node.fn, args, kwargs), None
    except BaseException as error:  # noqa: BLE001 - recorded on the call
        value, exc = None, error
    ended(node, exc is not None)
    return node, value, exc
