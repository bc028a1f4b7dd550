"""The compiling front end: a jitted function's source, rewritten so pending values are seen.

Design
------
A leaf call inside ``@xcs.jit`` returns a *pending value* (``values.Traced``)
at once.  Such a value may flow anywhere the compiled code can see; it is
forced (waited for) at the first place where plain Python would observe it.
Because the user's own code is compiled, every place where a pending value
could leave xcs's sight is a call, an identity test or a store written in that
code, and the compiler puts a small runtime helper there (``intrinsics``).
``rewrite.Transformer`` does the rewriting (its module has the table of what
is rewritten to what).

``calls.call`` decides by the callee what happens to pending arguments
(see its module).  Nothing here runs per call: a code object is compiled once,
on first use, and cached; the user's functions that compiled code calls are
compiled the same way, lazily, when first called from compiled code.

The helpers are free variables of the compiled code (cells shared by all
compiled functions), so the user's module globals are never touched.  The
transformed ``def`` is compiled inside a factory whose parameters are the
original free variables, and a method inside a class of the same name (for
private-name mangling and ``super()``'s ``__class__`` cell); the code object
is taken out of the factory's constants and bound to the original globals,
defaults and closure cells, so ``nonlocal`` writes and ``super()`` keep
working.  Line numbers and file names are those of the source, so tracebacks
and reports point at the user's lines.

Where this cannot be done (no source: a REPL, ``exec``; a lambda that shares its
line with another) ``compile_code`` returns ``None`` with the reason, and the
function runs as plain Python, its own leaf calls synchronously.
"""

from __future__ import annotations

import ast
import copy
import functools
import linecache
import os
import sys
import threading
import types
from collections.abc import Iterator
from typing import Any

from xcs_core.rewrite import Transformer

__all__ = ["HELPERS", "Compiled", "compile_code", "is_compiled", "is_user_code"]

#: Names of the helper cells, in the order of the factory's first parameters.
HELPERS = ("__xcs_call__", "__xcs_force__", "__xcs_key__", "__xcs_store__", "__xcs_stored__",
           "__xcs_guard__", "__xcs_grown__", "__xcs_mod__", "__xcs_failure__", "__xcs_names__",
           "__xcs_await__")
_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep
_EXAMPLES = _PACKAGE + "examples" + os.sep


@functools.cache
def _library_roots() -> tuple[str, ...]:
    """The folders of the standard library and of installed packages (from ``site``,
    which the interpreter has loaded, rather than ``sysconfig``: a first call costs
    milliseconds less)."""
    import site

    roots = {os.path.dirname(os.__file__)}  # the standard library (lib-dynload is inside)
    roots.update(getattr(site, "getsitepackages", list)())
    if site.ENABLE_USER_SITE:
        roots.add(site.getusersitepackages())
    roots.update(p for p in sys.path
                 if p.rstrip(os.sep).endswith(("site-packages", "dist-packages")))
    return tuple(os.path.join(os.path.realpath(r), "") for r in roots if r)


_user_files: dict[str, bool] = {}


def is_user_code(code: types.CodeType) -> bool:
    """True for code the user wrote: not the standard library, an installed package,
    xcs itself (its shipped examples excepted) or code without a file."""
    filename = code.co_filename
    try:
        return _user_files[filename]
    except KeyError:
        pass
    if filename.startswith("<") or not filename:
        result = False
    else:
        real = os.path.realpath(filename)
        result = not (real.startswith(_library_roots()) or
                      (real.startswith(_PACKAGE) and not real.startswith(_EXAMPLES)))
    _user_files[filename] = result
    return result


class Compiled:
    """A compiled code object and how to bind it to the original function's closure."""

    __slots__ = ("code", "cells")

    def __init__(self, code: types.CodeType, cells: tuple[Any, ...]) -> None:
        self.code = code
        # for each free variable of ``code``: an int (index into the original closure)
        # or a helper's shared cell
        self.cells = cells

    def bind(self, fn: types.FunctionType) -> types.FunctionType:
        """The compiled twin of ``fn``: same globals, name, defaults and cells."""
        closure = fn.__closure__ or ()
        cells = tuple(c if type(c) is types.CellType else closure[c] for c in self.cells)
        twin = types.FunctionType(self.code, fn.__globals__, fn.__name__, fn.__defaults__,
                                  cells or None)
        twin.__kwdefaults__ = fn.__kwdefaults__
        twin.__qualname__ = fn.__qualname__
        twin.__dict__.update(fn.__dict__)
        return twin


