"""The runtime's front door: the current context, the call's trace, and the jit boundary.

Everything that happens while a jitted (or traced) call runs goes through here:

* ``current()`` / ``_activate``: the one place that swaps this thread's trace
  context (a thread-local, as JAX swaps its current trace).
* ``Context``: the trace of one call, in one of two modes.  ``record``
  (``xcs.trace``) runs every leaf call at once, inline, timed, and hands out
  stand-ins so glue on them is recorded.  ``run`` (``xcs.jit``) hands a leaf
  call to the scheduler and returns a pending stand-in at once, after taking a
  snapshot of its arguments; a call runs at once instead when it is an effect,
  sits in a ``try``/``with`` body, or was made by code xcs did not compile.
* What a stand-in asks for (``values.Runtime``: force it, record glue on it,
  await it) is ``xcs_core.standins``, for the context ``current()`` gives.
* ``run``: the jit boundary.  It runs the compiled function under a fresh
  context, waits for every call it started, raises the failure first in
  program order at the user's call site, and returns (and leaves behind)
  concrete values only (``xcs_core.boundary``).

Compiled code reaches this module through ``xcs_core.intrinsics``; where it
forces values, and why, is documented there and in ``docs/execution.md``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextvars import copy_context
from types import CodeType, FrameType
from typing import Any

from xcs_core import calls, cost, intrinsics, mutation, sites, twins, walk  # noqa: F401 - calls: cells
from xcs_core import values as _values
from xcs_core.boundary import at_call_site, explain_escape, settle, settle_after_failure
from xcs_core.errors import DeferredFailure
from xcs_core.ir import OpKind
from xcs_core.leaves import Leaves, Watch, warn_no_leaf_calls
from xcs_core.mutation import ArgumentWatch
from xcs_core.nodes import (
    DONE,
    FAILED,
    NO_KWARGS,
    Node,
    begin,
    direct_call,
    ended,
    execute,
    fetch_values,
    reraise,
    resolve,
    written,
)
from xcs_core.scheduler import Scheduler
from xcs_core.values import Pending, Ready, Traced
from xcs_core.waiting import NEVER

__all__ = ["Context", "DeferredFailure", "current", "run"]

def running_loop() -> Any:
    """The event loop running on this thread, if any (asyncio is not imported for this:
    no loop can run before it is)."""
    asyncio = sys.modules.get("asyncio")
    return None if asyncio is None else asyncio._get_running_loop()


_state = intrinsics.STATE  # ``ctx``: the current trace of this thread
_guard_depth, _cheap = intrinsics.GUARD_DEPTH, cost.INLINE
_CALL, _exc_info = OpKind.CALL, sys.exc_info
_new, _bind = object.__new__, Traced._xcs_node.__set__  # ``Traced(node)``, one call less
RECORD, RUN = "record", "run"
_GUARDED = "inside a try block: runs at once so the same except catches its errors"
_UNCOMPILED = "called from code xcs did not compile: runs at once"
_INLINE = "cheaper than a dispatch: runs inline"
_CHANGES = "changes the containers it is given: runs at once"
_ITERATOR = "given an iterator: runs at once, which consumes it where it is called"


def _given_iterator(args: tuple, kwargs: dict) -> bool:
    """Is an argument an iterator (a generator, ``map``, ``zip``...)?  A call given one
    runs at once: the iterator's own code then runs where plain Python runs it, on the
    values of that moment (it may yield pending values, or read variables the caller
    changes next)."""
    lazy = walk.LAZY
    return (not intrinsics.atoms(args) and any(type(a) in lazy for a in args)) or bool(
        kwargs and any(type(v) in lazy for v in kwargs.values()))


def _runs_inline(node: Node) -> bool:
    """Is ``node`` a call of a callable known to be cheaper than a dispatch, whose inputs are
    done?  It then runs inline, now."""
    return node.key in _cheap and all(d.state == DONE for d in node.inputs)


def current() -> Context | None:
    """The trace context of this thread, if any."""
    return _state.ctx


class _activate:  # noqa: N801 - used as ``with _activate(ctx):``, like a function
    """``with _activate(ctx):`` makes ``ctx`` this thread's context for the block (a class,
    not a generator: every jitted call enters one)."""

    __slots__ = ("ctx", "previous")

    def __init__(self, ctx: Context) -> None:
        self.ctx, self.previous = ctx, None

    def __enter__(self) -> Context:
        self.previous, _state.ctx = _state.ctx, self.ctx
        return self.ctx

    def __exit__(self, *exc_info: Any) -> None:
        _state.ctx = self.previous


class Context:
    """The trace of one jitted or traced call on one thread (see module doc)."""

    def __init__(self, mode: str, scheduler: Scheduler | None = None,
                 boundary: FrameType | CodeType | None = None, keep: bool = True,
                 check: Callable[[Node], None] | None = None) -> None:
        self.mode = mode
        self.check = check  # the executor's veto, asked at the call site
        self.sched = scheduler
        self.boundary = boundary
        # Run mode keeps no node alive unless asked (observer): a value is then
        # freed at its last use, exactly as in plain Python.
        self.nodes: list[Node] | None = [] if keep or mode == RECORD else None
        self.count = 0
        self.made_pending = False  # has a stand-in been handed out (else nothing to force)
        self.leaf_calls = 0
        self.leaves: Leaves | None = None  # callees whose calls are leaf calls (jit(leaves=))
        self.watch: Watch | None = None  # times the calls of a watched first run
        self.extra = False  # either of the two: compiled calls take the slower path
        # containers that received a pending value: the boundary makes them concrete
        self.escapes: dict[int, Any] = {}
        # leaf calls run in this process, on the objects they are given (``mutation``)
        self.local = True

    # -- nodes --------------------------------------------------------------------
    def _node(self, kind: OpKind, target: str, fn: Any = None, args: tuple = (),
              kwargs: dict | None = None, site: sites.Site | None = None,
              effect: bool = False, found: dict[int, Node] | None = None) -> Node:
        if found is None:
            found = {}
            if args:
                walk.collect(args, found)
            if kwargs:
                walk.collect(kwargs, found)
        return self._made(Node(self.count, kind, target, fn, args, kwargs,
                               list(found.values()), site, effect), target)

    def _made(self, node: Node, key: str) -> Node:
        """``node``, just made with the next number, as this context's (``key``: its
        callable's, for the cost model)."""
        node.owner, node.key = self, key
        self.count += 1
        if self.nodes is not None:
            self.nodes.append(node)
        return node

    def owns(self, proxy: Traced) -> bool:
        return proxy._xcs_node.owner is self

    def check_failed(self) -> None:
        """Stop user code once an earlier call has failed (plain Python would have)."""
        if self.sched is not None and self.sched.failed_seq != NEVER:
            raise DeferredFailure()

    def sync(self, node: Node, reason: Any, frame: FrameType | None = None) -> None:
        """Record a serialization point on ``node`` at the user's line (``frame``, found
        here when not given; only in a graph that is kept: nothing else reads it).
        ``reason`` is a string, or an object whose ``str()`` is formatted only here, when
        it is recorded."""
        if self.nodes is None:
            return
        if frame is None:
            frame = sites.user_frame()
        sync = self._node(OpKind.SYNC, "sync", site=sites.site_of(frame))
        sync.inputs, sync.reason, sync.state = [node], str(reason), DONE

    # -- leaf calls ---------------------------------------------------------------
    def call(self, target: str, fn: Callable, args: tuple, kwargs: dict, effect: bool,
             key: str = "", compiled: bool = True, frame: FrameType | None = None) -> Any:
        """Dispatch one leaf call (see module doc for the two modes).

        ``compiled`` is False when code xcs did not compile made the call: that
        code could observe a pending value unseen, so the call runs at once.
        ``frame`` is the user's frame that made the call, when the caller knows it.

        This is the calling thread's cost of every leaf call: the common case (a
        pure call from compiled code, outside ``try``, with plain arguments) takes
        the fewest steps, each of which the rarer cases share.
        """
        self.leaf_calls += 1
        if self.watch is not None and self.mode == RUN:  # it makes leaf calls: no warning
            self.watch, self.extra = None, self.leaves is not None  # to time calls for
        if frame is None:
            frame = sites.user_frame()
        # an async op gives an awaitable where plain Python would (a loop is running)
        is_async = getattr(fn, "is_async", False) and running_loop() is not None
        if self.mode == RECORD:
            value = self._record_call(target, fn, args, kwargs, effect, compiled, frame)
            return Ready(value) if is_async else value
        sched = self.sched
        if sched.failed_seq != NEVER:  # an earlier call failed: stop, as plain Python would
            raise DeferredFailure()
        site = None if frame is None else (frame.f_code.co_filename, frame.f_lineno)
        if effect or not compiled or (_guard_depth.get() and not is_async):
            reason = "effect" if effect else _UNCOMPILED if compiled is False else _GUARDED
            node = self._node(OpKind.CALL, target, fn, args, kwargs, site, effect)
            node.key = key or target
            value = self._call_now(node, reason)
            return Ready(value) if is_async else value
        node, now = self._snapshot(target, fn, args, kwargs, site, key or target)
        if now and not (is_async and now is _INLINE):  # with the objects themselves
            # (an awaitable call stays one, however cheap: awaited or not, and when, is
            # the program's to decide, as for a coroutine)
            node.args, node.kwargs = args, kwargs or NO_KWARGS
            value = self._call_now(node, now)
            return Ready(value) if is_async else value
        if self.check is not None:
            self.check(node)
        if frame is not None:
            # and the exception being handled there, if any (see ``_at_call_site``)
            node.frame = (frame, frame.f_lasti, site[1], _exc_info()[1])
        node.context = copy_context()  # what the call sees where it runs, as a task would
        self.made_pending = True
        proxy = _new(Traced)
        _bind(proxy, node)
        if is_async:
            sched.defer(node)  # its failure is its awaiter's (see ``_Runtime.await_pending``)
            sched.add(node)
            return Pending(proxy)
        sched.add(node)
        sched.issued()
        return proxy

    def _snapshot(self, target: str, fn: Callable, args: tuple, kwargs: dict,
                  site: sites.Site | None, key: str) -> tuple[Node, str]:
        """The node of a call to dispatch, given snapshots of its containers (what the
        caller does to them later changes nothing it sees), and ``""``; or the reason it
        runs now instead: it is cheap and its inputs are done, or it may change the
        containers it is given (``mutation``)."""
        found: dict[int, Node] = {}
        if not kwargs and walk.plain(args, found):  # the common case: nothing to copy
            node = self._made(Node(self.count, _CALL, target, fn, args, NO_KWARGS,
                                   list(found.values()) if found else None, site), key)
            return node, _INLINE if _runs_inline(node) else ""
        return self._snapshot_containers(target, fn, args, kwargs, site, key)

    def _snapshot_containers(self, target: str, fn: Callable, args: tuple, kwargs: dict,
                             site: sites.Site | None, key: str) -> tuple[Node, str]:
        """``_snapshot`` of a call given containers or keyword arguments."""
        found: dict[int, Node] = {}
        copied = walk.snapshot(args, found) if args else args
        kwcopied = walk.snapshot(kwargs, found) if kwargs else kwargs
        node = self._made(Node(self.count, _CALL, target, fn, copied, kwcopied,
                               list(found.values()) if found else None, site), key)
        if _runs_inline(node):
            return node, _INLINE
        if _given_iterator(args, kwargs):
            return node, _ITERATOR
        if self.local and (copied is not args or kwcopied is not kwargs):
            node.given = mutation.given(args, kwargs)
            if node.given is not None and mutation.known(key) is not False:
                return node, _CHANGES
        return node, ""

    def _record_call(self, target: str, fn: Callable, args: tuple, kwargs: dict,
                     effect: bool, compiled: bool, frame: FrameType | None) -> Any:
        """Record mode: run the call now and hand out a stand-in for its value."""
        inputs, given = mutation.recorded(args, kwargs)
        node = self._made(Node(self.count, _CALL, target, fn, args, kwargs, inputs,
                               sites.site_of(frame), effect), target)
        node.given = given  # watched: does it change them?
        # what a jitted run would do instead of dispatching (the graph's meta reason)
        node.reason = "" if effect else _UNCOMPILED if not compiled else (
            _GUARDED if _guard_depth.get() else "")
        value = _record(node)
        if not node.reason and not effect and mutation.known(node.key):
            node.reason = _CHANGES  # it changed what it was given: a jitted run runs it now
        return self._wrap(node, value)

    def _call_now(self, node: Node, reason: str) -> Any:
        """Run a call synchronously on this thread (effects after everything before them)."""
        if node.effect:
            self.wait_all()
        node.reason = reason
        if node.inputs and self.sched is not None and self.sched.starts_calls:
            # values kept where they ran (a cluster): fetched together, not one by one
            fetch_values(node.inputs)
        try:
            args, kwargs = begin(node)
        except BaseException as exc:
            raise DeferredFailure() from exc
        if _given_iterator(args, kwargs):
            args, kwargs = resolve(args), resolve(kwargs)  # each item as it is taken
        if node.given is None:
            value = direct_call(node.fn, args, kwargs)
        else:  # does it change what it was given (see ``mutation``)?
            watch = ArgumentWatch(node.given, args, kwargs)
            try:
                value = direct_call(node.fn, args, kwargs)
            finally:
                watch.settle(node, None)
        ended(node, failed=False)
        node.args, node.kwargs = (), NO_KWARGS
        return node.done(value, node.start, node.end).value

    def _wrap(self, node: Node, value: Any) -> Any:
        """A stand-in for a recorded value; ``None`` and classes stay raw so ``is`` works."""
        if value is None or isinstance(value, type):
            return value
        self.made_pending = True
        proxy = _new(Traced)
        _bind(proxy, node)
        return proxy

    def wait_all(self) -> None:
        """Wait for every dispatched call; raise ``DeferredFailure`` if one failed."""
        if self.sched is not None:
            self.sched.wait_all()
            self.check_failed()


