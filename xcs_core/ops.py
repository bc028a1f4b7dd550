"""Leaf operations: ``@xcs.op`` functions and ``Operator`` classes.

A call of either, written in compiled code, is one operation of the graph (one leaf call):
``__xcs_dispatch__`` hands it to the current context (``runtime.Context.call``), which
dispatches it and returns a pending value.  Called outside a jitted call, each runs its
body, as plain Python would.  ``op(batch=...)`` gives an op a batch form
(``xcs_core.batching``).
"""

from __future__ import annotations

import functools
import inspect
import sys
import types
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, overload

from xcs_core import calls, cost, runtime
from xcs_core.batching import Batch, make_batch

if TYPE_CHECKING:
    from xcs_core.api import JitFunction

__all__ = ["CoroutineCall", "LeafOp", "Operator", "op"]

F = TypeVar("F", bound=Callable[..., Any])


class CoroutineCall:
    """The body of an ``async def`` leaf call: run the coroutine to completion.

    Executors with an event loop (``asyncio``) find ``coroutine_function`` and
    run it there instead.  Picklable when the function is.
    """

    def __init__(self, coroutine_function: Callable[..., Any]) -> None:
        self.coroutine_function = coroutine_function

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        import asyncio

        coroutine = self.coroutine_function(*args, **kwargs)
        if runtime.running_loop() is None:
            return asyncio.run(coroutine)
        # this thread already runs a loop (a jitted coroutine's body): run it beside it
        return _helper_pool().submit(asyncio.run, coroutine).result()


@functools.lru_cache(maxsize=1)
def _helper_pool() -> Any:
    from concurrent.futures import ThreadPoolExecutor  # only async ops need it

    return ThreadPoolExecutor(thread_name_prefix="xcs_coroutine")


class LeafOp:
    """A function whose every call is one operation (see ``op``)."""

    __xcs_batch__: Batch | None = None  # its batch form (``op(batch=...)``), if any

    def __init__(self, fn: Callable[..., Any], effect: bool, batch: Any = None,
                 max_batch: int = 64) -> None:
        functools.update_wrapper(self, fn)
        self.is_async = inspect.iscoroutinefunction(fn)
        self.fn, self.effect = (CoroutineCall(fn) if self.is_async else fn), effect
        if self.is_async:  # lets event-loop executors run it on their loop
            self.coroutine_function = fn
        self.target = getattr(fn, "__qualname__", repr(fn))
        # running-average durations are kept per module-qualified name (a batched op's
        # apart: its calls last as long as their requests, and never run inline)
        self.key = f"{getattr(fn, '__module__', '')}.{self.target}"
        if batch is not None:
            self.__xcs_batch__ = make_batch(self.target, fn, batch, max_batch)
            self.key += " (batched)"
            cost.always_dispatch(self.key)  # the request, not an inline call, is the fast path

    @property
    def __xcs_body__(self) -> Callable[..., Any]:
        """What one call runs, without tracing (see ``scheduler.direct_call``)."""
        return self.fn

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        ctx = runtime.current()
        if ctx is None:
            if self.is_async and runtime.running_loop() is not None:
                return self.fn.coroutine_function(*args, **kwargs)  # async caller: await it
            return self.fn(*args, **kwargs)
        # called by code xcs did not compile (inside a jitted call): it runs at once
        return ctx.call(self.target, self, args, kwargs, self.effect, self.key, False)

    def __xcs_dispatch__(self, ctx: runtime.Context, args: tuple, kwargs: dict) -> Any:
        """A call written in compiled code: dispatched, its result pending.  The op
        itself is what runs (and travels, pickled by reference): called with no trace
        context, on a worker or in another process, it runs its body."""
        return ctx.call(self.target, self, args, kwargs, self.effect, self.key)

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        return self if obj is None else types.MethodType(self, obj)

    def __reduce__(self) -> Any:
        """Pickle by reference when this op is what its module holds under its name
        (``@xcs.op def f``), else rebuild it from its function (``g = xcs.op(f)``)."""
        found: Any = sys.modules.get(getattr(self, "__module__", ""), None)
        for part in self.__qualname__.split("."):
            found = getattr(found, part, None)
        if found is self:
            return self.__qualname__
        raw = self.fn.coroutine_function if self.is_async else self.fn
        batch = self.__xcs_batch__
        return (LeafOp, (raw, self.effect) if batch is None else (
            raw, self.effect, getattr(batch.fn, "coroutine_function", batch.fn), batch.max_batch))

    def __repr__(self) -> str:
        return f"<xcs.op {self.target}{' effect' if self.effect else ''}>"


