"""Runtime nodes: one operation's state, its arguments, and running it once.

A ``Node`` is created for every leaf call, glue operation, input and
serialization point of a trace or a jitted run.  This module holds what a node
needs on its own: its state constants, substituting finished stand-ins in its
arguments (``resolve``), running its callable once and timing it
(``execute``), and the running-average durations that drive priorities and
the choice to run cheap calls inline (``xcs_core.cost``), and freezing the
nodes of a run into a ``ComputationGraph`` (``build_graph``).  Scheduling many
nodes is ``xcs_core.scheduler``'s job.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NoReturn

from xcs_core import cost, loops, sites, walk
from xcs_core.ir import ComputationGraph, Operation, OpKind, ValueRef, bulk
from xcs_core.mutation import ArgumentWatch
from xcs_core.remote import Remote, fetch
from xcs_core.values import Traced

__all__ = ["DONE", "FAILED", "NO_KWARGS", "QUEUED", "RUNNING", "WAITING", "Cancelled", "Node",
           "build_graph", "direct_call", "execute", "in_worker", "resolve",
           "fetch_values", "value_of", "wait", "written"]

WAITING, QUEUED, RUNNING, DONE, FAILED = range(5)
#: the ``kwargs`` of every node called without keyword arguments (shared: never mutated)
NO_KWARGS: dict[str, Any] = {}
_worker = threading.local()
_ATOMS = walk.ATOMS
# bound once: an enum member read off its class, per node, costs more than the test
_CALL, _INPUT, _SYNC = OpKind.CALL, OpKind.INPUT, OpKind.SYNC


class Cancelled(Exception):
    """A node that never ran because an earlier node (in program order) failed."""


class Node:
    """One runtime operation (leaf call, glue, input or serialization point)."""

    __slots__ = ("seq", "kind", "target", "key", "fn", "args", "kwargs", "inputs", "site",
                 "frame", "effect", "state", "value", "exc", "waiting", "dependents", "sched",
                 "owner", "start", "end", "worker", "height", "reason", "request", "shown",
                 "context", "given")

    def __init__(self, seq: int, kind: Any, target: str, fn: Any = None, args: tuple = (),
                 kwargs: dict | None = None, inputs: list[Node] | None = None,
                 site: tuple[str, int] | None = None, effect: bool = False) -> None:
        self.seq, self.kind, self.target, self.fn = seq, kind, target, fn
        self.args, self.kwargs, self.inputs = args, kwargs or NO_KWARGS, inputs or ()
        self.site, self.frame, self.effect, self.key = site, None, effect, target
        self.state, self.value, self.exc = WAITING, None, None
        # ``dependents`` becomes a list when a first node depends on this one: most nodes
        # (fan-out calls) never get one, and each container allocated per call is work
        # for the garbage collector while a wide fan-out is issued
        self.waiting, self.dependents, self.sched, self.owner = 0, (), None, None
        self.start = self.end = 0.0
        self.worker, self.height, self.reason = 0, 0.0, ""
        self.request: Node | None = None  # the batched request this call was sent in
        self.shown: tuple[str, ...] | None = None  # a recorded call's arguments (``written``)
        # a copy of the call site's context variables, when it runs elsewhere (``execute``)
        self.context: contextvars.Context | None = None
        # the caller's containers it was given copies of (``mutation``); then their watch
        self.given: Any = None

    def done(self, value: Any, start: float = 0.0, end: float = 0.0) -> Node:
        """Mark as already computed (used when a node runs synchronously)."""
        self.value, self.state, self.start, self.end = value, DONE, start, end
        self.worker = threading.get_ident()
        return self

    def __repr__(self) -> str:
        from xcs_core.sites import format_site

        return f"<node {self.seq} {self.target} at {format_site(self.site)}>"


def in_worker() -> bool:
    """True on a thread that a scheduler dispatched a node to."""
    return getattr(_worker, "active", False)


def resolve(obj: Any) -> Any:
    """``obj`` with finished stand-ins replaced by their values (see ``walk.resolve``)."""
    if type(obj) is Traced:
        return wait(obj._xcs_node)
    return walk.resolve(obj, _value)


def _value(proxy: Traced) -> Any:
    return wait(proxy._xcs_node)


def _resolve_args(args: tuple) -> tuple:
    """``resolve`` for a call's positional arguments: pending values among them are
    replaced without the general walk, unless one of them is a container."""
    values = []
    for arg in args:
        kind = type(arg)
        if kind is Traced:
            arg = wait(arg._xcs_node)
        elif kind not in _ATOMS:
            return walk.resolve(args, _value)
        values.append(arg)
    return tuple(values)


def direct_call(fn: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
    """Run ``fn`` here, on this thread (the thread executor's ``call``).

    A leaf op runs its body (``__xcs_body__``), never its tracing wrapper.
    """
    return getattr(fn, "__xcs_body__", fn)(*args, **kwargs)


def begin(node: Node, remote: bool = False) -> tuple[tuple, dict]:
    """Start running ``node`` here: its arguments (finished stand-ins replaced by their
    values; raises if an input failed elsewhere), stamped with this thread and the time.

    ``remote``: the call runs where values stay (an executor that ``starts_calls``): a
    value kept there is passed as its handle (see ``handles``), not fetched."""
    if node.inputs and remote:
        args, kwargs = handles(node.args), (handles(node.kwargs) if node.kwargs else {})
    elif node.inputs:  # dispatch found stand-ins in the arguments
        args, kwargs = _resolve_args(node.args), (resolve(node.kwargs) if node.kwargs else {})
    else:
        args, kwargs = node.args, node.kwargs
    node.worker = threading.get_ident()
    node.start = time.perf_counter()
    return args, kwargs


def ended(node: Node, failed: bool) -> None:
    """Stamp the end time and learn the duration of a leaf call that succeeded."""
    node.end = time.perf_counter()
    if not failed and node.kind is _CALL:
        cost.learn(node.key, node.end - node.start)


def execute(node: Node, call: Callable[..., Any] = direct_call
            ) -> tuple[Any, BaseException | None]:
    """Run one node's callable through ``call``; returns (value, exception)."""
    try:
        args, kwargs = begin(node)
    except BaseException as exc:  # an input failed on another scheduler
        return None, exc
    watch = None if node.given is None else ArgumentWatch(node.given, args, kwargs)
    try:
        value, exc = in_context(node, call, node.fn, args, kwargs), None
    except BaseException as error:  # noqa: BLE001 - re-raised in program order
        value, exc = None, error
    ended(node, exc is not None)
    if watch is not None:
        value = watch.settle(node, value)
    return value, exc


def in_context(node: Node, call: Callable[..., Any], fn: Any, args: tuple, kwargs: dict
               ) -> Any:
    """``call(fn, args, kwargs)`` seeing the context variables ``node``'s call site saw, in
    a copy of that context (``node.context``), as a task would; what it sets stays its
    own.  Without a copy (a call run at once, on the thread that made it), here."""
    context = node.context
    if context is None:
        return call(fn, args, kwargs)
    return context.run(call, fn, args, kwargs)


def _estimate(node: Node) -> float:
    """Expected duration: running average per callable; glue costs nothing."""
    return cost.estimate(node.key) if node.kind is _CALL else 0.0


def wait(node: Node) -> Any:
    """The node's value, raising its exception; steals queued work on pool workers."""
    if node.state < DONE:
        node.sched.wait(node)
    if node.state == FAILED:
        reraise(node.exc)
    return value_of(node)


def reraise(exc: BaseException) -> NoReturn:
    """Raise a leaf call's exception here as the call raised it.  A ``raise`` while an
    exception is being handled makes that one the new exception's context, which would
    replace the context the call gave it (the ``KeyError`` it was handling, say)."""
    context = exc.__context__
    try:
        raise exc
    finally:
        if context is not None:
            exc.__context__ = context


def value_of(node: Node) -> Any:
    """The value of a finished node as Python code may see it: a value kept where it was
    computed (``remote.Remote``) is fetched (once)."""
    value = node.value
    return value.get() if type(value) is Remote else value


def fetch_values(nodes: Iterable[Node]) -> None:
    """Fetch the values kept remote of the finished ``nodes`` together, one round trip per
    executor (``remote.fetch``), before they are read one by one."""
    fetch([node.value for node in nodes if node.state == DONE])


def handles(obj: Any, seen: dict[int, Any] | None = None) -> Any:
    """A remote call's argument: finished stand-ins replaced by their values, except that a
    value kept where calls run stays there and its handle (``Remote.handle``) is passed,
    directly or inside lists, tuples and dicts (a cluster resolves those, as Dask does);
    inside any other object, values are fetched."""
    kind = type(obj)
    if kind is Traced:
        node = obj._xcs_node
        if node.state < DONE or node.state == FAILED:
            wait(node)  # raises an input's failure
        value = node.value
        return value.handle if type(value) is Remote else value
    if kind in _ATOMS:
        return obj
    if seen is None:
        seen = {}
    elif id(obj) in seen:  # shared, or contains itself: what a plain walk gives
        return seen[id(obj)]
    if kind is list or kind is tuple:
        seen[id(obj)] = obj
        out = seen[id(obj)] = kind([handles(item, seen) for item in obj])
        return out
    if kind is dict:
        seen[id(obj)] = obj
        out = seen[id(obj)] = {key: handles(item, seen) for key, item in obj.items()}
        return out
    return resolve(obj)


def build_graph(nodes: list[Node], outputs: list[Node] = ()) -> ComputationGraph:
    """Freeze runtime nodes into a ``ComputationGraph`` with derived control edges.

    Each value's ``(ValueRef,)`` is made once: the defining operation's ``outputs``, and
    the ``inputs`` of each that reads only it (equal either way; made anew, they would
    be most of the objects a big graph holds)."""
    with bulk():
        ops: list[Operation] = []
        barrier: int | None = None
        epoch: list[int] = []
        places: dict[sites.Site, tuple[str, str]] = {}  # a site's text and loop, once each
        refs: dict[int, tuple[ValueRef]] = {}
        after: tuple[int, ...] = ()  # (barrier,): one tuple for all that are ordered after it
        for node in nodes:
            kind, inputs = node.kind, node.inputs
            if inputs:
                owner = node.owner
                for dep in inputs:
                    if dep.owner is not owner:  # not other traces'
                        inputs = [d for d in inputs if d.owner is owner]
                        break
            control = () if kind is _INPUT else after
            if node.effect:
                control = _control(node, inputs, barrier, epoch)
                epoch = []
            elif control:
                for dep in inputs:
                    if dep.seq == barrier:  # it reads the barrier: a data edge already
                        control = ()
                        break
            if kind is _SYNC or node.effect:
                barrier = node.seq
                after = (barrier,)
            elif kind is not _INPUT:
                epoch.append(node.seq)
            ops.append(_operation(node, inputs, control, places, refs))
        return ComputationGraph(ops, [_ref(refs, n) for n in outputs])


def _control(node: Node, inputs: Iterable[Node], barrier: int | None, epoch: list[int]
             ) -> tuple[int, ...]:
    """``node``'s control edges: after the last barrier (a sync point or an effect) unless
    it reads it; an effect also after each operation since the last effect it does not
    read (``epoch``)."""
    data = {d.seq for d in inputs}
    control = [barrier] if (barrier is not None and node.kind is not _INPUT
                            and barrier not in data) else []
    if node.effect:
        control.extend(s for s in epoch if s not in data and s != barrier)
    return tuple(control)


def _operation(node: Node, inputs: Sequence[Node], control: tuple[int, ...],
               places: dict[sites.Site, tuple[str, str]], refs: dict[int, tuple[ValueRef]]
               ) -> Operation:
    """One frozen operation of ``build_graph`` (its value's reference goes to ``refs``)."""
    duration = node.end - node.start
    meta: dict[str, Any] = {"duration": duration if duration > 0.0 else 0.0}
    if node.reason:
        meta["reason"] = node.reason
    kind, site, where = node.kind, node.site, ""
    if site is not None:
        place = places.get(site)
        if place is None:
            place = places[site] = (sites.format_site(site), loops.loop_at(*site))
        where = place[0]
        if kind is _CALL and place[1]:
            meta["loop"] = place[1]
    if node.state == FAILED:
        meta["error"] = f"{type(node.exc).__name__}: {node.exc}"
    if kind is _CALL:
        batch = getattr(node.fn, "__xcs_batch__", None)
        if batch is not None:
            meta["batch"] = batch.max_batch  # its calls may be sent together (batching.py)
    seq, outs, reads = node.seq, (), ()
    if kind is not _SYNC:
        outs = refs[seq] = (ValueRef(seq),)
    if len(inputs) == 1:
        reads = refs.get(inputs[0].seq) or (ValueRef(inputs[0].seq),)
    elif inputs:
        reads = tuple([_ref(refs, d) for d in inputs])
    return Operation(seq, kind, node.target, reads, outs, control, where, node.effect, meta,
                     node.shown)


def _ref(refs: dict[int, tuple[ValueRef]], node: Node) -> ValueRef:
    """The reference to ``node``'s value (a new one where no operation defined it: the graph
    then names the read of an undefined value)."""
    made = refs.get(node.seq)
    return ValueRef(node.seq) if made is None else made[0]


_SHOWN = 40  # characters of one constant argument shown in a printed graph
_ITEMS = 8  # items of a list, tuple or dict argument shown


def written(node: Node) -> tuple[str, ...] | None:
    """A call's arguments as written, for printing (``ask('a', %0)``); ``None`` for other
    operations.  Taken before the call runs (running it replaces the stand-ins inside its
    arguments by their values, in place); a jitted run takes none (``Operation.args``)."""
    if node.kind is not _CALL:
        return None
    args = node.args
    if not node.kwargs:  # one argument, the common case, without a ``map``
        return (_show(args[0]),) if len(args) == 1 else tuple(map(_show, args))
    return (*map(_show, args), *(f"{k}={_show(v)}" for k, v in node.kwargs.items()))


def _show(value: Any, depth: int = 0) -> str:
    """``%N`` for a value of the graph, else a short repr (never a user ``__repr__``
    beyond atoms: it could be slow, or look at a pending value)."""
    kind = type(value)
    if kind is Traced:
        return f"%{value._xcs_node.seq}"
    if kind in _REPRS:
        text = repr(value)
    elif kind in (list, tuple) and depth < 2:  # a list of results, mostly: each seen here
        shown = [f"%{v._xcs_node.seq}" if type(v) is Traced else _show(v, depth + 1)
                 for v in value[:_ITEMS]] + ["..."] * (len(value) > _ITEMS)
        text = ", ".join(shown) + ("," if kind is tuple and len(value) == 1 else "")
        text = f"[{text}]" if kind is list else f"({text})"
    elif kind is dict and depth < 2:
        items = list(value.items())
        shown = [f"{_show(k, 2)}: {_show(v, depth + 1)}" for k, v in items[:_ITEMS]]
        text = "{" + ", ".join(shown + ["..."] * (len(items) > _ITEMS)) + "}"
    else:
        text = f"<{getattr(value, '__qualname__', None) or kind.__name__}>"
    return text if len(text) <= _SHOWN else text[:_SHOWN - 3] + "..."


_REPRS = frozenset({str, int, float, bool, bytes, type(None), complex, range})
