"""The optimizer: the rules that change how a program runs, and where each one runs.

A jitted function runs as it goes (there is no recorded graph to replay), so
every rule is applied online, to each operation as it becomes ready, on the
path every jitted call takes:

1. **Glue is fused into its producer** (``scheduler._ready_locked``): attribute
   and item access, arithmetic and pure methods on a pending value run on the
   thread that finishes their last input, as part of that completion; they
   are never dispatched.
2. **Cheap calls run inline** (``runtime.Context.call``, ``cost.cheap``): a
   leaf call measured faster than a dispatch runs on the calling thread.
3. **Calls of an op with a batch form are batched** (``xcs_core.batching``):
   ready calls of ``@xcs.op(batch=..., max_batch=...)`` are held and sent as
   requests of at most ``max_batch`` calls, cut when the jitted code waits or
   a completion step ends.  ``benchmarks/batching.py`` measures it.
4. **Values are released after their last use** (``scheduler._record_locked``):
   a finished node drops its arguments and inputs, so a value lives only as
   long as the program or a pending call holds it (``benchmarks/run.py
   --only memory``).

On a recorded graph (``xcs.trace``) this module predicts what rule 3 will do:
``plan_batches`` counts, per batched op, its calls and the requests they form
under the same cutting rules; ``xcs.analyze(graph).summary()["batches"]`` and
the pytest plugin's report show it.

Removed, because nothing a user runs went through them: graph passes that
folded glue (``fuse_glue``), marked last uses in ``meta["release"]`` (no
executor read it) and grouped maps (``group_maps``).  Rules 1 and 4 already do
online what the first two described; a map sent as one unit is what rule 3
does, for the ops where it pays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from xcs_core.ir import ComputationGraph, OpKind

__all__ = ["BatchPlan", "plan_and_saving", "plan_batches"]


@dataclass(frozen=True)
class BatchPlan:
    """Batching of one op in one run: its calls, and the requests they form (planned from
    a graph by ``plan_batches``, or measured: ``Scheduler.batches``)."""

    target: str
    calls: int
    requests: int
    max_batch: int

    def to_dict(self) -> dict[str, object]:
        return {"op": self.target, "calls": self.calls, "requests": self.requests,
                "max_batch": self.max_batch}


def plan_batches(graph: ComputationGraph) -> tuple[BatchPlan, ...]:
    """The requests rule 3 makes for ``graph``'s calls of batched ops (``meta["batch"]``),
    one ``BatchPlan`` per op, in order of first call."""
    return plan_and_saving(graph)[0]


def plan_and_saving(graph: ComputationGraph) -> tuple[tuple[BatchPlan, ...], float]:
    """``plan_batches``, and the seconds of work those requests save, pricing a request
    like the average call it carries (the premise of a batch form: many items at about
    the cost of one; a trace never calls the batch function, so this is all it can
    know).  One walk of the graph for both."""
    calls: dict[str, int] = {}
    requests: dict[str, int] = {}
    largest: dict[str, int] = {}
    saved = 0.0
    for target, size, ids in _groups(graph):
        sent = math.ceil(len(ids) / size)
        calls[target] = calls.get(target, 0) + len(ids)
        requests[target] = requests.get(target, 0) + sent
        largest[target] = size
        work = sum(graph[i].duration for i in ids)
        saved += work - sent * work / len(ids)
    return tuple(BatchPlan(t, calls[t], requests[t], largest[t]) for t in calls), saved


def _groups(graph: ComputationGraph) -> list[tuple[str, int, list[int]]]:
    """The groups of batched calls that are ready together: (op, max_batch, call ids).

    As at run time: a serialization point or an effect cuts the window of the
    code's own calls; a call fed by an earlier call of the current window is
    made ready by that call's completion and joins the calls made ready with
    it (the same producer, or the same request of a batched producer).
    """
    latest: dict[int, int] = {}  # value id -> latest call that produced it, through glue
    window_of: dict[int, int] = {}  # call id -> window it was made in
    group_of: dict[int, tuple] = {}  # batched call id -> the group it joined
    groups: dict[tuple, list[int]] = {}
    window = 0
    for op in graph:
        if op.kind is OpKind.SYNC or op.effect:
            window += 1
        feeding = max((latest.get(ref.id, -1) for ref in op.inputs), default=-1)
        own = op.id if op.kind is OpKind.CALL else feeding
        for ref in op.outputs:
            latest[ref.id] = own
        if op.kind is not OpKind.CALL:
            continue
        window_of[op.id] = window
        if "batch" not in op.meta or op.effect:
            continue
        if feeding < 0 or window_of[feeding] < window:
            key: tuple = (op.target, "window", window)
        else:
            key = (op.target, "after", group_of.get(feeding, feeding))
        group_of[op.id] = key
        groups.setdefault(key, []).append(op.id)
    return [(key[0], int(graph[ids[0]].meta["batch"]), ids) for key, ids in groups.items()]
