"""What a stand-in asks of the runtime (``values.Runtime``), for this thread's context.

A ``Traced`` value routes every operation on it here: forcing it (waiting, and
recording a serialization point at the user's line), recording glue on it (cheap
Python applied to it, computed when it is ready), calling a method of it,
mutating it, iterating it, and awaiting it (``await_pending``: whose failure an
awaited async call's is).  In ``record`` mode (``xcs.trace``) glue is recorded
on values already computed; in ``run`` mode (``xcs.jit``) it is handed to the
scheduler while its inputs are pending.  Importing this module installs it.
"""

from __future__ import annotations

import functools
import sys
import warnings
from collections.abc import Iterator
from contextvars import copy_context
from typing import Any

from xcs_core import intrinsics, sites, values, walk
from xcs_core.errors import DeferredFailure
from xcs_core.ir import OpKind
from xcs_core.nodes import DONE, FAILED, Cancelled, Node, fetch_values, reraise, value_of, wait
from xcs_core.runtime import RECORD, RUN, Context, _record, current
from xcs_core.values import Traced

__all__ = ["PURE_METHODS"]

# Method names that never mutate their receiver on str/bytes/numbers/tuples and
# the read-only methods of dict/list/set: calls of these stay lazy on pending values.
PURE_METHODS = frozenset(
    name for typ in (str, bytes, int, float, tuple, frozenset) for name in dir(typ)
    if not name.startswith("_")
) | {"get", "keys", "values", "items", "copy", "index", "count"}



