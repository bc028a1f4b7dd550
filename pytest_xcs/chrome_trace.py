"""A parallel run as Chrome trace events: open it in Perfetto (ui.perfetto.dev),
``chrome://tracing`` or speedscope.

The file is the JSON object form of the Trace Event Format:

* one complete event (``"ph": "X"``) per leaf call, on the lane (``tid``) of the
  worker thread that ran it, with ``args``: the call site, whether the call is
  on the critical path, and its operation number;
* a flow (``"ph": "s"`` at the end of the producing call, ``"ph": "f"`` at the
  start of the consuming one) for every data edge between two calls, also
  when the value went through glue (arithmetic, indexing) on the way;
* thread-name metadata (``"ph": "M"``) naming each lane.

Times are microseconds from the first call's start.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from xcs_core.analysis import analyze
from xcs_core.ir import OpKind
from xcs_core.nodes import build_graph
from xcs_core.sites import format_site

__all__ = ["Lanes", "critical_calls", "render", "write_chrome_trace"]


class Lanes:
    """The leaf calls of a run, by worker thread in order of first use."""

    def __init__(self, nodes: list[Any]) -> None:
        self.calls = sorted((n for n in nodes if n.kind is OpKind.CALL and n.end > 0),
                            key=lambda n: n.start)
        self._lane = {w: i for i, w in enumerate(dict.fromkeys(n.worker for n in self.calls))}
        self.t0 = min((n.start for n in self.calls), default=0.0)
        self.span = max(max((n.end for n in self.calls), default=0.0) - self.t0, 1e-9)

    def __len__(self) -> int:
        return len(self._lane)

    def index(self, node: Any) -> int:
        return self._lane[node.worker]

    def names(self) -> list[str]:
        """``calling thread`` for the thread that writes the file, else ``worker N``."""
        here = threading.get_ident()
        return ["calling thread" if w == here else f"worker {i + 1}"
                for i, w in enumerate(self._lane)]


def critical_calls(nodes: list[Any]) -> set[int]:
    """Operation numbers on the run's critical path."""
    return set(analyze(build_graph(nodes)).critical_path) if nodes else set()


def _producers(node: Any, memo: dict[int, set[Any]]) -> set[Any]:
    """The leaf calls whose values reach ``node``, looking through glue."""
    found: set[Any] = set()
    for dep in node.inputs:
        if dep.kind is OpKind.CALL:
            found.add(dep)
        else:
            if dep.seq not in memo:
                memo[dep.seq] = _producers(dep, memo)
            found |= memo[dep.seq]
    return found


def _us(seconds: float) -> float:
    return round(seconds * 1e6, 3)


def render(nodes: list[Any], title: str) -> dict[str, Any]:
    """The trace-event document of the leaf calls among ``nodes``."""
    lanes, critical = Lanes(nodes), critical_calls(nodes)
    events: list[dict[str, Any]] = [
        {"ph": "M", "pid": 1, "tid": 0, "name": "process_name", "args": {"name": title}}]
    events += [{"ph": "M", "pid": 1, "tid": i + 1, "name": "thread_name", "args": {"name": name}}
               for i, name in enumerate(lanes.names())]
    ids = {n.seq for n in lanes.calls}
    for n in lanes.calls:
        events.append({"ph": "X", "pid": 1, "tid": lanes.index(n) + 1, "name": n.target,
                       "cat": "call", "ts": _us(n.start - lanes.t0), "dur": _us(n.end - n.start),
                       "args": {"site": format_site(n.site), "critical_path": n.seq in critical,
                                "op": n.seq}})
    memo: dict[int, set[Any]] = {}
    flow = 0
    for n in lanes.calls:
        for src in sorted(_producers(n, memo), key=lambda s: s.seq):
            if src.seq not in ids:
                continue
            flow += 1
            inside = max(src.end - min(1e-6, (src.end - src.start) / 2), src.start)
            events.append({"ph": "s", "pid": 1, "tid": lanes.index(src) + 1, "id": flow,
                           "name": "data", "cat": "data", "ts": _us(inside - lanes.t0)})
            events.append({"ph": "f", "bp": "e", "pid": 1, "tid": lanes.index(n) + 1,
                           "id": flow, "name": "data", "cat": "data",
                           "ts": _us(n.start - lanes.t0)})
    return {"traceEvents": events, "displayTimeUnit": "ms",
            "otherData": {"test": title, "producer": "pytest-xcs"}}


def write_chrome_trace(nodes: list[Any], title: str, path: Path) -> Path:
    """Write the trace events of ``nodes`` to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(render(nodes, title), indent=1), encoding="utf-8")
    return path
