"""Call sites: where in the user's code an operation happened.

Two questions are answered here, both cheaply enough for every leaf call:

* ``user_frame()`` - the innermost frame outside the xcs packages, whose
  ``file:line`` names the call site in reports and error messages.
* ``identity_tested(frame)`` - will the calling function compare the result
  of the call now running with ``is`` / ``is not`` (directly, or through the
  local it is stored in)?  A stand-in cannot pass an identity test, so such
  calls also run synchronously.  Found from the caller's bytecode, once per
  code object.
* ``guarded(frame, boundary)`` - is this call lexically inside a ``try``
  statement with handlers, in any frame between the call and the jit
  boundary?  Such a call must raise *at its own line* so that the same
  ``except`` catches it, so the runtime runs it synchronously instead of
  deferring it.  The answer is computed once per source file (all lines
  inside ``try`` bodies) and is conservative: code without source counts as
  guarded.
"""

from __future__ import annotations

import ast
import bisect
import dis
import linecache
import os
import sys
import textwrap
import threading
from types import CodeType, FrameType

__all__ = ["Site", "awaited", "format_site", "guarded", "identity_tested", "site_of",
           "user_frame"]

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep
_EXAMPLES = _PACKAGE + "examples" + os.sep
_guarded_lines: dict[CodeType, frozenset[int] | None] = {}
_guarded_files: dict[str, frozenset[int] | None] = {}
_lock = threading.Lock()


def _internal(filename: str) -> bool:
    return filename.startswith(_PACKAGE) and not filename.startswith(_EXAMPLES)


def user_frame(depth: int = 1) -> FrameType | None:
    """The innermost caller frame that is not xcs code (``None`` if there is none)."""
    frame: FrameType | None = sys._getframe(depth)
    while frame is not None and _internal(frame.f_code.co_filename):
        frame = frame.f_back
    return frame


Site = tuple[str, int]


def site_of(frame: FrameType | None) -> Site | None:
    """The raw ``(filename, line)`` of a frame: cheap enough for every call."""
    return None if frame is None else (frame.f_code.co_filename, frame.f_lineno)


def format_site(where: FrameType | Site | None) -> str:
    """``path:line`` of a frame or raw site, the path relative to the working directory."""
    if where is None:
        return "<unknown>"
    if isinstance(where, tuple):
        return f"{short_path(where[0])}:{where[1]}"
    return f"{short_path(where.f_code.co_filename)}:{where.f_lineno}"


_short: dict[tuple[str, str], str] = {}


def short_path(filename: str) -> str:
    """A path relative to the working directory when that is shorter (cached)."""
    cwd = os.getcwd()
    try:
        return _short[(cwd, filename)]
    except KeyError:
        pass
    try:
        rel = os.path.relpath(filename, cwd)
    except ValueError:  # pragma: no cover - other drive on Windows
        rel = filename
    _short[(cwd, filename)] = result = rel if len(rel) < len(filename) else filename
    return result


def _try_lines(filename: str, first: int = 1, last: int | None = None
               ) -> frozenset[int] | None:
    """Lines inside ``try`` bodies (with handlers) of lines ``first..last`` of a file."""
    all_lines = linecache.getlines(filename)
    if not all_lines:
        return None
    source = textwrap.dedent("".join(all_lines[first - 1:last]))
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    ast.increment_lineno(tree, first - 1)
    lines: set[int] = set()
    stack: list[ast.AST] = [tree]
    while stack:  # statements only: a try is never inside an expression
        node = stack.pop()
        if isinstance(node, _TRY_TYPES) and node.handlers:
            first, last = node.body[0].lineno, node.body[-1].end_lineno or node.body[-1].lineno
            lines.update(range(first, last + 1))
        for name in _BODIES:
            block = getattr(node, name, None)
            if block:
                stack.extend(block)
    return frozenset(lines)


_TRY_TYPES = tuple(t for t in (getattr(ast, "Try", None), getattr(ast, "TryStar", None)) if t)
_BODIES = ("body", "orelse", "finalbody", "handlers", "cases")


def _lines_for(code: CodeType) -> frozenset[int] | None:
    """Guarded lines of ``code``: from its own source lines, else from its whole file."""
    try:
        return _guarded_lines[code]
    except KeyError:
        pass
    numbers = [line for _, _, line in code.co_lines() if line is not None]
    lines = _try_lines(code.co_filename, code.co_firstlineno,
                       max(numbers, default=code.co_firstlineno))
    if lines is None:  # the segment does not parse alone (e.g. a lambda mid-expression)
        lines = _file_lines(code.co_filename)
    with _lock:
        _guarded_lines[code] = lines
    return lines