# -- the runtime that Traced routes to ----------------------------------------------
class _Runtime:
    """Implements ``values.Runtime`` for the current thread's context."""

    def _owner(self, args: tuple) -> Context | None:
        ctx = current()
        if ctx is None:
            return None
        for arg in args:
            if type(arg) is Traced and not ctx.owns(arg):
                return None
        return ctx

    def force(self, proxy: Traced, reason: Any) -> Any:
        node = proxy._xcs_node
        ctx = current()
        if ctx is None or not ctx.owns(proxy):
            return wait(node)
        if ctx.mode == RECORD:
            ctx.sync(node, reason)
            return node.value
        if node.state < DONE:
            ctx.sync(node, reason)
            ctx.sched.wait(node)
        if node.state == FAILED:
            raise DeferredFailure()
        return value_of(node)

    def wait_inside(self, objs: tuple, reason: Any) -> None:
        """Before the pending values inside ``objs`` are forced one by one: wait for all of
        them together, woken once instead of once per value."""
        ctx = current()
        if ctx is None or ctx.mode != RUN:
            return
        found: dict[int, Node] = {}
        for obj in objs:
            walk.collect(obj, found)
        pending = [n for n in found.values() if n.state < DONE and n.owner is ctx]
        if len(pending) > 1:
            if ctx.nodes is not None:  # a kept graph records where each was waited for
                frame = sites.user_frame()
                for node in pending:
                    ctx.sync(node, reason, frame)
            ctx.sched.wait_many(pending)
        if ctx.sched.starts_calls and len(found) > 1:  # values kept remote: one round trip
            fetch_values(found.values())

    def glue(self, fn: Any, label: str, args: tuple, direct: bool) -> Any:
        ctx = self._owner(args)
        pending = ctx is not None and any(
            type(a) is Traced and a._xcs_node.state < DONE for a in args)
        if ctx is None or (ctx.mode == RUN and not (direct and pending)):
            reason = f"'{label}' applied by C code"
        elif ctx.mode == RUN and intrinsics.guarded():
            reason = f"'{label}' inside try"
        else:
            return self._glue_node(ctx, fn, label, args)
        return fn(*[self.force(a, reason) if type(a) is Traced else a for a in args])

    def _glue_node(self, ctx: Context, fn: Any, label: str, args: tuple) -> Any:
        target = label if label.startswith(".") else f"op {label}"
        node = ctx._node(OpKind.GLUE, target, fn, args, None,
                         sites.site_of(sites.user_frame()))
        if ctx.mode == RECORD:
            return ctx._wrap(node, _record(node))
        ctx.check_failed()
        node.context = copy_context()  # it runs where its inputs finish
        ctx.sched.add(node)
        return Traced(node)

    def call(self, proxy: Traced, args: tuple, kwargs: dict, direct: bool) -> Any:
        ctx = self._owner((proxy,))
        node = proxy._xcs_node
        lazy = (ctx is not None and direct and not kwargs and node.kind is OpKind.GLUE
                and node.fn is getattr and node.target[1:] in PURE_METHODS)
        if lazy:
            return self.glue(_call_method, node.target + "()", (proxy, *args), True)
        method = self.force(proxy, "call of a method that may change its object")
        return method(*args, **kwargs)

    def mutate(self, fn: Any, label: str, args: tuple) -> Any:
        ctx = self._owner(args[:1])
        if ctx is not None and ctx.mode == RECORD:
            return self._glue_node(ctx, fn, label, args)
        target = self.force(args[0], f"'{label}' changes the value")
        return fn(target, *args[1:])

    def await_value(self, proxy: Traced) -> Any:
        """What ``await`` gives: the value if it is there, else the stand-in itself."""
        node = proxy._xcs_node
        if node.state == DONE:
            return value_of(node)
        if node.state == FAILED:
            return self.force(proxy, "await")
        return proxy

    def await_pending(self, proxy: Traced, exactly: bool = False) -> Any:
        """``await`` of a dispatched async call (a generator: ``yield from`` it).

        ``exactly`` (a task drives the call: ``create_task``, ``ensure_future``), or
        inside a ``try``/``with`` body or a task of ``gather(return_exceptions=True)``
        (``intrinsics.guarded``), the await waits, on the event loop, and raises the
        call's exception right there.  Elsewhere it does not wait: the call's failure
        becomes the program's from this point (later calls are cancelled, the boundary
        raises it) and its stand-in is returned."""
        node = proxy._xcs_node
        ctx = current()
        if exactly or intrinsics.guarded() or ctx is None or not ctx.owns(proxy):
            return (yield from _exactly(node))
        node.sched.own(node, ctx.count - 0.5)
        return self.await_value(proxy)

    def cancel_pending(self, proxy: Traced, exc: Any) -> None:
        """``exc`` (an exception or its class) was raised into the awaiter of a dispatched
        async call: a ``CancelledError`` (a timeout ran out, ``task.cancel()``) cancels the
        call, as the awaited coroutine is in plain Python (``Waiting.cancel``); anything
        else leaves it alone."""
        import asyncio  # a loop is running: asyncio is imported

        if isinstance(exc, type):
            exc = exc() if issubclass(exc, asyncio.CancelledError) else None
        node = proxy._xcs_node
        if isinstance(exc, asyncio.CancelledError) and node.sched is not None:
            node.sched.cancel(node, exc)

    def abandoned(self, proxy: Traced) -> None:
        """A call's ``Pending`` was collected, never awaited (this may run anywhere, under
        any lock: it only hands over).  During the jitted call it is kept for the
        boundary (``cancel_unawaited``, ``report_unawaited``); after it, warned of now."""
        node = proxy._xcs_node
        sched = node.sched
        if sched is None:
            return
        if not sched.over:
            sched.abandoned.append(node)
        elif not sched.never_reached(node):
            _never_awaited(node)

    def cancel_unawaited(self, sched: Any, calls: list[tuple[Node, Any]], kept: Any) -> None:
        """Cancel the async calls plain Python would never have run: those whose ``Pending``
        was dropped unawaited (``abandoned``), and those still held, unawaited, by the
        finished frames that made them (a list of coroutines of which only some were
        awaited), unless ``kept`` (the returned value, the arguments) holds them: the caller
        may await those.  The jitted call must not wait for either (one that never ends
        would hang it).  ``calls``: the scheduler's ``unawaited`` calls and their frames."""
        import asyncio  # an async call was made where a loop runs: asyncio is imported

        for node in list(sched.abandoned):
            sched.cancel(node, asyncio.CancelledError())
        if not calls:
            return
        held: dict[int, Any] = {}
        _pendings_in(kept, held, set())
        candidates = {id(node): node for node, _ in calls if id(node) not in held}
        found: dict[int, Any] = {}
        for frame in {id(frame): frame for _, frame in calls}.values():
            _pendings_in(tuple(frame.f_locals.values()), found, set())
        for key, pending in found.items():
            if key in candidates and pending is not None and not pending.awaited:
                candidates[key].sched.cancel(candidates[key], asyncio.CancelledError())

    def report_unawaited(self, sched: Any) -> None:
        """The jitted call is over (every call it waits for has ended, so the first failure
        is known): warn of each call whose ``Pending`` was collected unawaited meanwhile, as
        plain Python warns when it collects such a coroutine, unless plain Python, stopped
        by an earlier failure, never made it.  Later ones are warned of when collected."""
        abandoned = sched.abandoned
        while abandoned:
            node = abandoned.popleft()
            if not sched.never_reached(node):
                _never_awaited(node)

    def iterate(self, proxy: Traced) -> Iterator[Any]:
        value = self.force(proxy, "iteration")
        ctx = current()
        if ctx is not None and ctx.mode == RECORD and type(value) in (list, tuple):
            return iter([self._glue_node(ctx, _item, "[]", (proxy, i))
                         for i in range(len(value))])
        return iter(value)


