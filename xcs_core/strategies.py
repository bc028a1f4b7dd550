"""Strategies that produce the IR: by running (trace), by reading (static), or both.

All three implement ``Strategy.graph(fn, *args, **kwargs) -> ComputationGraph``:

* ``TraceStrategy`` runs ``fn`` once (``xcs.trace``): exact, needs inputs.
* ``StaticStrategy`` reads ``fn``'s source with ``ast`` before anything runs and
  finds loops (``for x in xs: out.append(f(x))``) and comprehensions whose
  iterations are independent.  Each call found there becomes one CALL
  operation with ``meta["loop"]`` describing the loop; the trip count is
  unknown (``meta["count"] is None``).
* ``HybridStrategy`` traces, then marks every traced call whose line lies in
  an independent loop with that loop, so reports name it
  (``file:line x8 ask (comprehension at file:line)``).
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol

from xcs_core.ir import ComputationGraph, Operation, OpKind, ValueRef
from xcs_core.sites import short_path
from xcs_core.tracing import trace

__all__ = ["HybridStrategy", "Loop", "StaticStrategy", "Strategy", "TraceStrategy",
           "independent_loops"]


class Strategy(Protocol):
    """Builds the dataflow graph of ``fn`` for the given arguments."""

    def graph(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> ComputationGraph: ...


@dataclass(frozen=True)
class Loop:
    """An independent loop or comprehension and one call inside it."""

    kind: str  # "for loop" or "comprehension"
    file: str
    line: int
    call_line: int
    call: str

    def describe(self) -> str:
        return f"{self.kind} at {short_path(self.file)}:{self.line}"


def _name(node: ast.AST) -> str:
    try:
        return ast.unparse(node)
    except Exception:  # pragma: no cover - unparse handles every expression node
        return "<call>"


def _names(node: ast.AST, ctx: type) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ctx)}


def _carried(body: list[ast.stmt]) -> bool:
    """True if a name assigned in the body is read before its assignment (loop-carried)."""
    assigned: set[str] = set()
    for stmt in body:
        if isinstance(stmt, (ast.AugAssign, ast.While, ast.For, ast.If, ast.With, ast.Try,
                             ast.Return, ast.Break, ast.Continue)):
            return True
        stored = _names(stmt, ast.Store)
        loaded = _names(stmt, ast.Load)
        all_assigned = {n for s in body for n in _names(s, ast.Store)}
        if loaded & (all_assigned - assigned):
            return True
        assigned |= stored
    return False


def independent_loops(fn: Callable[..., Any]) -> list[Loop]:
    """Loops and comprehensions of ``fn`` whose iterations do not depend on each other."""
    target = inspect.unwrap(getattr(fn, "fn", fn))
    target = getattr(target, "__func__", target)
    try:
        lines, start = inspect.getsourcelines(target)
        filename = inspect.getsourcefile(target) or "<unknown>"
    except (OSError, TypeError):
        return []
    tree = ast.parse(textwrap.dedent("".join(lines)))
    offset = start - 1
    found: list[Loop] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            kind, body = "comprehension", [node]
        elif isinstance(node, ast.For) and not node.orelse and not _carried(node.body):
            kind, body = "for loop", node.body
        else:
            continue
        for part in body:
            for call in ast.walk(part):
                if isinstance(call, ast.Call) and not _is_append(call):
                    found.append(Loop(kind, filename, node.lineno + offset,
                                      call.lineno + offset, _name(call.func)))
    return found


def _is_append(call: ast.Call) -> bool:
    return isinstance(call.func, ast.Attribute) and call.func.attr in ("append", "add")


class TraceStrategy:
    """The graph of one real run (``xcs.trace``)."""

    def graph(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> ComputationGraph:
        return trace(fn, *args, **kwargs).graph


class StaticStrategy:
    """The calls in ``fn``'s independent loops, found from the source alone."""

    def graph(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> ComputationGraph:
        ops = []
        for i, loop in enumerate(independent_loops(fn)):
            site = f"{short_path(loop.file)}:{loop.call_line}"
            ops.append(Operation(i, OpKind.CALL, loop.call, (), (ValueRef(i),), (), site,
                                 meta={"loop": loop.describe(), "count": None}))
        return ComputationGraph(ops)


class HybridStrategy:
    """A traced graph whose calls in independent loops name their loop."""

    def graph(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> ComputationGraph:
        traced = trace(fn, *args, **kwargs).graph
        return annotate_loops(traced, independent_loops(fn))


def annotate_loops(graph: ComputationGraph, loops: list[Loop]) -> ComputationGraph:
    """Copy of ``graph`` with ``meta["loop"]`` on calls made at a loop's call line."""
    by_site = {f"{short_path(loop.file)}:{loop.call_line}": loop.describe() for loop in loops}
    ops = []
    for op in graph:
        loop = by_site.get(op.site) if op.kind is OpKind.CALL else None
        ops.append(replace(op, meta={**op.meta, "loop": loop}) if loop else op)
    return ComputationGraph(ops, graph.outputs)
