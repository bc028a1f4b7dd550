"""What to make parallel, and what stops it: the advice under each marked test.

Two questions, answered from the one traced run of the test:

* **Slow calls that are not leaf calls.**  The trace runs with an
  ``xcs_core.leaves.Watch``: every call the test's compiled code makes (the
  test body and the user's functions it calls) is timed by callee and call
  site, minus the time of leaf calls made inside it.  When most of the test's
  time is spent outside leaf calls, ``Watch.slowest`` names the calls worth
  making leaves: from the calls the test makes directly, a call that repeats
  (or that does not spend most of its time in calls it makes itself) is named,
  else the calls made inside it are looked at.  So a helper called once that
  loops over ``client.complete`` names ``Client.complete``, at its call site,
  with its count, time, share of the test and the fix.  Compiled-call timing
  is used rather than a sampling profiler: it sees exactly the calls the
  user's code makes, with their sites and counts, and costs nothing extra.
* **What blocks parallelism, ranked by cost.**  Every place that orders later
  calls after a value or a call: a serialization point (Python needed a
  value), an effect, a call in a ``try``/``with`` body or made by code xcs did
  not compile (these run at once in a jitted run; the trace records why in
  the call's ``meta["reason"]``).  Such places are grouped by site and reason
  (a loop gives one entry with a count).  The cost of a group is the time the
  critical path loses when the graph is rebuilt without the ordering it
  imposes (control edges derived as ``nodes.build_graph`` does, the group left
  out); data dependencies stay, so a test whose later calls need the value
  anyway shows a cost of zero.  The predicted speedup of the rebuilt graph is
  the speedup once that suggestion is applied.

The top suggestion is the slowest non-leaf call when there is one (its
prediction assumes its calls are independent: ``up to``), else the costliest
blocker, or all costly blockers together when fixing the costliest alone gains
nothing (a loop serialized both by a truth test and by an effect).
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import xcs_core as xcs
from xcs_core.ir import ComputationGraph, Operation, OpKind
from xcs_core.leaves import SlowCall, Watch
from xcs_core.report import WIDTH, format_seconds, tidy_paths
from xcs_core.tracing import TraceResult

__all__ = ["Advice", "Blocker", "Blocking", "advise", "blockers", "report_lines",
           "suggestion"]

#: A test is told about its slow non-leaf calls when less than this share of its
#: time was spent in leaf calls.
MOSTLY_OUTSIDE = 0.5
#: Calls at one site that took less than this in all are not worth a leaf.
MIN_SECONDS = 0.01
#: A fix that predicts less than this factor over now gains nothing worth naming.
GAIN = 1.05
NO_GAIN = "nothing to gain here: the calls after it need this value (or this call) anyway"
_RUN_AT_ONCE = {
    "inside a try block: runs at once so the same except catches its errors": "try",
    "called from code xcs did not compile: runs at once": "uncompiled",
    "changes the containers it is given: runs at once": "changes",
}
_WHERE = {"try": "called in a try/with body", "uncompiled": "called in code xcs did not compile",
          "changes": "changes a list or dict it is given, so it"}


@dataclass(frozen=True)
class Blocker:
    """One place (site and reason) that orders later calls, with what it costs."""

    site: str
    reason: str
    kind: str  # "sync", "effect", "try" or "uncompiled"
    count: int  # how often the run passed it (a loop: once per iteration)
    cost: float  # seconds it adds to the critical path (on its own, see ``blockers``)
    predicted_if_fixed: float  # predicted speedup without it
    suggestion: str


@dataclass(frozen=True)
class Advice:
    """The advice for one marked test (see module doc)."""

    wall: float  # the traced run's wall time
    leaf_share: float  # of ``wall`` spent in leaf calls
    slow_calls: tuple[SlowCall, ...]
    blockers: tuple[Blocker, ...]
    predicted: float  # predicted speedup now (calls in try/with run at once)
    predicted_all_fixed: float  # with every blocker fixed
    top: str  # the top suggestion in words ("" when there is nothing to suggest)
    predicted_if_fixed: float | None  # once the top suggestion is applied

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Advice:
        """Rebuild advice from ``dataclasses.asdict`` output (JSON, xdist workers)."""
        return cls(float(data["wall"]), float(data["leaf_share"]),
                   tuple(SlowCall(**s) for s in data["slow_calls"]),
                   tuple(Blocker(**b) for b in data["blockers"]), float(data["predicted"]),
                   float(data["predicted_all_fixed"]), str(data["top"]),
                   data["predicted_if_fixed"])


def advise(traced: TraceResult, watch: Watch, workers: int | None = None) -> Advice:
    """The advice for one traced run of a test made with ``watch`` attached."""
    wall = max(traced.wall_time, 1e-9)
    leaf = sum(op.duration for op in traced.graph if op.kind is OpKind.CALL)
    share = min(1.0, leaf / wall)
    slow = tuple(replace(s, site=tidy_paths(s.site)) for s in watch.slowest(wall=wall)
                 if s.seconds >= MIN_SECONDS) if share < MOSTLY_OUTSIDE else ()
    found = blockers(traced.graph, workers)
    predicted, all_fixed = found.predicted, found.predicted_all_fixed
    if slow:
        s = slow[0]
        after = wall - s.seconds + s.seconds / s.count
        return Advice(wall, share, slow, found.blockers, predicted, all_fixed,
                      f"make {s.callee} a leaf call ({s.site})", wall / max(after, 1e-9))
    if len(found.together) == 1:
        best = found.blockers[0]
        return Advice(wall, share, slow, found.blockers, predicted, all_fixed,
                      f"{best.site} ({best.reason})", best.predicted_if_fixed)
    if found.together:  # each one alone keeps the calls in order
        return Advice(wall, share, slow, found.blockers, predicted, all_fixed,
                      f"fix {', '.join(found.together)} together: each alone keeps the "
                      "calls in order", found.predicted_together)
    return Advice(wall, share, slow, found.blockers, predicted, all_fixed, "", None)


@dataclass(frozen=True)
class Blocking:
    """What ``blockers`` finds in one graph."""

    blockers: tuple[Blocker, ...]  # costliest first
    predicted: float  # predicted speedup now, as a jitted run executes the graph
    predicted_all_fixed: float
    together: tuple[str, ...]  # the sites of the fewest costliest blockers worth fixing
    predicted_together: float  # once those are fixed


def blockers(graph: ComputationGraph, workers: int | None = None) -> Blocking:
    """The places that order later calls, costliest first, and the predicted speedups.

    A blocker's cost is what it adds to the critical path on its own (every other
    blocker fixed), so two that serialize the same loop both show their cost;
    ``predicted_if_fixed`` is the speedup once only that one is fixed.  ``together``
    takes the costliest blockers in turn until fixing them gains ``GAIN``."""
    at_once = {op.id for op in graph if op.kind is OpKind.CALL
               and op.meta.get("reason") in _RUN_AT_ONCE}
    now = xcs.analyze(_rebuild(graph, set(), at_once))
    groups: dict[tuple[str, str, str], set[int]] = {}
    blocking: set[tuple[str, str, str]] = set()
    for op, kind, reason, blocks in _ordering_points(graph, now):
        key = (tidy_paths(op.site), kind, reason)
        groups.setdefault(key, set()).add(op.id)
        if blocks:
            blocking.add(key)
    groups = {key: ids for key, ids in groups.items() if key in blocking}
    every = set().union(*groups.values())

    def fixed(ids: set[int]) -> Any:
        return xcs.analyze(_rebuild(graph, ids, at_once - ids))

    none = fixed(every)
    found = []
    for (site, kind, reason), ids in groups.items():
        cost = max(0.0, fixed(every - ids).critical_time - none.critical_time)
        found.append(Blocker(site, reason, kind, len(ids), cost,
                             fixed(ids).predicted_speedup(workers),
                             suggestion(kind, reason, len(ids)) if cost > 0 else NO_GAIN))
    found.sort(key=lambda b: (-b.cost, -b.predicted_if_fixed, b.site, b.reason))
    chosen: set[int] = set()
    together: list[str] = []
    gain = now.predicted_speedup(workers)
    for b in (b for b in found if b.cost > 0):
        chosen |= groups[(b.site, b.kind, b.reason)]
        together.append(b.site)
        gain = fixed(chosen).predicted_speedup(workers)
        if gain >= now.predicted_speedup(workers) * GAIN:
            break
    else:
        together = []
    return Blocking(tuple(found), now.predicted_speedup(workers),
                    none.predicted_speedup(workers), tuple(together), gain)


def _ordering_points(graph: ComputationGraph, analysis: Any
                     ) -> Iterable[tuple[Operation, str, str, bool]]:
    """(operation, kind, reason, blocking) of each place that orders what follows it;
    blocking: calls follow it (a sync point also: it waited for a call's value)."""
    last_call = max((op.id for op in graph if op.kind is OpKind.CALL), default=-1)
    blocking = {p.op_id for p in analysis.sync_points if p.blocking}
    for op in graph:
        if op.kind is OpKind.SYNC:
            yield op, "sync", str(op.meta.get("reason", "")), op.id in blocking
        elif op.kind is OpKind.CALL and op.effect:
            yield (op, "effect", f"effect {op.target}(): waits for every earlier call",
                   op.id < last_call)
        elif op.kind is OpKind.CALL and op.meta.get("reason") in _RUN_AT_ONCE:
            kind = _RUN_AT_ONCE[op.meta["reason"]]
            yield op, kind, f"{op.target}() {_WHERE[kind]} runs at once", op.id < last_call


def _rebuild(graph: ComputationGraph, removed: set[int], at_once: set[int]
             ) -> ComputationGraph:
    """``graph`` with control edges derived again, as ``nodes.build_graph`` does: each
    operation after a barrier (a sync point, an effect, a call in ``at_once``) waits
    for it, an effect for every call since the last effect.  Operations in
    ``removed`` order nothing (an effect there is an ordinary call)."""
    ops: list[Operation] = []
    barrier: int | None = None
    epoch: list[int] = []
    for op in graph:
        data = {graph.producer(r).id for r in op.inputs}
        control: list[int] = []
        if op.kind is not OpKind.INPUT and barrier is not None and barrier not in data:
            control.append(barrier)
        active = op.id not in removed
        if op.effect and active:
            control.extend(s for s in epoch if s not in data and s != barrier)
            epoch = []
        if active and (op.kind is OpKind.SYNC or op.effect or op.id in at_once):
            barrier = op.id
        elif op.kind is not OpKind.INPUT:
            epoch.append(op.id)
        ops.append(replace(op, control=tuple(control)))
    return ComputationGraph(ops, graph.outputs)


def suggestion(kind: str, reason: str, count: int) -> str:
    """A concrete change for one blocker (``count`` > 1: it sits in a loop)."""
    loop = count > 1
    if kind == "effect":
        return ("move it after the calls that follow it (collect what it writes, then "
                "write once after them)" + ("; in a loop: one write after the loop" if loop
                                            else ""))
    if kind == "try":
        return ("a call in a try/with body runs at once so that the same except sees its "
                "error; move the try/with around the code that uses the results, after the "
                "calls, so they are dispatched together")
    if kind == "changes":
        return ("it changes a list or dict it is given, so each call runs at once, in order, "
                "as plain Python would show the change; return the new value instead "
                "(history = history + [reply]) so its calls can run in parallel")
    if kind == "uncompiled":
        return ("code xcs does not compile (a property, __init__, a callback) made this call, "
                "so it runs at once; call it from your own function instead")
    if reason.startswith("truth test"):
        return ("test after the loop: collect the results first, then branch on them" if loop
                else "branch after the calls that do not depend on this value")
    if reason.startswith("xcs.value"):
        return ("hoist it: call xcs.value once on the whole list after the loop" if loop
                else "call xcs.value later, after the calls that do not need the value")
    if reason.startswith("passed to"):
        return ("build the list first, then pass it once after the loop (or make that step "
                "an @xcs.op)" if loop else "pass the value after the calls that do not need "
                "it, or make that step an @xcs.op")
    if reason.startswith(("formatting", "str()", "repr()")):
        return "format the values after the loop" if loop else "format the value after the calls"
    return ("Python needs the value here: move this line after the calls that do not depend "
            "on it" + (", i.e. after the loop" if loop else ""))


def report_lines(advice: Advice, indent: str = "  ") -> list[str]:
    """The advice as lines under the test's name in ``--xcs-report`` (within ``WIDTH``)."""
    lines: list[str] = []
    if advice.slow_calls:
        lines.append(f"{indent}slow calls that are not leaf calls ("
                     f"{1 - advice.leaf_share:.0%} of {format_seconds(advice.wall)} "
                     "outside leaf calls):")
        for s in advice.slow_calls:
            lines += _wrap(f"{s.callee} at {s.site}: {s.count} call(s), "
                           f"{format_seconds(s.seconds)} ({s.share:.0%})", indent + "  ")
            lines += _wrap(f"fix: {s.fix}; in a test: @pytest.mark.xcs_parallel("
                           f"leaves=[{s.callee}])", indent + "    ")
    if advice.blockers:
        lines.append(f"{indent}what blocks parallelism (time it adds to the critical path):")
        for b in advice.blockers:
            times = f", {b.count} times" if b.count > 1 else ""
            lines += _wrap(f"+{format_seconds(b.cost)}  {b.site}: {b.reason}{times}",
                           indent + "  ")
            lines += _wrap(f"fix: {b.suggestion}", indent + "    ")
    if advice.top and advice.predicted_if_fixed is not None:
        bound = "up to " if advice.slow_calls else ""
        lines += _wrap(f"top suggestion: {advice.top}", indent)
        more = (f", {advice.predicted_all_fixed:.2f}x with all {len(advice.blockers)} fixed"
                if len(advice.blockers) > 1 and not advice.slow_calls
                and advice.predicted_if_fixed != advice.predicted_all_fixed else "")
        lines += _wrap(f"predicted speedup {advice.predicted:.2f}x now, {bound}"
                       f"{advice.predicted_if_fixed:.2f}x once applied{more}", indent + "  ")
    return lines


def _wrap(text: str, indent: str) -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=indent,
                         subsequent_indent=indent + "  ", break_on_hyphens=False)
