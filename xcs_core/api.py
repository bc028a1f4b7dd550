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
import weakref
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

from xcs_core import calls, cost, intrinsics, runtime, standins, twins  # noqa: F401 - standins: installs
from xcs_core import values as values_module
from xcs_core.errors import DeferredFailure, XcsWarning
from xcs_core.executors import get_executor, validate_executor, validate_max_workers
from xcs_core.leaves import Leaves
from xcs_core.nodes import Node
from xcs_core.ops import LeafOp, Operator, op
from xcs_core.values import Traced

__all__ = ["AsyncJitFunction", "JitFunction", "LeafOp", "Operator", "XcsWarning", "execution",
           "jit", "op", "value"]

F = TypeVar("F", bound=Callable[..., Any])
_settings: contextvars.ContextVar[types.MappingProxyType] = contextvars.ContextVar(
    "xcs_execution", default=types.MappingProxyType({}))


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
        return await _in_thread(runtime.running_loop(), functools.partial(self, *args, **kwargs))

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
        if hasattr(executor, "on_loop"):  # its async calls as tasks of the caller's loop
            executor = executor.on_loop(loop)
        body = functools.partial(runtime.run, _drive(twins.twin_of(self.fn)), args, kwargs,
                                 executor, **self._run_options(override))
        out = await _in_thread(loop, body)
        gathering = sys.modules.get("xcs_core.gathering")  # made only where gather ran
        return out if gathering is None else gathering.rebound(out, loop)


async def _in_thread(loop: Any, body: Callable[[], Any]) -> Any:
    """``await`` ``body()`` run on a worker thread of ``loop``'s default executor, with this
    task's context variables, as if it ran in this task: it sees what was set before,
    and what it sets is set here when it is done (a run in the task would have set it
    here).  Its exception is raised here as it is: through the future of
    ``run_in_executor``, asyncio would replace a ``TimeoutError`` or a
    ``CancelledError`` with a new one, without its cause and traceback."""
    context = contextvars.copy_context()
    try:
        value, exc = await loop.run_in_executor(None, context.run, _outcome, body)
    finally:
        _adopt(context)
    if exc is not None:
        try:
            raise exc
        finally:
            exc = None  # no cycle through this frame
    return value


def _outcome(body: Callable[[], Any]) -> tuple[Any, BaseException | None]:
    try:
        return body(), None
    except BaseException as exc:  # noqa: BLE001 - raised by ``_in_thread``, in the caller
        return None, exc


def _adopt(context: contextvars.Context) -> None:
    """Set here every context variable whose value in ``context`` differs."""
    here = contextvars.copy_context()
    for var, value in context.items():
        if here.get(var, _UNSET) is not value:
            var.set(value)


_UNSET = object()


async def _keeping_context(coroutine: Any, box: list[contextvars.Context]) -> Any:
    """``await coroutine``, then put the context variables it ran with in ``box`` (a
    task runs in a copy of the context it was made in)."""
    try:
        return await coroutine
    finally:
        box.append(contextvars.copy_context())


def _drive(coroutine_function: Callable[..., Any]) -> Callable[..., Any]:
    """A sync function running ``coroutine_function`` to completion on a private loop.

    The loop is this worker thread's own and is reused (a new loop per call costs
    more than a small jitted coroutine); as ``asyncio.run`` does, tasks the body left
    running are cancelled when it returns."""
    def drive(*args: Any, **kwargs: Any) -> Any:
        import asyncio

        # no local names the ``_PrivateLoop``: a traceback through this frame (kept in a
        # cycle) would keep it, and the collector could then free the loop first, open
        if getattr(_private, "loop", None) is None or _private.loop.loop.is_closed():
            _private.loop = _PrivateLoop()
        loop, ran = _private.loop.loop, []
        try:
            return loop.run_until_complete(
                _keeping_context(coroutine_function(*args, **kwargs), ran))
        finally:
            if ran:  # what the body set is set here, and by ``_in_thread`` in the caller
                _adopt(ran[0])
            left = asyncio.all_tasks(loop)
            for task in left:
                task.cancel()
            if left:
                loop.run_until_complete(asyncio.gather(*left, return_exceptions=True))
            tasks = _private.loop.tasks
            for task in list(tasks):  # their done callbacks may never run: the loop
                _retrieve_deferred(task)  # stops when the body ends
            tasks.clear()
    return drive


_private = threading.local()  # each worker thread's ``_PrivateLoop``


class _PrivateLoop:
    """A worker thread's private event loop (``drive``) and the tasks made on it.

    It is closed when the thread ends and its thread-local slot is cleared, as
    ``asyncio.run`` closes its loop: otherwise the garbage collector would find it
    open later ("unclosed event loop"), after its sockets were freed."""

    __slots__ = ("loop", "tasks")

    def __init__(self) -> None:
        import asyncio

        self.loop = asyncio.new_event_loop()
        self.loop.set_task_factory(_quiet_task)
        self.tasks: weakref.WeakSet[Any] = weakref.WeakSet()

    def __del__(self) -> None:
        if not self.loop.is_closed():
            self.loop.close()


def _quiet_task(loop: Any, coro: Any, **kwargs: Any) -> Any:
    """The private loop's tasks: one that ends because an earlier call failed is not
    logged as "never retrieved".  Plain Python stopped at that failure and never made
    the task; the jit boundary raises the failure itself.  A task that ends in the
    loop's last turn is looked at when the body returns (``drive``), others when they
    end."""
    import asyncio

    task = asyncio.Task(coro, loop=loop, **kwargs)
    task.add_done_callback(_retrieve_deferred)
    _private.loop.tasks.add(task)
    return task


def _retrieve_deferred(task: Any) -> None:
    """Mark retrieved the exception of a task plain Python would never have made: one
    that ends because an earlier call failed (``DeferredFailure``), or one driving a call
    made after the first failure in program order (its inputs' failure ended it).
    (``exception()`` would mark any exception retrieved: only these are looked at.)"""
    if not task.done() or task.cancelled():
        return
    exc = getattr(task, "_exception", None)
    if exc is None:
        return
    if isinstance(exc, DeferredFailure) or _after_first_failure(task.get_coro()):
        task.exception()


def _after_first_failure(coroutine: Any) -> bool:
    if type(coroutine) is not values_module.Pending:
        return False
    node = coroutine.value._xcs_node
    return node.sched is not None and node.sched.never_reached(node)


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


calls.PASS_THROUGH.add(value)
