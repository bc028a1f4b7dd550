"""The public API: ``op``, ``Operator``, ``jit``, ``execution`` and ``value``.

``@op`` marks the unit of work (one leaf call = one operation).  ``@jit``
marks the boundary inside which leaf calls are dispatched to an executor and
run in parallel where the dataflow allows.  ``execution(...)`` switches the
executor for every jitted call in its scope (the pytest plugin's A/B runs).
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import sys
import threading
import types
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar, overload

from xcs_core import cost, intrinsics, runtime, standins, twins  # noqa: F401 - standins: installs
from xcs_core import values as values_module
from xcs_core.batching import Batch, make_batch
from xcs_core.errors import XcsWarning
from xcs_core.executors import get_executor, validate_executor, validate_max_workers
from xcs_core.leaves import Leaves
from xcs_core.nodes import Node
from xcs_core.values import Traced

__all__ = ["AsyncJitFunction", "JitFunction", "LeafOp", "Operator", "XcsWarning", "execution",
           "jit", "op", "value"]

F = TypeVar("F", bound=Callable[..., Any])
_settings: contextvars.ContextVar[types.MappingProxyType] = contextvars.ContextVar(
    "xcs_execution", default=types.MappingProxyType({}))


# -- leaf operations ------------------------------------------------------------------
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
        # running-average durations are kept per module-qualified name
        self.key = f"{getattr(fn, '__module__', '')}.{self.target}"
        if batch is not None:
            self.__xcs_batch__ = make_batch(self.target, fn, batch, max_batch)
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


intrinsics.install_leaf_op(LeafOp)


# -- jit ----------------------------------------------------------------------------------
class JitFunction:
    """A function whose leaf calls run in parallel where the dataflow allows."""

    def __init__(self, fn: Callable[..., Any], executor: str | None,
                 max_workers: int | None, leaves: Leaves | None = None) -> None:
        functools.update_wrapper(self, fn)
        self.fn, self.executor, self.max_workers = fn, executor, max_workers
        self.leaves = leaves
        self._watched = False  # the first run times its calls (see xcs_core.leaves)

    def _run_options(self, override: Mapping[str, Any]) -> dict[str, Any]:
        """What ``runtime.run`` takes besides the call: observer, around, leaves, watch."""
        leaves = self.leaves
        extra = override.get("leaves")
        if extra is not None:
            leaves = extra if leaves is None else Leaves([*leaves.specs, *extra.specs])
        watch = "" if self._watched else self.__qualname__
        self._watched = True
        return {"observer": override.get("observer"), "around": override.get("around"),
                "leaves": leaves, "watch": watch}

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        return self if obj is None else types.MethodType(self, obj)

    def _executor(self) -> tuple[Mapping[str, Any], Any]:
        """The scope's settings and the executor they and this function's defaults pick."""
        override = _settings.get()
        return override, get_executor(override.get("executor") or self.executor or "threads",
                                      override.get("max_workers") or self.max_workers)

    @property
    def __xcs_source__(self) -> Callable[..., Any]:
        """The function as written (``xcs.trace`` compiles it like a jitted call)."""
        return self.fn

    def __xcs_dispatch__(self, ctx: runtime.Context, args: tuple, kwargs: dict) -> Any:
        """Called from compiled code inside another jitted call: join its graph (with
        this function's own ``leaves=`` added while it runs)."""
        twin = twins.twin_of(self.fn)
        if self.leaves is None:
            return twin(*args, **kwargs)
        with _more_leaves(ctx, self.leaves):
            return twin(*args, **kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if runtime.current() is not None:  # nested, from code xcs did not compile
            out = twins.twin_of(self.fn)(*args, **kwargs)
            return intrinsics.resolve_deep(out, "returned to code xcs did not compile")
        override, executor = self._executor()
        if not executor.parallel:
            return self.fn(*args, **kwargs)
        if executor.name == "asyncio" and runtime.running_loop() is not None:
            raise RuntimeError(
                f"xcs.jit: {self.__qualname__} was called inside a running event loop, where "
                "waiting for its async calls would block that loop; use "
                f"'await {self.__name__}.aio(...)' instead")
        return runtime.run(twins.twin_of(self.fn), args, kwargs, executor,
                           **self._run_options(override))

    async def aio(self, *args: Any, **kwargs: Any) -> Any:
        """Await the jitted call from a coroutine: it runs on a worker thread, so the
        running event loop stays free while the call's own operations run."""
        return await runtime.running_loop().run_in_executor(
            None, functools.partial(self, *args, **kwargs))

    def __repr__(self) -> str:
        return f"<xcs.jit {getattr(self.fn, '__qualname__', self.fn)!r}>"


@contextmanager
def _more_leaves(ctx: runtime.Context, leaves: Leaves) -> Iterator[None]:
    saved = ctx.leaves
    ctx.leaves = leaves if saved is None else Leaves([*saved.specs, *leaves.specs])
    ctx.extra = True
    try:
        yield
    finally:
        ctx.leaves = saved
        ctx.extra = saved is not None or ctx.watch is not None


class AsyncJitFunction(JitFunction):
    """A jitted ``async def``: ``await f(...)`` runs its leaf calls in parallel.

    The body runs on a worker thread (with a private loop for its own awaits),
    so waiting for a value never blocks the caller's event loop; ``@xcs.op
    async def`` calls run on the caller's running loop with the asyncio
    executor, and sync calls on worker threads.  Inside the body, ``await
    op(...)`` hands back the pending result at once (see ``Traced.__await__``).
    """

    def __xcs_dispatch__(self, ctx: runtime.Context, args: tuple, kwargs: dict) -> Any:
        if self.leaves is None:
            return twins.twin_of(self.fn)(*args, **kwargs)
        return self._nested(ctx, args, kwargs)

    async def _nested(self, ctx: runtime.Context, args: tuple, kwargs: dict) -> Any:
        with _more_leaves(ctx, self.leaves):
            return await twins.twin_of(self.fn)(*args, **kwargs)

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if runtime.current() is not None:  # nested, from code xcs did not compile
            out = await twins.twin_of(self.fn)(*args, **kwargs)
            return intrinsics.resolve_deep(out, "returned to code xcs did not compile")
        override, executor = self._executor()
        if not executor.parallel:
            return await self.fn(*args, **kwargs)
        loop = runtime.running_loop()
        if executor.name == "asyncio":
            executor = executor.on_loop(loop)
        body = functools.partial(runtime.run, _drive(twins.twin_of(self.fn)), args, kwargs,
                                 executor, **self._run_options(override))
        return await loop.run_in_executor(None, body)


def _drive(coroutine_function: Callable[..., Any]) -> Callable[..., Any]:
    """A sync function running ``coroutine_function`` to completion on a private loop.

    The loop is this worker thread's own and is reused (a new loop per call costs
    more than a small jitted coroutine); as ``asyncio.run`` does, tasks the body left
    running are cancelled when it returns."""
    def drive(*args: Any, **kwargs: Any) -> Any:
        import asyncio

        loop = getattr(_private, "loop", None)
        if loop is None or loop.is_closed():
            loop = _private.loop = asyncio.new_event_loop()
        try:
            return loop.run_until_complete(coroutine_function(*args, **kwargs))
        finally:
            left = asyncio.all_tasks(loop)
            for task in left:
                task.cancel()
            if left:
                loop.run_until_complete(asyncio.gather(*left, return_exceptions=True))
    return drive


_private = threading.local()  # each worker thread's private event loop

def jit(fn: Any = None, *, executor: str | None = None, max_workers: int | None = None,
        leaves: Any = None) -> Any:
    """Run the leaf calls of ``fn`` (a function or ``Operator`` class) in parallel.

    Results, exceptions and the order of effects are those of plain Python;
    see ``docs/execution.md``.  ``executor`` and ``max_workers`` set this
    function's defaults; ``xcs.execution(...)`` overrides them in a scope.
    ``leaves`` lists functions, bound methods, classes (any method of their
    instances) or module names (``"httpx"``) whose calls, made from this
    function's code, are leaf calls as if wrapped with ``xcs.op``.
    """
    if executor is not None:
        validate_executor(executor, "jit(executor=...)")
    if max_workers is not None:
        validate_max_workers(max_workers, "jit(max_workers=...)")
    if not isinstance(leaves, (Leaves, type(None))):
        leaves = Leaves(leaves) or None
    if fn is None:
        return lambda f: jit(f, executor=executor, max_workers=max_workers, leaves=leaves)
    if isinstance(fn, type):
        if not issubclass(fn, Operator):
            raise TypeError(f"xcs.jit: a class must subclass xcs.Operator, got {fn.__qualname__}")
        fn.__xcs_jit__ = JitFunction(fn.forward, executor, max_workers, leaves)
        return fn
    if not callable(fn):
        raise TypeError(f"xcs.jit: expected a function or an Operator class, got "
                        f"{type(fn).__name__} {fn!r}")
    reason = _untraceable(fn)
    if reason:
        warnings.warn(f"xcs.jit: {getattr(fn, '__qualname__', fn)!r} runs as plain sequential "
                      f"Python: {reason}", XcsWarning, stacklevel=2)
        return fn
    if inspect.iscoroutinefunction(fn):
        return AsyncJitFunction(fn, executor, max_workers, leaves)
    return JitFunction(fn, executor, max_workers, leaves)


def _untraceable(fn: Any) -> str:
    if inspect.isgeneratorfunction(fn) or inspect.isasyncgenfunction(fn):
        return "generator functions yield values lazily and cannot be traced"
    return ""


@contextmanager
def execution(executor: str | None = None, max_workers: int | None = None,
              observer: Callable[[runtime.Context], None] | None = None,
              around: Callable[[Node], Any] | None = None, leaves: Any = None
              ) -> Iterator[None]:
    """Switch every jitted call in this scope to ``executor`` / ``max_workers``.

    ``leaves`` adds leaf callees (as ``jit(leaves=...)``) to every jitted call.
    ``observer(ctx)`` is called after each jitted run with its context (the
    runtime nodes, timings and workers), e.g. to draw a timeline.
    ``around(node)`` returns a context manager entered on the worker thread
    around each dispatched operation, e.g. to profile worker threads.
    """
    if executor is not None:
        validate_executor(executor, "execution(executor=...)")
    if max_workers is not None:
        validate_max_workers(max_workers, "execution(max_workers=...)")
    if leaves is not None and not isinstance(leaves, Leaves):
        leaves = Leaves(leaves, "execution(leaves=...)") or None
    new = dict(_settings.get())
    new.update({k: v for k, v in (("executor", executor), ("max_workers", max_workers),
                                  ("observer", observer), ("around", around),
                                  ("leaves", leaves)) if v is not None})
    token = _settings.set(types.MappingProxyType(new))
    try:
        yield
    finally:
        _settings.reset(token)


def value(obj: Any) -> Any:
    """The concrete value of ``obj``: waits for pending results, also inside containers.

    Use it before handing a result to code that checks exact types (C
    extensions, ``json``) or compares it with ``is``.
    """
    if type(obj) is Traced:
        return values_module._RT.force(obj, "xcs.value()")
    return intrinsics.resolve_deep(obj, "xcs.value()")


intrinsics.PASS_THROUGH.add(value)
