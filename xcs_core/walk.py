"""One walker over containers: find, copy or replace the pending values inside a value.

Pending values (``Traced``) hide inside lists, tuples, dicts, sets, dict views
and dataclasses.  Three questions are asked of such a value, all answered by
``walk``:

* ``collect``: which nodes does it depend on (a leaf call's inputs)?
* ``snapshot``: a copy of its mutable skeleton (lists, dicts, sets,
  bytearrays, recursively; leaves shared), taken when a call is dispatched, so
  that later mutation by the caller changes nothing the call sees;
* ``resolve``: the value with every pending value replaced by its concrete
  value, in place for lists, dicts and dataclasses (plain Python would have
  held the concrete value there) and rebuilt for tuples.

Iterators that may yield pending values (generators, ``zip``/``map`` objects,
list iterators) cannot be walked without consuming them; ``resolve`` wraps them
so that each item is resolved as it is taken.
"""

from __future__ import annotations

import copy as copy_module
import types
from collections.abc import Callable, Iterator
from typing import Any

from xcs_core.values import Traced

__all__ = ["ATOMS", "LAZY", "COPY", "INPLACE", "READ", "collect", "plain", "resolve", "snapshot",
           "walk"]

ATOMS = frozenset({str, int, float, bool, bytes, type(None), complex, range,
                   types.FunctionType, types.BuiltinFunctionType, types.MethodType, type})
_VIEWS = (type({}.keys()), type({}.values()), type({}.items()))
LAZY = frozenset({types.GeneratorType, map, filter, zip, enumerate, reversed,
                   type(iter([])), type(iter(())), type(iter({})), type(iter({}.values())),
                   type(iter({}.items())), type(reversed([]))})


READ, COPY, INPLACE = range(3)


def walk(obj: Any, leaf: Callable[[Traced], Any], mode: int,
         seen: dict[int, Any] | None = None) -> Any:
    """``obj`` with ``leaf(t)`` in place of each pending value ``t`` (see module doc).

    ``COPY`` copies mutable containers; ``INPLACE`` updates them in place and
    wraps lazy iterators; ``READ`` only visits (``leaf`` must return its argument).
    Shared and self-containing structures are visited once.
    """
    copy = mode == COPY
    kind = type(obj)
    if kind is Traced:
        return leaf(obj)
    if kind in ATOMS:
        return obj
    if seen is None:
        seen = {}
    elif id(obj) in seen:
        return seen[id(obj)]
    if isinstance(obj, list):
        return _sequence(obj, _copy(obj, kind) if copy else obj, leaf, mode, seen)
    if isinstance(obj, dict):
        out = _copy(obj, kind) if copy else obj
        seen[id(obj)] = out
        for key, item in obj.items():
            if type(item) not in ATOMS:
                new = walk(item, leaf, mode, seen)
                if new is not item:
                    out[key] = new
        return out
    if isinstance(obj, tuple):
        seen[id(obj)] = obj
        items = [walk(item, leaf, mode, seen) for item in obj]
        if all(a is b for a, b in zip(items, obj)):
            return obj
        seen[id(obj)] = new = (kind._make(items) if hasattr(obj, "_fields") else kind(items))
        return new
    return _other(obj, kind, leaf, mode, seen)


def _copy(obj: Any, kind: type) -> Any:
    """A shallow copy of the same type (``list.copy`` of a subclass gives a plain list)."""
    return obj.copy() if kind is list or kind is dict else copy_module.copy(obj)


def _sequence(obj: list, out: list, leaf: Callable[[Traced], Any], mode: int,
              seen: dict[int, Any]) -> list:
    seen[id(obj)] = out
    for i, item in enumerate(obj):
        kind = type(item)
        if kind is Traced:  # the common case (a list of results), without a frame
            new = leaf(item)
            if new is not item:
                out[i] = new
        elif kind not in ATOMS:
            new = walk(item, leaf, mode, seen)
            if new is not item:
                out[i] = new
    return out


def _other(obj: Any, kind: type, leaf: Callable[[Traced], Any], mode: int,
           seen: dict[int, Any]) -> Any:
    if isinstance(obj, (set, frozenset, bytearray)):  # members were forced when hashed
        copy = mode == COPY and not isinstance(obj, frozenset)
        seen[id(obj)] = out = obj.copy() if copy else obj
        return out
    if isinstance(obj, _VIEWS):
        seen[id(obj)] = obj
        if mode == INPLACE:
            walk(obj.mapping, leaf, mode, seen)
        return obj
    if kind in LAZY and mode == INPLACE:
        seen[id(obj)] = out = _resolving(obj, leaf)
        return out
    if hasattr(kind, "__dataclass_fields__") and not isinstance(obj, type):
        seen[id(obj)] = obj
        for name in kind.__dataclass_fields__:
            item = getattr(obj, name, None)
            new = walk(item, leaf, mode, seen)
            if new is not item and mode == INPLACE:
                object.__setattr__(obj, name, new)
    return obj


def _resolving(iterator: Iterator[Any], leaf: Callable[[Traced], Any]) -> Iterator[Any]:
    for item in iterator:
        yield walk(item, leaf, INPLACE)


def collect(obj: Any, found: dict[int, Any]) -> None:
    """Add the node of every pending value inside ``obj`` to ``found`` (by id)."""
    if type(obj) is not tuple:
        walk(obj, _noting(found), READ)
        return
    for item in obj:  # a call's arguments: mostly atoms and stand-ins, seen without a walk
        kind = type(item)
        if kind is Traced:
            node = item._xcs_node
            found[id(node)] = node
        elif kind not in ATOMS:
            walk(item, _noting(found), READ)


def _noting(found: dict[int, Any]) -> Callable[[Traced], Traced]:
    def note(proxy: Traced) -> Traced:
        node = proxy._xcs_node
        found[id(node)] = node
        return proxy

    return note


def plain(items: tuple, found: dict[int, Any]) -> bool:
    """Are ``items`` (a call's arguments) all atoms and stand-ins, which have no skeleton to
    copy?  The nodes of the stand-ins seen go to ``found`` (all of them when True)."""
    for item in items:
        kind = type(item)
        if kind is Traced:
            node = item._xcs_node
            found[id(node)] = node
        elif kind not in ATOMS:
            return False
    return True


def snapshot(obj: Any, found: dict[int, Any]) -> Any:
    """A copy of ``obj``'s mutable skeleton; the nodes of its pending values go to ``found``."""
    if type(obj) is tuple and plain(obj, found):
        return obj
    return walk(obj, _noting(found), COPY)


def resolve(obj: Any, force: Callable[[Traced], Any]) -> Any:
    """``obj`` with each pending value replaced by ``force(value)``, in place where it can."""
    return walk(obj, force, INPLACE)
