"""Pattern matching on the IR: maps and reduces.

* Map: two or more leaf calls of the same callable from the same call site
  (a loop or comprehension) on the same call level, so none depends on
  another.  Reported as ``file:line xN``.
* Reduce: a leaf call that consumes (directly or through glue such as item
  access) the outputs of two or more members of one map, like a judge that
  reads every answer.

Both are found in one pass over program order using the call levels from
``xcs_core.analysis``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from xcs_core.ir import ComputationGraph, OpKind

__all__ = ["MapPattern", "Patterns", "ReducePattern", "find_patterns"]

_SOURCE_CAP = 4096  # glue fan-in tracked per value; beyond it a reduce may go unreported


@dataclass(frozen=True)
class MapPattern:
    """Independent calls of one callable from one call site."""

    target: str
    site: str
    op_ids: tuple[int, ...]
    loop: str = ""  # the independent loop or comprehension it sits in (xcs_core.loops)

    @property
    def size(self) -> int:
        return len(self.op_ids)

    def describe(self) -> str:
        # a loop on the call's own line (a one-line comprehension) adds nothing
        where = f" ({self.loop})" if self.loop and not self.loop.endswith(self.site) else ""
        return f"{self.site} x{self.size} {self.target}{where}"


@dataclass(frozen=True)
class ReducePattern:
    """A call that consumes the outputs of a map."""

    target: str
    site: str
    op_id: int
    map_site: str
    inputs: int

    def describe(self) -> str:
        return f"{self.site} {self.target} <- {self.map_site} x{self.inputs}"


@dataclass(frozen=True)
class Patterns:
    maps: tuple[MapPattern, ...]
    reduces: tuple[ReducePattern, ...]


def find_patterns(graph: ComputationGraph, levels: list[list[int]]) -> Patterns:
    """Maps and reduces of ``graph`` given its call levels."""
    groups: dict[tuple[str, str, int], list[int]] = defaultdict(list)
    for lv, ids in enumerate(levels):
        for op_id in ids:
            op = graph[op_id]
            groups[(op.target, op.site, lv)].append(op_id)
    maps = tuple(MapPattern(t, s, tuple(ids), str(graph[ids[0]].meta.get("loop") or ""))
                 for (t, s, _), ids in groups.items() if len(ids) > 1)
    member = {op_id: i for i, m in enumerate(maps) for op_id in m.op_ids}
    sources: dict[int, frozenset[int]] = {}
    reduces = []
    for op in graph:
        feeding: set[int] = set()
        for ref in op.inputs:
            producer = graph.producer(ref)
            if producer.kind is OpKind.CALL:
                feeding.add(producer.id)
            elif producer.kind is OpKind.GLUE:
                feeding.update(sources.get(producer.id, ()))
        if op.kind is OpKind.GLUE:
            if len(feeding) <= _SOURCE_CAP:
                sources[op.id] = frozenset(feeding)
            continue
        if op.kind is not OpKind.CALL:
            continue
        counts: dict[int, int] = defaultdict(int)
        for call_id in feeding:
            if call_id in member:
                counts[member[call_id]] += 1
        for index, n in counts.items():
            if n > 1:
                reduces.append(ReducePattern(op.target, op.site, op.id, maps[index].site, n))
    return Patterns(maps, tuple(reduces))
