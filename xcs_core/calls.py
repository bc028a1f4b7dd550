"""``__xcs_call__``: what a call written in compiled code does, decided by the callee.

``compiler`` rewrites every call in the user's code to ``call(f, *args, **kwargs)``
(the other places where a pending value may be observed are ``intrinsics``).
Outside a jitted call it costs one check and does what plain Python does.

``call(f, *args, **kwargs)`` decides by the callee, in this order:

1. an xcs op, an ``Operator`` or a jitted function (``__xcs_dispatch__``):
   dispatch it; pending arguments become its data dependencies;
2. the user's own function, method or callable object: call its compiled twin
   (compiled lazily, cached), which receives the pending values as they are;
3. a reference-only operation (``REFERENCE_ONLY`` in the docs): the value is
   stored or passed along, never looked at, so it stays pending: ``len``,
   ``iter``, ``next``, ``list``/``tuple``/``dict``/``set`` constructors,
   ``zip``, ``enumerate``, ``reversed``, ``map``/``filter`` (their function is
   called through ``call``), and ``append``/``extend``/``insert``/``get``/
   ``pop``/``setdefault``/``update``/``keys``/``values``/``items``/``copy`` of
   lists and dicts.  Keys are always concrete (they are hashed);
4. anything else (C functions and methods, the standard library, installed
   packages, classes): pending values inside its arguments (and inside the
   list or dict a method is bound to) are replaced by their concrete values,
   in place, waiting only for those; lazy iterators are wrapped so their items
   are concrete too.  Then it is called.
"""

from __future__ import annotations

import functools
import sys
import types
from collections.abc import Callable
from typing import Any

from xcs_core import compiler, twins, values, walk
from xcs_core.errors import DeferredFailure
from xcs_core.intrinsics import (
    _GUARD,
    STATE,
    _escaped,
    _force,
    atoms,
    awaited,
    force,
    grown,
    guard,
    key,
    mod,
    names,
    resolve_deep,
    store,
    stored,
)
from xcs_core.values import Pending, Traced

__all__ = ["PASS_THROUGH", "call", "install_leaf_op"]

_ATOMS = walk.ATOMS
_leaf_op: type | None = None  # bound by ops: ``xcs.op``'s class, dispatched directly
_getframe = sys._getframe


def install_leaf_op(cls: type) -> None:
    """Bind the class of ``xcs.op`` objects, whose calls ``call`` dispatches first."""
    global _leaf_op
    _leaf_op = cls


