"""Optimizer passes over the IR.  Each pass is a plain function ``graph -> graph``.

* ``fuse_glue``: chains of glue (attribute/item access, arithmetic, pure
  methods) are folded into the operations that consume them, so they cost no
  dispatch of their own.  ``dispatch_count`` tells the cost before and after.
* ``release_after_last_use``: marks on each operation the values whose last
  use it is (``meta["release"]``), so an executor can drop them and memory
  peaks stay as low as in sequential code.  ``peak_live_values`` measures it.
* ``group_maps``: marks the members of each map pattern as one parallel group
  (``meta["group"]``, ``meta["group_size"]``), so an executor can submit a
  map as one batch.

Passes only rewrite structure: call-to-call ordering is never loosened, so a
result computed from the optimized graph equals the original.  The run-mode
runtime applies the same three rules online (glue runs inline on completion,
finished nodes drop their inputs, map members are queued as they are
reached); the passes make them visible and measurable on recorded graphs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from xcs_core.analysis import call_levels
from xcs_core.ir import ComputationGraph, Operation, OpKind, ValueRef
from xcs_core.patterns import find_patterns

__all__ = ["PassStats", "dispatch_count", "fuse_glue", "group_maps", "optimize",
           "peak_live_values", "release_after_last_use"]

Pass = Callable[[ComputationGraph], ComputationGraph]


def dispatch_count(graph: ComputationGraph) -> int:
    """Operations an executor must schedule on their own (calls and unfused glue)."""
    return sum(1 for op in graph if op.kind in (OpKind.CALL, OpKind.GLUE))


def fuse_glue(graph: ComputationGraph) -> ComputationGraph:
    """Fold glue operations into their consumers (graph outputs keep theirs)."""
    keep = {graph.producer(ref).id for ref in graph.outputs}
    sources: dict[int, tuple[ValueRef, ...]] = {}  # fused glue value -> values it reads
    controls: dict[int, tuple[int, ...]] = {}  # fused glue op -> its control edges
    fused_into: dict[int, list[str]] = {}
    removed: set[int] = set()
    ops: list[Operation] = []
    for op in graph:
        inputs: list[ValueRef] = []
        labels: list[str] = []
        control = list(op.control)
        for ref in op.inputs:
            if ref.id in sources:
                producer = graph.producer(ref)
                inputs.extend(sources[ref.id])
                labels.extend(fused_into.get(producer.id, []) + [producer.target])
                control.extend(controls[producer.id])
            else:
                inputs.append(ref)
        control = _expand(control, removed, controls)
        if op.kind is OpKind.GLUE and op.id not in keep:
            sources[op.outputs[0].id] = tuple(dict.fromkeys(inputs))
            controls[op.id] = tuple(control)
            fused_into[op.id] = labels
            removed.add(op.id)
            continue
        meta = {**op.meta, "fused": labels} if labels else op.meta
        ops.append(replace(op, inputs=tuple(dict.fromkeys(inputs)),
                           control=tuple(dict.fromkeys(control)), meta=meta))
    return ComputationGraph(ops, graph.outputs)


def _expand(control: list[int], removed: set[int], controls: dict[int, tuple[int, ...]]
            ) -> list[int]:
    """Replace control edges to removed glue by that glue's own control edges."""
    out: list[int] = []
    for cid in control:
        out.extend(_expand(list(controls[cid]), removed, controls) if cid in removed else [cid])
    return out


def release_after_last_use(graph: ComputationGraph) -> ComputationGraph:
    """Annotate each operation with the values it is the last reader of."""
    last: dict[int, int] = {}
    for op in graph:
        for ref in op.inputs:
            last[ref.id] = op.id
    outputs = {ref.id for ref in graph.outputs}
    release: dict[int, list[int]] = {}
    for value_id, op_id in last.items():
        if value_id not in outputs:
            release.setdefault(op_id, []).append(value_id)
    return ComputationGraph(
        [replace(op, meta={**op.meta, "release": sorted(release[op.id])})
         if op.id in release else op for op in graph], graph.outputs)


def peak_live_values(graph: ComputationGraph) -> int:
    """Most values alive at once in program order, honouring ``meta['release']``."""
    live = peak = 0
    for op in graph:
        live += len(op.outputs)
        peak = max(peak, live)
        live -= len(op.meta.get("release", ()))
    return peak


def group_maps(graph: ComputationGraph) -> ComputationGraph:
    """Mark the members of each map pattern as one parallel group."""
    patterns = find_patterns(graph, call_levels(graph))
    group = {op_id: (i, m.size) for i, m in enumerate(patterns.maps) for op_id in m.op_ids}
    return ComputationGraph(
        [replace(op, meta={**op.meta, "group": group[op.id][0], "group_size": group[op.id][1]})
         if op.id in group else op for op in graph], graph.outputs)


@dataclass(frozen=True)
class PassStats:
    """What one pass did: dispatch count and live-value peak before/after, and its cost."""

    name: str
    dispatch_before: int
    dispatch_after: int
    peak_before: int
    peak_after: int
    seconds: float


DEFAULT_PASSES: tuple[Pass, ...] = (fuse_glue, release_after_last_use, group_maps)


def optimize(graph: ComputationGraph, passes: Sequence[Pass] = DEFAULT_PASSES
             ) -> tuple[ComputationGraph, list[PassStats]]:
    """Run ``passes`` in order; returns the optimized graph and one ``PassStats`` per pass."""
    stats: list[PassStats] = []
    for p in passes:
        start = time.perf_counter()
        new = p(graph)
        spent = time.perf_counter() - start
        stats.append(PassStats(p.__name__, dispatch_count(graph), dispatch_count(new),
                               peak_live_values(graph), peak_live_values(new), spent))
        graph = new
    return graph, stats
