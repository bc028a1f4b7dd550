"""Leaf calls that change the containers they are given.

A dispatched call receives a snapshot of its list, dict, set and bytearray arguments
(``walk.snapshot``), so that what the caller does to them afterwards changes nothing the
call sees.  Plain Python passes the objects themselves: a leaf that appends to the chat
history it was given (``history.append(reply)``) changes the caller's list, and the
caller's next line sees the change.  So an op is not dispatched with copies until it is
known not to change them:

* ``given`` (at the call): the top-level container arguments, with their lengths.
* ``known(key)``: whether calls of the op change such arguments (``None``: not known
  yet).  Unknown or changing, the call runs at once on the calling thread with the
  objects themselves, exactly as in plain Python; only an op seen to keep its arguments
  is dispatched with copies.
* ``recorded`` (at a traced call, which runs with the objects themselves): ``given`` of
  the values its stand-ins stand for, and its inputs, in one look at its arguments.
* ``ArgumentWatch`` (around the call): a shallow copy of each container as the call got it;
  afterwards, which ones it changed, which the op learns.  A dispatched call that
  changes a copy (an op that kept its arguments before) has the change written back to
  the caller's object (its own items where the call kept them), unless the caller
  changed that object's size meanwhile; one ``XcsWarning`` per op then says that code
  that read the object before the call finished saw it unchanged.

Only top-level arguments are watched: a change inside a nested container (a dict in the
list) is not seen.  Calls that run at once for other reasons (inline, effects, in a
``try`` body) get the objects themselves.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterable
from operator import is_not
from typing import Any

from xcs_core import sites, walk
from xcs_core.errors import XcsWarning
from xcs_core.values import Traced

__all__ = ["ArgumentWatch", "given", "known", "recorded"]

_MUTABLE = (list, dict, set, bytearray)
_ATOMS = walk.ATOMS
_known: dict[str, bool] = {}  # op key: whether its calls change the containers given
_lock = threading.Lock()

#: (position or keyword, the caller's object, its length when the call was made)
Given = tuple[tuple[Any, Any, int], ...]


def known(key: str) -> bool | None:
    """Whether calls of ``key`` change the containers they are given (``None``: not
    known yet)."""
    return _known.get(key)


def given(args: tuple, kwargs: dict) -> Given | None:
    """The call's top-level container arguments (``None`` if it has none).  Types are
    asked of ``type()``: ``isinstance`` would make a pending value wait."""
    found = [(i, arg, len(arg)) for i, arg in enumerate(args)
             if issubclass(type(arg), _MUTABLE)]
    if kwargs:
        found += [(name, arg, len(arg)) for name, arg in kwargs.items()
                  if issubclass(type(arg), _MUTABLE)]
    return tuple(found) or None


def recorded(args: tuple, kwargs: dict) -> tuple[list[Any] | None, Given | None]:
    """A recorded call's inputs (the nodes of the stand-ins in its arguments, if any) and
    the containers it is given (``given``, of the values stand-ins stand for: a recorded
    value is there to change).  Atoms and stand-ins of atoms, what most calls are given,
    are told apart in one pass over the arguments, with nothing copied."""
    found: dict[int, Any] = {}
    plain = not kwargs
    for arg in args if plain else ():
        kind = type(arg)
        if kind is Traced:
            node = arg._xcs_node
            found[id(node)] = node
            kind = type(node.value)
        if kind not in _ATOMS:
            plain = False
            break
    containers = None
    if not plain:
        found = {}
        walk.collect(args, found)
        if kwargs:
            walk.collect(kwargs, found)
        containers = given(
            tuple(a._xcs_node.value if type(a) is Traced else a for a in args),
            {k: v._xcs_node.value if type(v) is Traced else v for k, v in kwargs.items()}
            if kwargs else kwargs)
    return (list(found.values()) if found else None), containers


class ArgumentWatch:
    """Around one call: what it did to the containers it got (``args``/``kwargs`` as it
    gets them: the caller's objects, or copies of them)."""

    __slots__ = ("given", "copies", "before", "copied")

    def __init__(self, given: Given, args: tuple, kwargs: dict) -> None:
        self.given = given
        self.copies = [args[where] if type(where) is int else kwargs[where]
                       for where, _, _ in given]
        self.copied = any(copy is not original for copy, (_, original, _) in
                          zip(self.copies, given))
        self.before = [_shallow(copy) for copy in self.copies]

    def settle(self, node: Any, value: Any) -> Any:
        """After ``node``'s call: learn whether the op changes its arguments; if it
        changed copies, write the changes back to the caller's objects and say so.
        Returns the call's value, the caller's own object where the call returned a copy
        it was given (``return items``: plain Python returns the object itself).  The
        node lets go of the caller's containers (a kept graph must not hold them)."""
        node.given = None
        key, target, site = node.key, node.target, node.site
        changed = [i for i, (copy, before) in enumerate(zip(self.copies, self.before))
                   if _differs(copy, before)]
        if not self.copied:  # it had the objects themselves: only learn
            _known[key] = bool(changed) or _known.get(key, False)
            return value
        for copy, (_, original, _) in zip(self.copies, self.given):
            if value is copy:
                value = original
        if changed:
            self._write_back(key, target, site, changed)
        return value

    def _write_back(self, key: str, target: str, site: sites.Site | None,
                    changed: list[int]) -> None:
        kept = []
        for i in changed:
            where, original, length = self.given[i]
            if len(original) == length:
                _write_back(original, self.copies[i], self.before[i])
                kept.append(where)
        _learn(key, target, site, [self.given[i][0] for i in changed], kept)


def _shallow(obj: Any) -> Any:
    return obj.copy() if not isinstance(obj, bytearray) else bytes(obj)


def _differs(obj: Any, before: Any) -> bool:
    """Did ``obj`` change from ``before`` (a shallow copy of it, items compared by
    identity, as a caller would see them)?  Compared in C (``map``), not item by item in
    Python: a call may be given a list of 100,000 results."""
    if len(obj) != len(before):
        return True
    if isinstance(obj, list):
        return any(map(is_not, obj, before))
    if isinstance(obj, dict):
        return obj.keys() != before.keys() or any(
            map(is_not, map(obj.__getitem__, before), before.values()))
    return obj != before  # set, bytearray


def _write_back(original: Any, copy: Any, before: Any) -> None:
    """Give ``original`` the call's changes; where the call kept an item it was given,
    the caller's own item (not the snapshot's copy of it) stays."""
    if isinstance(original, list):
        mine = {id(item): own for item, own in zip(before, original)}
        original[:] = [mine.get(id(item), item) for item in copy]
    elif isinstance(original, dict):
        merged = {k: (original.get(k, v) if k in before and v is before[k] else v)
                  for k, v in copy.items()}
        original.clear()
        original.update(merged)
    elif isinstance(original, set):
        original.intersection_update(copy)
        original.update(copy)
    else:
        original[:] = copy


def _learn(key: str, target: str, site: sites.Site | None, changed: Iterable[Any],
           kept: list[Any]) -> None:
    with _lock:
        if _known.get(key):
            return
        _known[key] = True
    names = ", ".join(f"argument {w + 1}" if type(w) is int else f"{w}=" for w in changed)
    changed = list(changed)
    lost = "" if len(kept) == len(changed) else (
        " The caller had changed it meanwhile, so the call's change was not copied back.")
    where = sites.format_site(site)
    warnings.warn_explicit(
        f"xcs.jit: {target} (called at {where}) changed the container it was given as "
        f"{names}, which its earlier calls did not. This call ran in parallel on a copy, and "
        f"the change was copied back when it finished: code that read it before then saw it "
        f"unchanged.{lost} Its later calls run at once, with the object itself, as in plain "
        "Python. To keep them parallel, return the new value instead of changing the "
        "argument.",
        XcsWarning, site[0] if site else "<unknown>", site[1] if site else 0)
