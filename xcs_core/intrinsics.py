"""What compiled code calls besides calls: identity tests, keys, stores, guards.

``compiler`` rewrites the user's code so that every call, identity test, key
and escaping store goes through one of the helpers whose names are in
``compiler.HELPERS``.  Calls go to ``calls.call`` (which decides by the callee);
the others are here.  Outside a jitted call they cost one check and do what
plain Python does.

``STATE.ctx`` is this thread's trace context (``None`` outside a jitted or traced
call); ``runtime`` is the one place that swaps it.  Containers that received a
pending value through a store are remembered, so the jit boundary can replace
what they hold before the call returns.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from typing import Any

from xcs_core import values, walk
from xcs_core.values import Pending, Traced

__all__ = ["STATE", "atoms", "awaited", "force", "grown", "guard", "guarded", "key", "mod", "names",
           "resolve_deep", "store", "stored"]

_ATOMS = walk.ATOMS
#: how many guarded bodies enclose this point (``guarded``; read directly where it is hot)
GUARD_DEPTH: contextvars.ContextVar[int] = contextvars.ContextVar("xcs_guard", default=0)


class _State(threading.local):
    ctx: Any = None  # this thread's trace context (``runtime.Context``), if any


STATE = _State()


# -- guarded regions -------------------------------------------------------------------
class _Guard:
    """``with __xcs_guard__():`` around ``try`` and ``with`` bodies: calls made while
    inside one (in this function or any it calls) run at once, so their exceptions
    reach the handler or the context manager exactly as in plain Python."""

    __slots__ = ()

    def __enter__(self) -> None:
        GUARD_DEPTH.set(GUARD_DEPTH.get() + 1)

    def __exit__(self, *exc: Any) -> bool:
        GUARD_DEPTH.set(GUARD_DEPTH.get() - 1)
        return False


_GUARD = _Guard()


def guard() -> _Guard:
    return _GUARD


def guarded() -> bool:
    """True inside a ``try`` or ``with`` body of compiled code (see ``_Guard``)."""
    return GUARD_DEPTH.get() > 0


# -- forcing ---------------------------------------------------------------------------
def _force(proxy: Traced, reason: Any) -> Any:
    return values._RT.force(proxy, reason)


def force(value: Any) -> Any:
    """An operand of ``is`` / ``is not``: concrete, so identity is that of the value."""
    if type(value) is Traced:
        return _force(value, "identity test (is / is not)")
    return value


def resolve_deep(obj: Any, reason: str) -> Any:
    """``obj`` with every pending value inside it concrete (in place where possible)."""
    if type(obj) in _ATOMS:
        return obj
    return walk.resolve(obj, lambda proxy: _force(proxy, reason))


def key(value: Any) -> Any:
    """A dict key or set member: hashed, so concrete (a stand-in must never be a key)."""
    kind = type(value)
    if kind is Traced:
        return _force(value, "dict key or set member")
    if kind is tuple:
        return resolve_deep(value, "dict key or set member")
    return value


def stored(value: Any) -> Any:
    """A value stored into an attribute, a global or a nonlocal: it outlives the call."""
    if type(value) in _ATOMS:
        return value
    return resolve_deep(value, "stored into an attribute or a global")


def store(value: Any, obj: Any, index: Any) -> None:
    """``obj[index] = value``: lists and dicts keep pending values (and are
    remembered); any other ``__setitem__`` receives concrete ones."""
    index = key(index)
    if type(value) not in _ATOMS:
        if isinstance(obj, (list, dict)):
            _escaped(obj)
        else:
            value = resolve_deep(value, f"stored into a {type(obj).__name__}")
    obj[index] = value


def grown(obj: Any, value: Any) -> Any:
    """The right operand of ``x op= value`` in compiled code (``x`` a local name).  A list
    or dict grown in place (perhaps one the caller holds) is remembered, so the boundary
    makes what it holds concrete.  A mutable ``x`` (a list, dict, set, bytearray, ...)
    changes in place, so a pending ``value`` is made concrete first: otherwise Python
    would ask the stand-in (``list`` has no ``+=`` of its own to try before it), which
    answers with a new object and leaves ``x``, and every alias of it, unchanged."""
    kind = type(obj)
    if kind is list or kind is dict:
        _escaped(obj)
    if type(value) is Traced and kind not in _ATOMS and kind not in _IMMUTABLE:
        return _force(value, "grows an object in place (x op= value)")
    return value


#: Containers whose ``op=`` makes a new object, as the stand-in's answer does (glue).
_IMMUTABLE = frozenset({tuple, frozenset, Traced})


def mod(left: Any, right: Any) -> Any:
    """``left % right`` in compiled code.  A str or bytes ``left`` formats ``right``,
    telling a tuple of arguments or a mapping from one value by its type, and is asked
    before the stand-in, so a pending ``right`` is made concrete; any other ``%`` (a
    pending ``left``, numbers) stays as it is (glue where a value is pending)."""
    if type(right) is Traced and isinstance(left, (str, bytes, bytearray)):
        right = _force(right, "formatted with %")
    return left % right


#: the prefix of every name the compiler adds to a function: its helpers' cells and its
#: temporaries (``rewrite.Transformer``)
_ADDED = "__xcs_"


def names(found: Any) -> Any:
    """What ``locals()``, ``vars()`` or ``dir()`` (no arguments) gives in compiled code, less
    the names the compiler added, which plain Python's frame never had.  The dict is the
    one the frame reader returned (changed in place: ``locals() is locals()`` where Python
    says so); ``dir()``'s list is a new list, as ``dir()`` always gives."""
    if type(found) is dict:
        for name in [k for k in found if type(k) is str and k.startswith(_ADDED)]:
            del found[name]
        return found
    return [name for name in found if not name.startswith(_ADDED)]


class _Lenient:
    """``await`` of a pending async call in compiled code (``awaited``)."""

    __slots__ = ("proxy",)

    def __init__(self, proxy: Traced) -> None:
        self.proxy = proxy

    def __await__(self) -> Any:
        return values._RT.await_pending(self.proxy)


def awaited(value: Any) -> Any:
    """What compiled code's ``await value`` awaits.  A pending async call's stand-in
    (``Pending``) is awaited leniently: outside ``try``/``with`` the await does not wait,
    and the call's failure becomes the program's from here (``Runtime.await_pending``).
    Awaited anywhere else (code xcs does not compile: ``wait_for``, ``timeout``, a task),
    it waits, on the event loop, so a timeout or a cancellation reaches it as in plain
    Python."""
    if type(value) is Pending:
        value.awaited = True
        return _Lenient(value.value)
    if AWAITS:
        hook = AWAITS.get(type(value))
        if hook is not None:
            return hook(value)
    return value


#: type -> what compiled code's ``await`` of one of its objects awaits instead (the future
#: ``gather`` returns over dispatched calls: ``xcs_core.gathering``)
AWAITS: dict[type, Callable[[Any], Any]] = {}


def _escaped(container: Any) -> None:
    ctx = STATE.ctx
    if ctx is not None:
        ctx.escapes[id(container)] = container


def atoms(args: tuple) -> bool:
    """True when no argument can hold a stand-in (strings, numbers, ...)."""
    for arg in args:
        if type(arg) not in _ATOMS:
            return False
    return True