def _file_lines(filename: str) -> frozenset[int] | None:
    try:
        return _guarded_files[filename]
    except KeyError:
        pass
    lines = _try_lines(filename)
    with _lock:
        _guarded_files[filename] = lines
    return lines


def guarded(frame: FrameType | None, boundary: FrameType | CodeType | None) -> bool:
    """True if a frame from ``frame`` up to the jit boundary is inside a ``try``.

    ``boundary`` is the boundary's frame (not checked) or, for a jitted coroutine,
    the coroutine's code (its frame is the last one checked: above it are the
    event loop's own frames).
    """
    while frame is not None and frame is not boundary:
        filename = frame.f_code.co_filename
        if not _internal(filename):
            lines = _lines_for(frame.f_code)
            if lines is None or frame.f_lineno in lines:
                return True
        if frame.f_code is boundary:
            return False
        frame = frame.f_back
    return False


_LOADS = frozenset({"LOAD_FAST", "LOAD_FAST_CHECK", "LOAD_DEREF", "LOAD_NAME", "LOAD_GLOBAL",
                    "LOAD_FAST_LOAD_FAST", "LOAD_CLASSDEREF"})
_STORES = frozenset({"STORE_FAST", "STORE_DEREF", "STORE_NAME", "STORE_GLOBAL"})
_OPERAND_PARTS = frozenset({"LOAD_CONST", "LOAD_ATTR", "LOAD_METHOD", "PRECALL", "PUSH_NULL",
                            "KW_NAMES", "BINARY_SUBSCR", "COPY", "SWAP", "CACHE"})
_Identity = tuple[frozenset[str], dict[int, str], frozenset[int], list[int], frozenset[int]]
_AWAIT_PARTS = frozenset({"GET_AWAITABLE", "LOAD_CONST", "SEND", "YIELD_VALUE", "RESUME",
                          "JUMP_BACKWARD_NO_INTERRUPT", "END_SEND", "CLEANUP_THROW", "CACHE",
                          "NOP"})
_identity: dict[object, _Identity] = {}


def _is_identity_test(opname: str) -> bool:
    return opname == "IS_OP" or (opname.startswith("POP_JUMP") and "NONE" in opname)


def _identity_info(code: object) -> _Identity:
    """(names tested with ``is``, call offset -> local its result is stored in, calls whose
    result is tested directly, sorted instruction offsets)."""
    instructions = list(dis.get_instructions(code))
    names: set[str] = set()
    direct: set[int] = set()
    stored: dict[int, str] = {}
    awaited: set[int] = set()
    for i, ins in enumerate(instructions):
        if ins.opname.startswith("CALL") and i + 1 < len(instructions):
            j = i + 1
            if instructions[j].opname == "GET_AWAITABLE":  # result = await call(...)
                awaited.add(ins.offset)
                while j < len(instructions) and instructions[j].opname in _AWAIT_PARTS:
                    j += 1
            if j < len(instructions) and instructions[j].opname in _STORES:
                stored[ins.offset] = str(instructions[j].argval)
        if _is_identity_test(ins.opname):
            for prev in reversed(instructions[max(0, i - 6):i]):
                if prev.opname in _LOADS:
                    argval = prev.argval
                    names.update(argval if isinstance(argval, tuple) else (str(argval),))
                elif prev.opname.startswith("CALL"):
                    direct.add(prev.offset)
                elif prev.opname not in _OPERAND_PARTS and prev.opname not in _AWAIT_PARTS:
                    break  # the comparison's operands end here (a store, a jump, ...)
    info = (frozenset(names), stored, frozenset(direct), [i.offset for i in instructions],
            frozenset(awaited))
    _identity[code] = info
    return info


def _call_offset(frame: FrameType) -> tuple[_Identity, int]:
    info = _identity.get(frame.f_code) or _identity_info(frame.f_code)
    offsets = info[3]
    # f_lasti may point into the call's inline cache entries: use the instruction holding it
    return info, offsets[max(0, bisect.bisect_right(offsets, frame.f_lasti) - 1)]


def identity_tested(frame: FrameType | None) -> bool:
    """True if the caller compares the result of the call running now with ``is``
    (directly, or through the local it is stored in, also after ``await``)."""
    if frame is None:
        return False
    (names, stored, direct, _, _), offset = _call_offset(frame)
    return offset in direct or stored.get(offset, "") in names


def awaited(frame: FrameType | None) -> bool:
    """True if the caller awaits the result of the call running now."""
    if frame is None:
        return False
    info, offset = _call_offset(frame)
    return offset in info[4]