@overload
def op(fn: F) -> F: ...
@overload
def op(*, effect: bool = False, batch: Callable[[list[tuple]], Any] | None = None,
       max_batch: int = 64) -> Callable[[F], F]: ...


def op(fn: Any = None, *, effect: bool = False,
       batch: Callable[[list[tuple]], Any] | None = None, max_batch: int = 64) -> Any:
    """Mark ``fn`` as a leaf operation: each call is executed as one unit.

    ``effect=True`` marks calls with side effects (writes, sends): they run
    after every earlier call has finished, in program order, and code after
    them continues only once they are done.

    ``batch=many`` gives the op a batch form: in a jitted function, calls that
    are ready together are sent as one call ``many([args1, args2, ...])`` of at
    most ``max_batch`` argument tuples, which returns one result per call, in
    order (``xcs.BatchFailure(exc)`` for a call that failed).  ``fn`` itself
    still runs single calls: plain Python, ``xcs.trace``, ``try`` bodies.  See
    ``xcs_core.batching`` and ``docs/batching.md``.

    ``async def`` functions are leaf calls too: called from synchronous code
    (jitted or not) a call runs the coroutine to completion and returns its
    result; called from a coroutine outside any jitted function, it returns
    the coroutine to ``await``, as plain Python does.
    """
    if fn is None:
        return lambda f: op(f, effect=effect, batch=batch, max_batch=max_batch)
    if not callable(fn):
        raise TypeError(f"xcs.op: expected a function, got {type(fn).__name__} {fn!r}")
    if not isinstance(effect, bool):
        raise TypeError(f"xcs.op: effect must be True or False, got {effect!r}")
    if effect and batch is not None:
        raise TypeError(
            f"xcs.op {getattr(fn, '__qualname__', fn)}: effect=True cannot be combined with "
            "batch=: an effect runs alone, after every earlier call, in program order; drop "
            "effect=True if the calls may run together, or batch=")
    return LeafOp(fn, effect, batch, max_batch)


class Operator:
    """A unit of a compound program with ``forward(self, inputs, ...)``.

    Calling an operator is one leaf call (like a model wrapper) unless its
    class is decorated with ``@xcs.jit``, in which case ``forward`` is traced
    through and its own calls join the caller's graph.
    """

    effect: bool = False
    __xcs_jit__: JitFunction | None = None

    def forward(self, inputs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__qualname__} must define forward(self, inputs)")

    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        """``forward(inputs, *args, **kwargs)``: extra arguments (``temperature=0.5``)
        are passed on, as one leaf call."""
        ctx = runtime.current()
        if ctx is None or type(self).__xcs_jit__ is not None:
            jitted = type(self).__xcs_jit__
            if jitted is None:
                return self.forward(inputs, *args, **kwargs)
            return jitted(self, inputs, *args, **kwargs)
        return self._leaf_call(ctx, (inputs, *args), kwargs, False)

    def __xcs_dispatch__(self, ctx: runtime.Context, args: tuple, kwargs: dict) -> Any:
        jitted = type(self).__xcs_jit__
        if jitted is not None:
            return jitted.__xcs_dispatch__(ctx, (self, *args), kwargs)
        if not args and "inputs" in kwargs:  # m(inputs=x), as __call__ binds it
            kwargs = dict(kwargs)
            args = (kwargs.pop("inputs"),)
        if not args:
            return self(*args, **kwargs)  # the same TypeError as plain Python
        return self._leaf_call(ctx, args, kwargs, True)

    def _leaf_call(self, ctx: runtime.Context, args: tuple, kwargs: dict,
                   compiled: bool) -> Any:
        cls = type(self)
        return ctx.call(cls.__qualname__, self.forward, tuple(args), dict(kwargs), self.effect,
                        f"{cls.__module__}.{cls.__qualname__}", compiled)


calls.install_leaf_op(LeafOp)


