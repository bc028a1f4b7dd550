"""Compiled twins of the user's functions: classified once per code object, bound once.

``calls.call`` asks ``target(fn)`` for every plain function it is given:

* ``COMPILED``: ``fn`` is already compiled code (a function, lambda or generator
  defined inside a compiled function): call it as it is;
* ``TWIN``: the user's code (``compiler.is_user_code``): call its compiled twin,
  compiled on first use and bound once per function object (cached weakly);
* ``FOREIGN``: the standard library, an installed package, xcs itself, or user
  code that cannot be compiled (one ``XcsWarning`` names it and says why).
"""

from __future__ import annotations

import sys
import types
import warnings
import weakref
from typing import Any

from xcs_core import compiler
from xcs_core.errors import XcsWarning

__all__ = ["COMPILED", "FAST", "FOREIGN", "TWIN", "install", "target", "twin_of"]

COMPILED, TWIN, FOREIGN = range(3)
_codes: dict[int, tuple[types.CodeType, int, Any]] = {}
#: id(function) -> (weak reference, twin or ``None`` for "call it as it is"), for every
#: function whose calls from compiled code need no more than that (read by calls.call)
FAST: dict[int, tuple[weakref.ref, types.FunctionType | None]] = {}
_cells: dict[str, Any] = {}  # the helpers' cells, bound by intrinsics


def install(cells: dict[str, Any]) -> None:
    """Bind the cells of the helpers compiled code calls (``compiler.HELPERS``)."""
    _cells.update(cells)


def _entry(fn: types.FunctionType) -> tuple[types.CodeType, int, Any]:
    """``(code, kind, compiled)`` of ``fn``'s code object, classified once."""
    code = fn.__code__
    entry = _codes.get(id(code))
    if entry is None or entry[0] is not code:
        entry = _classify(fn, code)
    return entry


def target(fn: types.FunctionType) -> tuple[int, Any]:
    """``(kind, callable)`` for a call of ``fn`` from compiled code (see module doc)."""
    entry = _entry(fn)
    if entry[1] == TWIN:
        return TWIN, _twin(fn, entry[2])
    if entry[1] == COMPILED:
        _remember(fn, None)
    return entry[1], fn


def _remember(fn: types.FunctionType, twin: types.FunctionType | None) -> None:
    key_ = id(fn)
    FAST[key_] = (weakref.ref(fn, lambda _ref: FAST.pop(key_, None)), twin)


def _classify(fn: types.FunctionType, code: types.CodeType) -> tuple[types.CodeType, int, Any]:
    compiled = None
    if compiler.is_compiled(code):
        kind = COMPILED
    elif compiler.is_user_code(code):
        compiled, reason = compiler.compile_code(code, fn.__qualname__, _cells)
        kind = TWIN if compiled is not None else FOREIGN
        if compiled is None:
            _warn_uncompiled(fn, reason)
    else:
        kind = FOREIGN
    entry = (code, kind, compiled)
    _codes[id(code)] = entry
    return entry


def _warn_uncompiled(fn: Any, reason: str) -> None:
    code = fn.__code__
    warnings.warn(
        f"xcs.jit: {fn.__qualname__} ({code.co_filename}:{code.co_firstlineno}) runs as plain "
        f"Python, because {reason}: its leaf calls run one at a time and pending values "
        "passed to it are waited for", XcsWarning, stacklevel=4)


def _twin(fn: types.FunctionType, compiled: compiler.Compiled) -> types.FunctionType:
    """``fn``'s compiled twin, bound once per function object (kept in ``FAST``)."""
    hit = FAST.get(id(fn))
    if hit is not None and hit[0]() is fn and hit[1] is not None:
        return hit[1]
    twin = compiled.bind(fn)
    _remember(fn, twin)
    return twin


def twin_of(fn: Any) -> Any:
    """The compiled twin of a jitted function (``fn`` itself, with one warning, when it
    cannot be compiled)."""
    if type(fn) is not types.FunctionType:
        return fn
    code = fn.__code__
    known = _codes.get(id(code))
    entry = _entry(fn)
    if entry is not known:  # classified just now: say once why it runs plainly
        if entry[1] == FOREIGN and not compiler.is_user_code(code):
            why = ("it is part of an installed package or the standard library"
                   if code.co_filename[:1] != "<" else "its source is not available")
            _warn_uncompiled(fn, f"{why} ({code.co_filename})")
    return _twin(fn, entry[2]) if entry[1] == TWIN else fn


#: Frames a call between the user's functions takes in compiled code (the helper, the
#: first run's timing, the function): at most this many per level of plain Python.
FRAMES_PER_CALL = 4
_recursion_scaled = [False]


def room_for_recursion() -> None:
    """On the first jitted or traced call, scale the interpreter's recursion limit so that
    compiled code recurses as deep as plain Python does under the limit the program set:
    each call between the user's functions takes up to ``FRAMES_PER_CALL`` frames in
    compiled code.  Once only, and never lowering it: later settings are left alone."""
    if not _recursion_scaled[0]:
        _recursion_scaled[0] = True
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, limit * FRAMES_PER_CALL))
