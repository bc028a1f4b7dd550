"""Dependency analysis: what can run at the same time, and how much faster.

Every pass is one walk over the operations in program order (which is a
topological order), so the cost is linear in operations + edges.

Definitions
-----------
* call level: the number of leaf calls on the longest path that ends at an
  operation (glue, inputs and serialization points count zero).  Calls on
  one level never depend on each other: they form an *independent set*.
* critical path: the longest path, in leaf calls and in measured seconds.
* total time T1: the sum of all measured operation times (the sequential run);
  critical time Tinf; the speedup bound is T1 / Tinf and, with p workers,
  min(p, T1 / Tinf).  Brent's theorem guarantees a greedy scheduler at least
  T1 / (T1 / p + Tinf).
* predicted speedup: T1 / (max(Tinf, W / p) + n * c), where n counts the
  dispatches (calls slow enough to be handed to a worker; the calls of a
  batched op count as the requests they form, ``optimize.plan_batches``), c
  is the cost of one dispatch (serial on the calling thread and under the GIL)
  and W is the work to share out: T1 less what batching saves, a request
  priced like the average call it carries.  c defaults to 40 us, fitted on the
  benchmark machine (``benchmarks/run.py``); set ``XCS_DISPATCH_COST``
  (seconds) for another machine.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from xcs_core import cost
from xcs_core.ir import ComputationGraph, Operation, OpKind, bulk, call_levels, calls_on_paths
from xcs_core.optimize import BatchPlan, plan_and_saving
from xcs_core.patterns import Patterns, find_patterns

__all__ = ["Analysis", "SyncPoint", "analyze", "call_levels"]

@dataclass(frozen=True)
class SyncPoint:
    """A place where Python needed a concrete value."""

    op_id: int
    site: str
    reason: str
    blocking: bool  # True when the value came from a leaf call (so later work waits)


@dataclass
class Analysis:
    """Dependency information and the parallelism summary of one graph."""

    graph: ComputationGraph
    use_def: dict[int, tuple[int, tuple[int, ...]]]
    control: dict[int, tuple[int, ...]]
    levels: list[list[int]]
    independent_sets: list[list[int]]
    critical_path: list[int]
    critical_path_calls: int
    critical_time: float
    total_time: float
    sync_points: list[SyncPoint]
    patterns: Patterns

    @functools.cached_property
    def _batching(self) -> tuple[tuple[BatchPlan, ...], float]:
        return plan_and_saving(self.graph)  # asked for by the prediction and the summary

    @property
    def batches(self) -> tuple[BatchPlan, ...]:
        """The requests a jitted run sends per batched op (``optimize.plan_batches``)."""
        return self._batching[0]

    @property
    def batch_saving(self) -> float:
        """Seconds of work those requests save (``optimize.plan_and_saving``)."""
        return self._batching[1]

    @property
    def calls(self) -> int:
        return sum(len(level) for level in self.levels)

    @property
    def max_width(self) -> int:
        """Most leaf calls on one level: how many could run at once."""
        return max((len(level) for level in self.levels), default=0)

    @property
    def parallelism(self) -> float:
        """Calls / calls on the critical path: structural, no timing (1.0 = sequential)."""
        return self.calls / self.critical_path_calls if self.critical_path_calls else 1.0

    @property
    def speedup_bound(self) -> float:
        """T1 / Tinf: the best any number of workers can do."""
        if self.critical_time <= 0:
            return 1.0
        return max(1.0, self.total_time / self.critical_time)

    @property
    def dispatched_calls(self) -> int:
        """Dispatches a jitted run makes: calls slow enough to be handed to a worker
        (the others run inline), the calls of a batched op counted as their requests."""
        return sum(1 for op in self.graph if op.kind is OpKind.CALL
                   and op.duration >= cost.INLINE_BELOW and "batch" not in op.meta
                   ) + sum(plan.requests for plan in self.batches)

    def predicted_time(self, workers: int | None = None,
                       dispatch_cost: float | None = None) -> float:
        """max(Tinf, W / p) plus the serial cost of each dispatch (see module doc)."""
        if dispatch_cost is None:
            dispatch_cost = cost.DISPATCH_COST
        work = self.total_time - self.batch_saving
        span = self.critical_time if workers is None else max(
            self.critical_time, work / workers)
        return span + self.dispatched_calls * dispatch_cost

    def predicted_speedup(self, workers: int | None = None,
                          dispatch_cost: float | None = None) -> float:
        """T1 / predicted_time: what a parallel run should reach (see module doc)."""
        predicted = self.predicted_time(workers, dispatch_cost)
        if self.total_time <= 0 or predicted <= 0:
            return 1.0
        return self.total_time / predicted

    def brent_speedup(self, workers: int) -> float:
        """Speedup any greedy scheduler reaches with ``workers``: T1 / (T1/p + Tinf)."""
        if self.total_time <= 0:
            return 1.0
        return self.total_time / (self.total_time / workers + self.critical_time)

    def summary(self, workers: int | None = None) -> dict[str, Any]:
        """Plain numbers for tables and JSON."""
        return {
            "operations": len(self.graph),
            "calls": self.calls,
            "independent_sets": len(self.independent_sets),
            "max_width": self.max_width,
            "parallelism": self.parallelism,
            "critical_path_calls": self.critical_path_calls,
            "critical_time": self.critical_time,
            "total_time": self.total_time,
            "speedup_bound": self.speedup_bound,
            "predicted_speedup": self.predicted_speedup(workers),
            "sync_points": sum(1 for s in self.sync_points if s.blocking),
            "maps": _counted(m.describe() for m in self.patterns.maps),
            "reduces": _counted(r.describe() for r in self.patterns.reduces),
            "batches": [plan.to_dict() for plan in self.batches],
            "critical_path": list(self.critical_path),
        }


def _counted(descriptions: Iterable[str]) -> list[str]:
    """Equal descriptions once, with how often they occur (a loop's map on every level)."""
    counts = Counter(descriptions)
    return [d if n == 1 else f"{d} ({n} times)" for d, n in counts.items()]


def analyze(graph: ComputationGraph | Any) -> Analysis:
    """Use-def chains, levels, critical path, sync points and patterns of ``graph``
    (a ``ComputationGraph``, or what ``xcs.trace`` returned: its graph is used)."""
    graph = getattr(graph, "graph", graph)  # a TraceResult
    if not isinstance(graph, ComputationGraph):
        raise TypeError(f"xcs.analyze: expected a ComputationGraph or the result of xcs.trace, "
                        f"got {type(graph).__name__}")
    with bulk():
        return _analyze(graph)


def _analyze(graph: ComputationGraph) -> Analysis:
    use_def: dict[int, tuple[int, list[int]]] = {}
    control: dict[int, tuple[int, ...]] = {}
    longest: dict[int, float] = {}
    via: dict[int, int | None] = {}
    total = 0.0
    levels, calls_on_path = calls_on_paths(graph)
    timed = (OpKind.CALL, OpKind.GLUE)
    for op in graph:
        oid = op.id
        for ref in op.outputs:
            use_def[ref.id] = (oid, [])
        data = set()
        for ref in op.inputs:
            producer, users = use_def[ref.id]
            users.append(oid)
            data.add(producer)
        deps = graph.dependencies(op)
        best, best_time = None, 0.0
        for dep in deps:  # the first of the longest paths
            if best is None or longest[dep.id] > best_time:
                best, best_time = dep.id, longest[dep.id]
        duration = op.duration
        longest[oid], via[oid] = duration + best_time, best
        control[oid] = tuple(d.id for d in deps if d.id not in data) if deps else ()
        if op.kind in timed:
            total += duration
    end = max(longest, key=lambda k: longest[k], default=None)
    path: list[int] = []
    while end is not None:
        path.append(end)
        end = via[end]
    path.reverse()
    return Analysis(
        graph=graph,
        use_def={k: (p, tuple(u)) for k, (p, u) in use_def.items()},
        control=control,
        levels=levels,
        independent_sets=[ids for ids in levels if len(ids) > 1],
        critical_path=path,
        critical_path_calls=max(calls_on_path.values(), default=0),
        critical_time=longest[path[-1]] if path else 0.0,
        total_time=total,
        sync_points=_sync_points(graph, calls_on_path),
        patterns=find_patterns(graph, levels),
    )


def _sync_points(graph: ComputationGraph, calls_on_path: dict[int, int]) -> list[SyncPoint]:
    """Sync points; blocking ones waited for a call's value and have calls after them."""
    last_call = max((op.id for op in graph if op.kind is OpKind.CALL), default=-1)
    points = []
    for op in graph:
        if op.kind is OpKind.SYNC:
            forced = op.inputs[0] if op.inputs else None
            blocking = (forced is not None and op.id < last_call
                        and calls_on_path[graph.producer(forced).id] > 0)
            points.append(SyncPoint(op.id, op.site, str(op.meta.get("reason", "")), blocking))
    return points


def describe(op: Operation) -> str:
    """``target @ file:line`` for messages."""
    return f"{op.target} @ {op.site}" if op.site else op.target