def call(fn: Any, /, *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` written in compiled code (see the module doc)."""
    ctx = STATE.ctx
    if ctx is None:
        return fn(*args, **kwargs)
    if ctx.extra and (ctx.leaves is not None or ctx.watch.timing(fn)):
        return _extra(ctx, fn, args, kwargs)
    kind = type(fn)
    if kind is _FUNCTION:  # the common cases, inlined: the user's (compiled) functions,
        hit = _TWINS.get(id(fn))
        if hit is not None and hit[0]() is fn:
            return (hit[1] or fn)(*args, **kwargs)
    elif kind is _METHOD:  # their methods,
        func = fn.__func__
        hit = _TWINS.get(id(func))
        if hit is not None and hit[0]() is func:
            return (hit[1] or func)(fn.__self__, *args, **kwargs)
    elif kind is _leaf_op:  # a leaf call: dispatched, the user's frame is the call site
        return ctx.call(fn.target, fn, args, kwargs, fn.effect, fn.key, True, _getframe(1))
    elif kind in _C_CALLABLES:
        fast = _FAST.get(fn)
        if fast:  # reference-only C callables (``len``, ``list``...), whatever they are given
            return fn(*args, **kwargs)
        if fast is None and not kwargs and (
                kind is type or type(fn.__self__) in _PLAIN_OWNERS
                or fn.__name__ in _REFERENCE_METHODS.get(type(fn.__self__), ())):
            for arg in args:  # and C code with plain arguments
                if type(arg) not in _ATOMS:
                    break
            else:
                return fn(*args)
    handler = _HANDLERS.get(kind) or _handler_for(kind)
    return handler(ctx, fn, args, kwargs)


def _extra(ctx: Any, fn: Any, args: tuple, kwargs: dict) -> Any:
    """``call`` with leaves given (``jit(leaves=...)``) or on a watched first run."""
    if ctx.leaves is not None:
        hit = ctx.leaves.match(fn)
        if hit is not None:
            op, owner = hit
            return op.__xcs_dispatch__(ctx, args if owner is None else (owner, *args), kwargs)
    kind = type(fn)
    handler = _HANDLERS.get(kind) or _handler_for(kind)
    if ctx.watch is None or handler is _dispatch or ctx.watch.depth >= _WATCHED_DEPTH:
        return handler(ctx, fn, args, kwargs)  # deep calls are their callers' time
    frame = sys._getframe(2)
    site = (frame.f_code.co_filename, frame.f_lineno)
    if kind is _FUNCTION:  # the user's function: its twin is what runs (one frame less)
        found, target = twins.target(fn)
        if found != twins.FOREIGN:
            return ctx.watch.timed(fn, site, target, *args, **kwargs)
    return ctx.watch.timed(fn, site, handler, ctx, fn, args, kwargs)


#: How deep the first run's watch times nested calls: deeper ones (recursion) count in
#: the time of the call they are made in, and cost no frames for timing.
_WATCHED_DEPTH = 16


def _foreign(ctx: Any, fn: Any, args: tuple, kwargs: dict) -> Any:
    """Code xcs does not compile: it receives concrete values only."""
    if _plain(ctx, args, kwargs):
        return fn(*args, **kwargs)
    reason = _Reason(fn)
    values._RT.wait_inside((args, kwargs), reason)

    def leaf(proxy: Traced) -> Any:
        return _force(proxy, reason)

    args = walk.resolve(args, leaf) if args else args
    if kwargs:
        walk.resolve(kwargs, leaf)
    return fn(*args, **kwargs)


def _plain(ctx: Any, args: tuple, kwargs: dict) -> bool:
    """Nothing to force: plain arguments, or no stand-in made yet and no iterator that
    could still produce one (a generator runs compiled code when it is consumed)."""
    if not kwargs and atoms(args):
        return True
    if ctx.made_pending:
        return False
    lazy = walk.LAZY
    return not any(type(a) in lazy for a in args) and not any(
        type(v) in lazy for v in kwargs.values())


class _Reason:
    """``passed to json.loads()``, formatted only when a value is really waited for."""

    __slots__ = ("fn",)

    def __init__(self, fn: Any) -> None:
        self.fn = fn

    def __str__(self) -> str:
        name = getattr(self.fn, "__qualname__", None) or type(self.fn).__qualname__
        module = getattr(self.fn, "__module__", None)
        where = f"{module}." if module and module != "builtins" else ""
        return f"passed to {where}{name}() (code xcs does not compile)"


_NO_SELF = object()
#: xcs's own functions that take pending values and wait for them themselves (xcs.value)
PASS_THROUGH: set[Any] = set()


def _function(ctx: Any, fn: types.FunctionType, args: tuple, kwargs: dict,
              self: Any = _NO_SELF) -> Any:
    kind, target = twins.target(fn)
    if kind == twins.FOREIGN:
        if fn in PASS_THROUGH:
            return fn(*args, **kwargs)
        if _is_gather(fn):
            return _gather(ctx, fn, args, kwargs)
        bound = fn if self is _NO_SELF else types.MethodType(fn, self)
        return _foreign(ctx, bound, args, kwargs)
    return target(*args, **kwargs) if self is _NO_SELF else target(self, *args, **kwargs)


def _is_gather(fn: types.FunctionType) -> bool:
    return fn.__name__ == "gather" and fn.__module__ == "asyncio.tasks"


def _gather(ctx: Any, gather: Any, args: tuple, kwargs: dict) -> Any:
    """``asyncio.gather``: over dispatched async calls only, a future made without a task
    per call (``xcs_core.gathering``); with ``return_exceptions=True``, the awaits inside
    it (and inside the tasks it starts for other awaitables) wait and raise each call's
    own exception, which gather returns in its place, as in plain Python."""
    return_exceptions = kwargs.get("return_exceptions", False)
    if args and set(kwargs) <= {"return_exceptions"} and all(
            type(a) is Pending for a in args):
        from xcs_core import gathering  # (a loop is running: asyncio is imported)

        return gathering.gather(args, return_exceptions)
    if return_exceptions:
        with _GUARD:  # tasks copy the context they are made in: they start guarded
            return gather(*args, **kwargs)
    return _foreign(ctx, gather, args, kwargs)


def _method(ctx: Any, method: types.MethodType, args: tuple, kwargs: dict) -> Any:
    func, owner = method.__func__, method.__self__
    if type(func) is types.FunctionType:
        return _function(ctx, func, args, kwargs, owner)
    dispatch = getattr(type(func), "__xcs_dispatch__", None)
    if dispatch is not None:
        return dispatch(func, ctx, (owner, *args), kwargs)
    return _foreign(ctx, method, args, kwargs)


def _reference(ctx: Any, fn: Any, args: tuple, kwargs: dict) -> Any:
    """Stores or passes references only: pending values stay pending."""
    return fn(*args, **kwargs)


def _consume(ctx: Any, fn: Any, args: tuple, kwargs: dict) -> Any:
    """``sum``, ``sorted``, ``min``, ``max``, ``str.join``: they take every item of an
    iterator, so a generator is run to its end first, its calls all dispatched, and
    only then are the values waited for (``any``/``all``/``next`` may stop early and
    are not among these)."""
    if args and type(args[0]) in walk.LAZY:
        args = (list(args[0]), *args[1:])
    return _foreign(ctx, fn, args, kwargs)


def _shallow(ctx: Any, fn: Any, args: tuple, kwargs: dict) -> Any:
    """Looks at its arguments themselves (identity, type), not inside them."""
    return fn(*[force(a) for a in args], **kwargs)


#: Methods of lists and dicts that keep references (``True``: they store arguments).
_LIST_METHODS = {"append": True, "extend": True, "insert": True, "copy": False, "pop": False,
                 "reverse": False, "clear": False, "__getitem__": False, "__len__": False}
_DICT_METHODS = {"setdefault": True, "update": True, "get": False, "pop": False,
                 "keys": False, "values": False, "items": False, "copy": False,
                 "clear": False, "popitem": False, "__getitem__": False, "__len__": False}


def _builtin(ctx: Any, fn: Any, args: tuple, kwargs: dict) -> Any:
    owner = fn.__self__
    if isinstance(owner, (list, dict)):  # asked first: the commonest (``results.append``)
        return _container_method(ctx, fn, owner, args, kwargs)
    special = _BUILTINS.get(fn)  # (their owner is the builtins module)
    if special is not None:
        return special(ctx, fn, args, kwargs)
    if type(owner) is str and fn.__name__ == "join":
        return _consume(ctx, fn, args, kwargs)
    if type(owner) in _ATOMS or owner is None or type(owner) is types.ModuleType:
        if _plain(ctx, args, kwargs):
            return fn(*args, **kwargs)
    return _foreign(ctx, fn, args, kwargs)


def _container_method(ctx: Any, fn: Any, owner: list | dict, args: tuple, kwargs: dict
                      ) -> Any:
    """A method of a list or dict: the reference-only ones (``_LIST_METHODS``,
    ``_DICT_METHODS``) keep pending values pending (keys concrete); the others see the
    items concrete."""
    table = _LIST_METHODS if isinstance(owner, list) else _DICT_METHODS
    stores = table.get(fn.__name__)
    if stores is not None:
        if isinstance(owner, dict) and args:
            args = (key(args[0]), *args[1:])  # the key of get/pop/setdefault/update
            if fn.__name__ == "update":
                args = tuple(resolve_deep(a, "dict.update()") for a in args)
        if stores and not (atoms(args) and atoms(tuple(kwargs.values()))):
            _escaped(owner)
        return fn(*args, **kwargs)
    if ctx.made_pending:  # sort(), index(), count(), ...: they look at the items
        resolve_deep(owner, str(_Reason(fn)))
    return _foreign(ctx, fn, args, kwargs)


def _class(ctx: Any, cls: type, args: tuple, kwargs: dict) -> Any:
    special = _CLASSES.get(cls)
    if special is not None:
        return special(ctx, cls, args, kwargs)
    if _plain(ctx, args, kwargs):
        return cls(*args, **kwargs)
    return _foreign(ctx, cls, args, kwargs)


def _type(ctx: Any, cls: type, args: tuple, kwargs: dict) -> Any:
    return _shallow(ctx, cls, args, kwargs) if len(args) == 1 else _foreign(ctx, cls, args,
                                                                           kwargs)


def _keyed(ctx: Any, cls: type, args: tuple, kwargs: dict) -> Any:
    """``dict(...)``, ``set(...)``, ``frozenset(...)``: values may stay pending, keys not."""
    made = cls(*args, **kwargs)
    if not ctx.made_pending or not any(type(k) is Traced for k in made):
        return made
    if isinstance(made, dict):
        return cls((key(k), v) for k, v in made.items())
    return cls(key(k) for k in made)


def _mapping(ctx: Any, cls: type, args: tuple, kwargs: dict) -> Any:
    """``map(f, ...)`` / ``filter(f, ...)``: ``f`` is called through ``call``."""
    if args and args[0] is not None:
        args = (functools.partial(call, args[0]), *args[1:])
    return cls(*args, **kwargs)


def _dispatch(ctx: Any, obj: Any, args: tuple, kwargs: dict) -> Any:
    return obj.__xcs_dispatch__(ctx, args, kwargs)


def _traced(ctx: Any, proxy: Traced, args: tuple, kwargs: dict) -> Any:
    return values._RT.call(proxy, args, kwargs, True)


def _partial(ctx: Any, part: functools.partial, args: tuple, kwargs: dict) -> Any:
    return call(part.func, *part.args, *args, **{**part.keywords, **kwargs})


def _callable_object(ctx: Any, obj: Any, args: tuple, kwargs: dict) -> Any:
    return _function(ctx, type(obj).__call__, args, kwargs, obj)


def _handler_for(kind: type) -> Callable[..., Any]:
    if issubclass(kind, type):
        handler: Callable[..., Any] = _class
    elif hasattr(kind, "__xcs_dispatch__"):
        handler = _dispatch
    elif type(getattr(kind, "__call__", None)) is types.FunctionType:  # noqa: B004
        handler = _callable_object
    else:
        handler = _foreign
    _HANDLERS[kind] = handler
    return handler


_HANDLERS: dict[type, Callable[..., Any]] = {
    types.FunctionType: _function, types.MethodType: _method,
    types.BuiltinFunctionType: _builtin, Traced: _traced, functools.partial: _partial,
    type: _class,
}
_BUILTINS: dict[Any, Callable[..., Any]] = {
    len: _reference, iter: _reference, next: _reference, id: _shallow, callable: _shallow,
    sum: _consume, sorted: _consume, min: _consume, max: _consume,
    isinstance: _shallow, issubclass: _shallow, hasattr: _shallow, getattr: _shallow,
}
_CLASSES: dict[type, Callable[..., Any]] = {
    list: _reference, tuple: _reference, zip: _reference, enumerate: _reference,
    reversed: _reference, dict: _keyed, set: _keyed, frozenset: _keyed, map: _mapping,
    filter: _mapping, type: _type,
}
_C_CALLABLES = frozenset({types.BuiltinFunctionType, type})
_FUNCTION, _METHOD, _TWINS = types.FunctionType, types.MethodType, twins.FAST
#: list and dict methods that, given plain arguments, neither store nor look at a stand-in
_REFERENCE_METHODS = {list: frozenset(_LIST_METHODS), dict: frozenset(_DICT_METHODS)}
#: Owners of builtin methods that never hold a stand-in (``str.join`` excepted below).
_PLAIN_OWNERS = frozenset({*_ATOMS, types.ModuleType, type(None)})
#: The C callables with a handler: ``True`` for those that only pass references along
#: (called as they are), ``False`` for those whose handling depends on more than their
#: arguments (never fast).
_FAST: dict[Any, bool] = {fn: handler is _reference
                          for fn, handler in (*_BUILTINS.items(), *_CLASSES.items())}
# ``__xcs_failure__`` is the class of ``except __xcs_failure__: raise``, the first handler of
# every ``try`` in compiled code (``rewrite.Transformer.visit_Try``): an earlier call's
# failure, first seen inside a ``try`` body, passes ``except:`` and ``except BaseException:``
twins.install({name: types.CellType(helper) for name, helper in zip(
    compiler.HELPERS,
    (call, force, key, store, stored, guard, grown, mod, DeferredFailure, names, awaited),
    strict=True)})
