"""Which loop a call sits in: the static half of the analysis, read from the source.

A traced graph knows that eight calls of ``ask`` came from one call site; the
source knows that the site is inside ``for model in models:`` (or a
comprehension) and whether that loop's iterations depend on each other.
``loop_at(filename, line)`` answers from the file's syntax tree (parsed once
per file and cached while the file is unchanged): the innermost comprehension,
or ``for`` loop whose body carries no value from one iteration to the next,
that contains a call on ``line``.  ``nodes.build_graph`` records it as
``meta["loop"]`` on every call, so maps in reports read
``app.py:14 x8 ask (for loop at app.py:12)``.

A ``for`` loop counts as independent when no name assigned in its body is read
before it is assigned, and the body holds no nested control flow that could
carry state (``while``, ``if``, ``try``, ``with``, ``break``, ``return``); an
``append``/``add`` of the result is allowed.  It is a description for people,
never a scheduling decision: what runs in parallel is decided by the dataflow.
"""

from __future__ import annotations

import ast
import linecache

from xcs_core.sites import short_path

__all__ = ["loop_at"]

_CARRYING = (ast.AugAssign, ast.While, ast.If, ast.With, ast.Try, ast.Return, ast.Break,
             ast.Continue)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)
_files: dict[str, tuple[tuple[str, ...], dict[int, str]]] = {}


def loop_at(filename: str, line: int) -> str:
    """``"for loop at file:line"`` / ``"comprehension at file:line"`` for a call on
    ``line`` of ``filename`` inside an independent loop, else ``""``."""
    lines = tuple(linecache.getlines(filename))
    if not lines:
        return ""
    hit = _files.get(filename)
    if hit is None or hit[0] != lines:
        hit = _files[filename] = (lines, _index(filename, "".join(lines)))
    return hit[1].get(line, "")


def _index(filename: str, source: str) -> dict[int, str]:
    """Call line -> description of the innermost independent loop around it."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    shown = short_path(filename)
    found: dict[int, tuple[int, str]] = {}  # line -> (loop start, description)
    for node in ast.walk(tree):
        if isinstance(node, _COMPREHENSIONS):
            kind, body = "comprehension", [node]
        elif isinstance(node, ast.For) and not node.orelse and not _carried(node.body):
            kind, body = "for loop", node.body
        else:
            continue
        for part in body:
            for call in ast.walk(part):
                if isinstance(call, ast.Call) and not _is_append(call):
                    best = found.get(call.lineno)
                    if best is None or node.lineno >= best[0]:  # the innermost wins
                        found[call.lineno] = (node.lineno, f"{kind} at {shown}:{node.lineno}")
    return {line: text for line, (_, text) in found.items()}


def _names(node: ast.AST, ctx: type) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ctx)}


def _carried(body: list[ast.stmt]) -> bool:
    """True if a name assigned in the body is read before its assignment (loop-carried)."""
    assigned: set[str] = set()
    all_assigned = {n for s in body for n in _names(s, ast.Store)}
    for stmt in body:
        if isinstance(stmt, _CARRYING):
            return True
        if _names(stmt, ast.Load) & (all_assigned - assigned):
            return True
        assigned |= _names(stmt, ast.Store)
    return False


def _is_append(call: ast.Call) -> bool:
    return isinstance(call.func, ast.Attribute) and call.func.attr in ("append", "add")