_lock = threading.Lock()
_compiled_ids: set[int] = set()   # ids of every code object that compiled code contains
_keep: list[types.CodeType] = []  # keeps those ids valid
_cache: dict[int, tuple[types.CodeType, Compiled | None, str]] = {}


def is_compiled(code: types.CodeType) -> bool:
    """True for code xcs produced (a compiled twin, or a function or lambda inside one)."""
    return id(code) in _compiled_ids


def compile_code(code: types.CodeType, qualname: str, helper_cells: dict[str, Any]
                 ) -> tuple[Compiled | None, str]:
    """``code`` compiled (cached per code object), or ``None`` and the reason it is not.

    ``qualname`` is the function's qualified name: a method is compiled inside a
    class of its class's name, so that private names are mangled as they were."""
    hit = _cache.get(id(code))
    if hit is not None and hit[0] is code:
        return hit[1], hit[2]
    try:
        compiled, reason = _compile(code, qualname, helper_cells), ""
    except _Unavailable as exc:
        compiled, reason = None, str(exc)
    with _lock:
        _cache[id(code)] = (code, compiled, reason)
        if compiled is not None:
            _register(compiled.code)
    return compiled, reason


def _register(code: types.CodeType) -> None:
    stack = [code]
    while stack:
        current = stack.pop()
        _compiled_ids.add(id(current))
        _keep.append(current)
        stack.extend(c for c in current.co_consts if isinstance(c, types.CodeType))


class _Unavailable(Exception):
    """The source of a code object cannot be compiled (the message says why)."""


def _compile(code: types.CodeType, qualname: str, helper_cells: dict[str, Any]) -> Compiled:
    node = _find_def(code)
    tree = _wrap(code, qualname, Transformer(node).rewrite())
    ast.fix_missing_locations(tree)
    try:
        factory = compile(tree, code.co_filename, "exec", dont_inherit=True)
    except SyntaxError as exc:  # pragma: no cover - the transform keeps valid syntax
        raise _Unavailable(f"its rewritten source does not compile ({exc})") from None
    new = _find_code(factory, code)
    cells: list[Any] = []
    for name in new.co_freevars:
        if name in helper_cells:
            cells.append(helper_cells[name])
        elif name in code.co_freevars:
            cells.append(code.co_freevars.index(name))
        else:
            raise _Unavailable(f"free variable {name!r} has no cell in the original")
    if set(code.co_freevars) - set(new.co_freevars):
        raise _Unavailable("its free variables changed when compiled")
    return Compiled(new, tuple(cells))


_Index = dict[int, list[ast.AST]]
_files: dict[str, tuple[tuple[str, ...], _Index | None]] = {}


def _definitions(filename: str) -> _Index:
    """The ``def`` and ``lambda`` nodes of a source file by first line (cached while the
    file's lines stay the same)."""
    linecache.checkcache(filename)  # the file may have changed since it was cached
    lines = tuple(linecache.getlines(filename))
    if not lines:
        raise _Unavailable("its source is not available (no file; a REPL or exec)")
    hit = _files.get(filename)
    if hit is None or hit[0] != lines:
        index: _Index | None = {}
        try:
            tree = ast.parse("".join(lines), filename)
        except SyntaxError:
            index = None
        else:
            for node in ast.walk(tree):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                    first = node.lineno
                    if not isinstance(node, ast.Lambda) and node.decorator_list:
                        first = node.decorator_list[0].lineno
                    index.setdefault(first, []).append(node)
        hit = _files[filename] = (lines, index)
    if hit[1] is None:
        raise _Unavailable(f"{filename} does not parse")
    return hit[1]


def _find_def(code: types.CodeType) -> ast.AST:
    """A copy of the ``def`` or ``lambda`` node of ``code`` in its file: the block of a
    ``def`` alone when it parses and matches, else from the whole file's index."""
    node = _own_block(code)
    if node is not None:
        return node
    candidates = _definitions(code.co_filename).get(code.co_firstlineno, ())
    found = [n for n in candidates if _matches(n, code)]
    if len(found) != 1:
        raise _Unavailable(f"{len(found)} definitions of {code.co_name!r} start on line "
                           f"{code.co_firstlineno}")
    return copy.deepcopy(found[0])


