"""``xcs.trace``: record one run of a function as an SSA dataflow graph.

The function is compiled exactly as a jitted call is (``xcs_core.compiler``)
and run under a record-mode context (``xcs_core.runtime``): every leaf call runs
at once, inline, and is timed; its result is a stand-in so that glue on it is
recorded; every place Python needs a concrete value is recorded as a
serialization point.  Control edges are derived from program order when the
nodes are frozen into a ``ComputationGraph`` (``nodes.build_graph``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from xcs_core import standins, twins, walk  # noqa: F401 - standins: installs
from xcs_core.boundary import settle
from xcs_core.ir import ComputationGraph, Operation, OpKind
from xcs_core.leaves import Leaves, Watch, watch_trace
from xcs_core.nodes import DONE, Node, build_graph
from xcs_core.runtime import RECORD, Context, _activate

__all__ = ["TraceResult", "trace", "trace_call"]


@dataclass
class TraceResult:
    """What one traced run produced: the graph, the outputs and per-op wall times."""

    graph: ComputationGraph
    outputs: Any
    durations: dict[int, float] = field(default_factory=dict)
    wall_time: float = 0.0

    @property
    def sync_points(self) -> list[Operation]:
        """Serialization points in program order (see ``Operation.meta['reason']``)."""
        return [op for op in self.graph if op.kind is OpKind.SYNC]


def trace(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> TraceResult:
    """Run ``fn`` once with concrete arguments, recording its dataflow graph.

    Leaf calls (``@xcs.op`` functions and ``Operator`` instances) run inline and
    are timed; the returned outputs equal what ``fn`` returns without tracing.
    """
    return trace_call(fn, args, kwargs)


def trace_call(fn: Callable[..., Any], args: tuple = (), kwargs: dict | None = None,
               wrap_inputs: bool = True, leaves: Leaves | None = None,
               watch: Watch | None = None) -> TraceResult:
    """``trace`` with explicit arguments; ``wrap_inputs=False`` passes them through
    untouched (the pytest plugin does this for fixtures).  ``leaves`` makes calls of
    those callees leaf calls, ``watch`` times the other calls (``xcs_core.leaves``)."""
    if not callable(fn):
        raise TypeError(f"xcs.trace: fn must be callable, got {type(fn).__name__} {fn!r}")
    kwargs = kwargs or {}
    fn = twins.twin_of(getattr(fn, "__xcs_source__", fn))
    twins.room_for_recursion()
    ctx = Context(RECORD)
    if leaves is not None or watch is not None:
        watch_trace(ctx, leaves, watch)
    try:
        with _activate(ctx):
            if wrap_inputs:
                args = tuple(_input(ctx, f"arg{i}", a) for i, a in enumerate(args))
                kwargs = {k: _input(ctx, k, v) for k, v in kwargs.items()}
            targs, tkwargs = args, kwargs
            start = time.perf_counter()
            out = fn(*targs, **tkwargs)
            wall = time.perf_counter() - start
        found: dict[int, Node] = {}
        walk.collect(out, found)
        graph = build_graph(ctx.nodes, [n for n in found.values() if n.kind is not OpKind.SYNC])
        call = OpKind.CALL
        durations = {op.id: op.duration for op in graph if op.kind is call}
        return TraceResult(graph, settle(ctx, out, (args, kwargs)), durations, wall)
    finally:
        # Each node names its context, which lists them all: a cycle that only the garbage
        # collector's next full pass (rescanning every object the program holds) would
        # free, whether the traced function returned or raised.
        ctx.nodes = None


def _input(ctx: Context, name: str, value: Any) -> Any:
    node = ctx._node(OpKind.INPUT, name)
    node.state, node.value = DONE, value
    return ctx._wrap(node, value)