#: "never awaited" warnings already shown, per file (``_never_awaited``: as a module's
#: ``__warningregistry__``, so the default filter shows each place once)
_registries: dict[str, dict] = {}


def _never_awaited(node: Node) -> None:
    """Warn as plain Python does when it collects a coroutine nobody awaited (at the call
    site); a warning turned into an exception (``-W error``) goes to
    ``sys.unraisablehook``, as there.  Not while the interpreter shuts down: imports and
    the ``warnings`` machinery may be gone."""
    if sys.is_finalizing():
        return
    fn = getattr(node.fn, "coroutine_function", node.fn)
    message = f"coroutine {getattr(fn, '__qualname__', node.target)!r} was never awaited"
    filename, lineno = node.site or ("sys", 1)
    frame = node.frame
    scope = frame[0].f_globals if frame is not None else {}
    registry = scope["__warningregistry__"] if "__warningregistry__" in scope else (
        _registries.setdefault(filename, {}))
    # (``module=None`` would make C's warn_explicit ignore the warning)
    module = scope.get("__name__") or (filename[:-3] if filename.endswith(".py") else filename)
    try:
        warnings.warn_explicit(message, RuntimeWarning, filename, lineno, module=module,
                               registry=registry)
    except Exception as exc:  # noqa: BLE001 - reported, never raised (as in plain Python)
        _Unraisable(exc)  # to ``sys.unraisablehook``, by the interpreter, in its own form


class _Unraisable:
    """Hands ``exc`` to ``sys.unraisablehook`` as the interpreter does for an exception
    raised where none can propagate (a finalizer): by raising it from ``__del__``."""

    __slots__ = ("exc",)

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def __del__(self) -> None:
        exc, self.exc = self.exc, None
        raise exc


def _pendings_in(obj: Any, found: dict[int, Any], seen: set[int]) -> None:
    """Put in ``found`` (by their node's id) the ``Pending`` objects, and the stand-ins
    (as ``None``), inside ``obj`` and the lists, tuples, dicts and sets it holds."""
    kind = type(obj)
    if kind is values.Pending:
        found.setdefault(id(obj.value._xcs_node), obj)
    elif kind is Traced:
        found[id(obj._xcs_node)] = None
    elif kind in (list, tuple, dict, set, frozenset) and id(obj) not in seen:
        seen.add(id(obj))
        for item in (obj.values() if kind is dict else obj):
            if type(item) not in walk.ATOMS:
                _pendings_in(item, found, seen)


def _exactly(node: Node) -> Any:
    """Await ``node`` on the running loop; its value, or its exception raised here."""
    if node.state < DONE:
        import asyncio  # a loop is running: asyncio is imported

        loop = asyncio.get_running_loop()
        done = _awaited_class()(loop=loop)
        done.node = node
        node.sched.when_done(node, lambda: _wake(loop, done))
        try:
            yield from done
        except asyncio.CancelledError as exc:  # its awaiter was cancelled: so is the call
            if not done.cancelled():  # (thrown in, not through ``task.cancel()``)
                node.sched.cancel(node, exc)
            raise
    if node.state == FAILED:
        if isinstance(node.exc, Cancelled):  # an earlier failure stopped it: that one counts
            raise DeferredFailure()
        reraise(node.exc)
    return value_of(node)


@functools.cache
def _awaited_class() -> type:
    """The class of the future an exact await of a call waits on (made on first use: an
    event loop is running, so asyncio is imported)."""
    import asyncio

    class Awaited(asyncio.Future):
        """Cancelling it cancels the call it waits for (``Waiting.cancel``).  A task's
        ``cancel()`` cancels the future it waits on at once, so the call is cancelled
        before the code after ``cancel()`` goes on (an effect there waits for every
        earlier call), not when the task next runs."""

        node: Node

        def cancel(self, msg: Any = None) -> bool:
            if not self.done():
                self.node.sched.cancel(self.node, asyncio.CancelledError())
            return super().cancel(msg)

    return Awaited


def _wake(loop: Any, future: Any) -> None:
    """Runs under the scheduler's lock when an awaited call ends: hand over to the
    awaiter's loop, unless that loop has closed (its awaiter was cancelled, and its
    ``asyncio.run`` ended before the call did)."""
    try:
        loop.call_soon_threadsafe(_set, future)
    except RuntimeError:  # the loop is closed: nobody is left to wake
        pass


def _set(future: Any) -> None:
    if not future.done():
        future.set_result(None)


def _call_method(method: Any, *args: Any) -> Any:
    return method(*args)


def _item(container: Any, index: int) -> Any:
    return container[index]


values.install(_Runtime())