def _own_block(code: types.CodeType) -> ast.AST | None:
    """The ``def`` of ``code`` parsed from its own lines, at its lines and columns in the
    file: a first call parses the function, not its whole module.  ``None`` when that
    does not work (a lambda, a block that does not parse alone): the caller indexes the
    file.

    The block ends before the first line after it that starts code at its ``def``'s
    indentation or less.  Such a line may still belong to it (inside a string or
    brackets): then the part before it does not parse, and the next such line is tried.
    The first end at which the part parses is the block's end, as Python's own
    tokenizer would find it (and far cheaper than ``tokenize`` on a first call)."""
    if code.co_name == "<lambda>":
        return None
    linecache.checkcache(code.co_filename)
    lines = linecache.getlines(code.co_filename)
    first = code.co_firstlineno
    if not lines or first > len(lines):
        return None
    head = lines[first - 1]
    level = len(head) - len(head.lstrip())
    # an indented block (a method, a nested def) parses inside ``if 1:``
    prefix, shift = ("if 1:\n", first - 2) if level else ("", first - 1)
    for tries, end in enumerate(_block_ends(lines, first, level)):
        if tries == _BLOCK_TRIES:
            return None
        try:
            tree = ast.parse(prefix + "".join(lines[first - 1:end]), code.co_filename)
        except (SyntaxError, ValueError):
            continue
        node = tree.body[0].body[0] if level else tree.body[0]  # type: ignore[attr-defined]
        ast.increment_lineno(tree, shift)
        return node if _matches(node, code) else None
    return None


_BLOCK_TRIES = 8  # ends tried before indexing the whole file instead


def _block_ends(lines: list[str], first: int, level: int) -> Iterator[int]:
    """Candidate ends of the block starting on line ``first`` (see ``_own_block``)."""
    body = False  # decorators and a multi-line signature come before the body
    for index in range(first, len(lines)):
        line = lines[index]
        stripped = line.lstrip()
        if not stripped or stripped.startswith("#"):
            continue
        if len(line) - len(stripped) > level:
            body = True
        elif body:
            yield index
    yield len(lines)


def _matches(node: ast.AST, code: types.CodeType) -> bool:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        line = node.decorator_list[0].lineno if node.decorator_list else node.lineno
        return node.name == code.co_name and line == code.co_firstlineno
    if isinstance(node, ast.Lambda) and code.co_name == "<lambda>":
        names = [a.arg for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs]
        return (node.lineno == code.co_firstlineno and
                names == list(code.co_varnames[:len(names)]))
    return False


def _wrap(code: types.CodeType, qualname: str, node: ast.AST) -> ast.Module:
    """``def __xcs_factory__(<helpers>, <free variables>): [class C:] <node>``."""
    if isinstance(node, ast.Lambda):
        node = ast.Expr(node)
    body: ast.stmt = node  # type: ignore[assignment]
    owner = _owner_class(qualname)
    if owner:
        body = ast.ClassDef(name=owner, bases=[], keywords=[], body=[body], decorator_list=[],
                            **_NO_TYPE_PARAMS)
    params = [*HELPERS, *(v for v in code.co_freevars if v != "__class__")]
    args = ast.arguments(posonlyargs=[], args=[ast.arg(arg=p) for p in params], vararg=None,
                         kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[])
    # The name the definition binds (and its class's) is a global where the original
    # was defined at module level: so it must stay in the copy (recursion, ``C.method``)
    # rather than become a free variable of the factory, which never runs.
    bound = {owner or getattr(node, "name", "")} - {""} - set(params)
    factory = ast.FunctionDef(name="__xcs_factory__", args=args,
                              body=[ast.Global(names=sorted(bound))] * bool(bound) + [body],
                              decorator_list=[], returns=None, **_NO_TYPE_PARAMS)
    for extra in (factory, body):
        ast.copy_location(extra, node)
    return ast.Module(body=[factory], type_ignores=[])


_NO_TYPE_PARAMS: dict[str, Any] = {"type_params": []} if "type_params" in ast.ClassDef._fields \
    else {}


def _owner_class(qualname: str) -> str:
    """The class a method is defined in (from its qualified name), if any."""
    parts = qualname.split(".")
    if len(parts) >= 2 and parts[-2] != "<locals>":
        return parts[-2]
    return ""


def _find_code(factory: types.CodeType, original: types.CodeType) -> types.CodeType:
    stack = list(factory.co_consts)
    while stack:
        item = stack.pop()
        if isinstance(item, types.CodeType):
            if (item.co_name == original.co_name and
                    item.co_firstlineno == original.co_firstlineno):
                return item
            stack.extend(item.co_consts)
    raise _Unavailable("its compiled code was not found")  # pragma: no cover