def _record(node: Node) -> Any:
    """Record mode: run ``node`` now, keep its outcome, raise its error at this line."""
    node.shown = written(node)  # for the printed graph, before running resolves the arguments
    value, exc = execute(node)
    # what it was given is not the graph's: let go of it, as a finished jitted call does
    node.args, node.kwargs = (), NO_KWARGS
    if exc is not None:
        node.state, node.exc = FAILED, exc
        raise exc
    node.state, node.value = DONE, value
    return value


# -- the jit boundary ------------------------------------------------------------------
def run(fn: Callable[..., Any], args: tuple, kwargs: dict, executor: Any,
         observer: Callable[[Context], None] | None,
         around: Callable[[Node], Any] | None = None, leaves: Leaves | None = None,
         watch: str = "") -> Any:
    """Run ``fn`` (compiled) under a fresh run-mode context on ``executor``: the jit
    boundary, which returns and leaves behind concrete values only.

    ``leaves`` makes calls of those callees leaf calls; ``watch`` (the function's
    name, on its first run) times its calls and warns if it made no leaf call."""
    twins.room_for_recursion()
    sched = Scheduler(executor.submit, executor.max_workers, around, executor.call,
                      getattr(executor, "start", None), getattr(executor, "starts_calls", False),
                      getattr(executor, "cancel", None))
    ctx = Context(RUN, sched, keep=observer is not None, check=executor.check)
    ctx.local = not getattr(executor, "copies_arguments", False)
    ctx.leaves, ctx.watch = leaves, (Watch() if watch else None)
    ctx.extra = ctx.leaves is not None or ctx.watch is not None
    error: BaseException | None = None
    out: Any = None
    with _activate(ctx):
        try:
            out = fn(*args, **kwargs)
        except DeferredFailure:
            pass
        except (KeyboardInterrupt, SystemExit):
            sched.interrupt()  # as plain Python: stop now, wait for nothing
            raise
        except BaseException as exc:  # noqa: BLE001 - re-raised below, in program order
            error = exc
        unawaited = sched.unawaited()
        if sched.abandoned or unawaited:  # plain Python never ran calls nobody awaited
            _values._RT.cancel_unawaited(sched, unawaited, (out, args, kwargs))
        try:
            sched.wait_all()
        except BaseException:  # Ctrl-C while waiting for the last calls
            sched.interrupt()
            raise
        sched.over = True  # from here a ``Pending`` collected unawaited is warned of at once
        if sched.abandoned:
            _values._RT.report_unawaited(sched)
    if ctx.watch is not None and ctx.leaf_calls == 0 and error is None:
        warn_no_leaf_calls(watch, ctx.watch)
    if observer is not None:
        observer(ctx)
    failed = sched.first_failure()
    if failed is not None or error is not None:
        settle_after_failure(ctx, (args, kwargs))
    raised = None if failed is None else at_call_site(failed)
    sched.release_frames()
    if raised is not None:
        reraise(raised)  # with its own cause and context
    if error is not None:
        if isinstance(error, TypeError) and "Traced" in str(error):
            explain_escape(error)
        raise error
    return settle(ctx, out, (args, kwargs))
