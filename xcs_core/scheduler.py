"""Dataflow scheduling of runtime nodes: one loop, shared by every executor.

Policy
------
* A node starts the moment all of its inputs are ready; there is no
  level-by-level barrier.
* At most ``max_workers`` nodes run at once.  When more are ready than there
  are free workers, the node with the longest estimated remaining path
  (its own estimated duration plus that of the longest known chain of
  dependents) goes first; ties go to program order.  A new node raises its
  unstarted ancestors' estimates only while calls wait for a worker or none is
  free: with a worker free, every ready call starts at once and no order is
  chosen (a chain issued ahead of its calls would otherwise walk its ancestors
  on every call).
* Glue nodes (cheap Python on values, see ``xcs_core.values``) are never
  dispatched: they run inline on the thread that completes their last input,
  fused into that node's completion.
* The executor is injected as a ``submit(callable)`` function, so threads,
  processes or a cluster only decide *where* a node runs, never *when*.
* A pool worker that needs a value which is queued but not started runs that
  node itself (work stealing).  Nested jitted calls inside leaf calls
  therefore never deadlock, even with a single worker.  The jitted code's
  thread, waiting for several values (``wait_many``), runs one of those calls
  that was handed to the pool but not started, in that call's worker slot;
  otherwise it waits, so ``max_workers`` and the priority order are respected.
* When a node fails, nodes queued after it in program order are cancelled:
  plain Python would never have reached them.  Everything before it runs.
* Calls an executor starts itself (``start``: async ones, or all if it
  ``starts_calls``) hold no worker slot and go out the moment they are ready.
* Ready calls of an op with a batch form are held and sent as batched
  requests (``xcs_core.batching``): the jitted code's window is cut when it
  waits (``wait``, ``wait_all``), a completion step's when that step ends.

Waiting for values (``wait``, ``wait_many``, ``wait_all``, work stealing,
``interrupt``) and who owns an async call's failure are ``xcs_core.waiting``.

State (per node, guarded by the scheduler's condition)
------------------------------------------------------
``state`` WAITING -> QUEUED -> RUNNING -> DONE | FAILED; ``waiting`` counts
unfinished inputs; ``dependents`` lists nodes to notify; ``height`` is the
priority.  The scheduler holds the ready heap, the running count and the
number of unfinished nodes.
"""

from __future__ import annotations

import functools
import heapq
import threading
from collections import deque
from collections.abc import Callable
from time import perf_counter as _clock
from time import sleep as _yield
from typing import Any

from xcs_core.batching import HOLDS, Batcher, Request, batch_of, run_request
from xcs_core.cost import AVERAGES, DEFAULT_ESTIMATE
from xcs_core.ir import OpKind
from xcs_core.mutation import ArgumentWatch
from xcs_core.nodes import (
    DONE,
    FAILED,
    NO_KWARGS,
    QUEUED,
    RUNNING,
    WAITING,
    Cancelled,
    Node,
    _worker,
    begin,
    direct_call,
    ended,
    execute,
)
from xcs_core.optimize import BatchPlan
from xcs_core.waiting import NEVER, Waiting

_CALL = OpKind.CALL
_PROPAGATION_LIMIT = 16  # how far a new node raises its ancestors' priorities
_ISSUE_SLICE = 1e-3  # seconds of issuing calls between two yields of the GIL (``issued``)
__all__ = ["Scheduler"]

class Scheduler(Waiting):
    """Ready heap plus running count for one jitted call; see the module doc."""

    def __init__(self, submit: Callable[[Callable[[], None]], Any], max_workers: int,
                 around: Callable[[Node], Any] | None = None,
                 call: Callable[..., Any] = direct_call,
                 start: Callable[..., None] | None = None, starts_calls: bool = False,
                 cancel: Callable[[Node], None] | None = None) -> None:
        # ``with self.lock`` holds the condition's lock without a Python-level frame; the
        # condition itself is made when a thread first waits (``Waiting.cond``)
        self.lock = threading.Lock()
        self._cond: threading.Condition | None = None
        self._call = call  # where a leaf call's body runs (here, a process, a cluster)
        # start(fn, args, kwargs, done, node) begins a call without a thread (fn: the op if
        # ``starts_calls``, whose values may stay remote, see ``nodes.handles``; else an async
        # op's coroutine function); done([(node, value, exc), ...]) reports calls that ended
        self._start = start
        self.starts_calls = starts_calls and start is not None
        self._stop = cancel  # cancel(node): stop a call ``start`` began (``Waiting.cancel``)
        self._async_done = self._after_async  # one object: the loop groups endings by it
        self._to_start: deque[Node] = deque()  # async calls to start (outside the lock)
        self._to_submit: deque[Node] = deque()  # sync calls to hand to the pool (likewise)
        self._around = around  # context-manager factory wrapped around dispatched nodes
        self._submit = submit
        self.max_workers = max_workers
        self._heap: list[tuple[float, int, Node]] = []
        self._first_submit = True
        self._yielded = _clock()  # when the jitted code's thread last gave up the GIL
        self._batcher: Batcher | None = None  # made when a batched op's call is first ready
        self._running = 0
        self._submitted: dict[int, Any] = {}  # handed to the pool, not started yet
        self.unfinished = 0
        self.failed_seq: float = NEVER
        self.failures: list[Node] = []
        # async calls: None while nobody awaited them (a failure then is silent), else
        # the point in program order where they were awaited (see ``own``)
        self._deferred: dict[Node, float | None] = {}
        self.abandoned: deque[Node] = deque()  # see ``Runtime.abandoned``; ``over``: the
        self.over = False  # boundary has waited for every call (see ``runtime.run``)
        self._callbacks: dict[Node, list[Callable[[], None]]] = {}  # see ``when_done``
        self._watched: dict[Node, int] = {}  # nodes some thread waits for
        # nodes a thread waits for together (``wait_many``): each group counts its unfinished
        self._groups: dict[Node, list[list[int]]] = {}
        self._group_done = False  # a group's last node finished: wake its waiter
        self._waiting_all = 0
        self._failed_since_notify = False

    # -- adding nodes -----------------------------------------------------------
    def add(self, node: Node) -> None:
        """Register a new node; it starts once its inputs are done.  (Called once per leaf
        call the jitted code makes: a node without inputs, the common case, takes the
        short way.)"""
        node.sched = self
        inline: list[Node] = []
        with self.lock:
            self.unfinished += 1
            node.height = AVERAGES.get(node.key, DEFAULT_ESTIMATE) if node.kind is _CALL else 0.0
            if node.inputs and not self._wire_locked(node):
                return
            if node.waiting == 0:
                self._ready_locked(node, inline, window=True)
                if self._heap and self._running < self.max_workers:
                    self._pump_locked()
        if self._to_start or self._to_submit:
            self._start_ready()
        if inline:
            self._run_inline(inline)

    def _wire_locked(self, node: Node) -> bool:
        """Count ``node``'s unfinished inputs and register it as their dependent; False
        (and ``node`` failed) if one of them failed."""
        for dep in node.inputs:
            if dep.state == FAILED:
                self._fail_locked(node, dep.exc)
                self._notify_locked()
                return False
            if dep.state != DONE and dep.sched is self:
                node.waiting += 1
                if dep.dependents:
                    dep.dependents.append(node)
                else:
                    dep.dependents = [node]
        if self._heap or self._running >= self.max_workers:
            self._raise_heights(node)  # priorities decide something only under contention
        return True

    def _hold_locked(self, node: Node, batch: Any, window: bool) -> bool:
        """Hold a ready call in its batch's group (it runs in the request it joins); True
        when that cut a full request."""
        node.state = RUNNING
        if self._batcher is None:
            self._batcher = Batcher(self)
        return self._batcher.hold(node, batch, window)

    def _raise_heights(self, node: Node) -> None:
        """Raise the priority of ``node``'s unstarted ancestors, up to
        ``_PROPAGATION_LIMIT`` hops: each is at least its own estimate longer than the
        path below it (a chain issued ahead of its calls walks this on every call)."""
        stack, hops, averages = [node], 0, AVERAGES
        while stack and hops < _PROPAGATION_LIMIT:
            child = stack.pop()
            hops += 1
            below = child.height
            for dep in child.inputs:
                if dep.state > QUEUED or dep.sched is not self:
                    continue
                height = below + (averages.get(dep.key, DEFAULT_ESTIMATE)
                                  if dep.kind is _CALL else 0.0)
                if height > dep.height:
                    dep.height = height
                    if dep.state == QUEUED:
                        heapq.heappush(self._heap, (-height, dep.seq, dep))
                    stack.append(dep)

    def _ready_locked(self, node: Node, inline: list[Node], window: bool = False) -> None:
        """``window``: the jitted code made the call (else a completion step made it ready,
        and the heap lets the finishing worker take the most urgent one itself)."""
        if node.seq > self.failed_seq:
            self._fail_locked(node, Cancelled())
        elif node.kind is OpKind.GLUE:
            node.state = RUNNING
            inline.append(node)
        else:
            fn = node.fn  # an op with a batch form? (asked once per type: see batching.HOLDS)
            holds = HOLDS.get(type(fn))
            batch = fn.__xcs_batch__ if holds else None if holds is False else batch_of(fn)
            if batch is not None:
                self._hold_locked(node, batch, window)
            elif self._start is not None and (self.starts_calls
                                              or hasattr(fn, "coroutine_function")):
                node.state = RUNNING  # holds no worker: starts at once (on a loop, a cluster)
                self._to_start.append(node)
            elif window and not self._heap and self._running < self.max_workers:
                node.state = RUNNING  # the jitted code's call, a worker free: what the
                self._give_slot_locked(node)  # pump would give it, without the heap
            else:
                node.state = QUEUED
                heapq.heappush(self._heap, (-node.height, node.seq, node))

    def _pump_locked(self) -> None:
        """Give free worker slots to the most urgent queued calls; ``_start_ready`` hands
        them to the pool once the lock is released (async calls never queue here: they
        hold no slot and go straight to ``_to_start``)."""
        while self._heap and self._running < self.max_workers:
            node = self._claim_locked()
            if node is None:
                return
            self._give_slot_locked(node)

    def _give_slot_locked(self, node: Node) -> None:
        """``node`` takes a worker slot; ``_start_ready`` hands it to the pool."""
        self._running += 1
        self._submitted[id(node)] = node
        self._to_submit.append(node)

    def issued(self) -> None:
        """The jitted code's thread dispatched a call.  While pool workers run calls, once
        per millisecond spent issuing calls, it gives up the GIL: a worker whose call
        ended runs what that made ready (the next call of a chain) now, not after the
        interpreter's 5 ms switch interval.  (Async calls hold no worker: an event loop
        that got the GIL would start every call issued so far before giving it back.)"""
        if not self._running:
            return
        now = _clock()
        if now - self._yielded > _ISSUE_SLICE:
            self._yielded = now
            _yield(0)

    def _start_ready(self) -> None:
        """Submit the calls the pump released and start ready async calls, in program
        order, outside the lock (submitting may wake a thread; arguments may wait)."""
        to_submit, to_start = self._to_submit, self._to_start
        while to_submit:
            try:
                node = to_submit.popleft()
            except IndexError:
                break
            self._submit(functools.partial(self._work, id(node)))  # not the node: see _work
            if (self._first_submit or type(node) is Request) and not getattr(
                    _worker, "active", False):
                # the jitted code's thread gives up the GIL, so that its first call, or a
                # batched request (worth up to max_batch calls), starts now, not when
                # that thread next waits (or after the interpreter's 5 ms switch
                # interval) while it goes on issuing calls
                self._first_submit = False
                self._yielded = _clock()
                _yield(0)
        while to_start:
            try:
                node = to_start.popleft()
            except IndexError:
                return
            self._start_async(node)

    # -- running ----------------------------------------------------------------
    def _work(self, key: int) -> None:
        """Pool entry for a node the pump submitted (by its key in ``_submitted``): run
        it, then keep running what its completion made ready.  If a waiting pool worker
        already ran it itself (``_steal``), only free the slot.  Nothing here holds a
        node it has finished (its value is freed at its last use)."""
        node = self._submitted.pop(key, None)  # atomic: this or _steal wins
        if node is None:
            with self.lock:
                self._running -= 1
                self._pump_locked()
            self._start_ready()
            return
        previous = getattr(_worker, "active", False)
        _worker.active = True
        try:
            while node is not None:
                if type(node) is Request:
                    node = run_request(self, node, dispatched=True)
                    continue
                if self._around is None:
                    value, exc = self._execute(node)
                else:
                    with self._around(node):
                        value, exc = self._execute(node)
                node = self._finish(node, value, exc, dispatched=True)
                value = exc = None  # freed at its last use, not kept while the next node runs
        finally:
            _worker.active = previous

    def _start_async(self, node: Node) -> None:
        """Begin a leaf call through the executor's ``start``; it takes no worker slot."""
        remote = self.starts_calls
        try:
            args, kwargs = begin(node, remote)
        except BaseException as exc:  # noqa: BLE001 - an input failed elsewhere
            self._after_async([(node, None, exc)])
            return
        if node.given is not None and not remote:  # what it does to the copies it is given
            node.given = ArgumentWatch(node.given, args, kwargs)
        fn = node.fn if remote else node.fn.coroutine_function
        self._start(fn, args, kwargs, self._async_done, node, node.context)

    def _after_async(self, outcomes: list[tuple[Node, Any, BaseException | None]]) -> None:
        """Runs on the executor's thread (event loop, Dask callback): record the calls that
        ended together in one step (what they made ready is started by the pump)."""
        for i, (node, value, exc) in enumerate(outcomes):
            ended(node, exc is not None)
            if type(node.given) is ArgumentWatch:
                outcomes[i] = (node, node.given.settle(node, value), exc)
        (node, value, exc), *more = outcomes
        self._finish(node, value, exc, more=more)

    def _execute(self, node: Node) -> tuple[Any, BaseException | None]:
        """Leaf calls go through the executor's ``call``; glue always runs here."""
        return execute(node, self._call if node.kind is OpKind.CALL else direct_call)

    def _run_inline(self, nodes: list[Node], pump: bool = True) -> None:
        for node in nodes:  # part of the caller's step
            self._finish(node, *execute(node), step=False, pump=pump)

    def _finish(self, node: Node, value: Any, exc: BaseException | None,
                dispatched: bool = False, more: list[tuple[Node, Any, Any]] = (),
                step: bool = True, pump: bool = True) -> Node | None:
        """Record a result (and ``more`` outcomes: the other calls of a batched request)
        and release dependents.  A completion step is this and the glue it runs inline;
        the batched calls it made ready are sent when it ends (``step``).

        On a pool worker (``dispatched``), the most urgent node that became
        ready, also through the glue, is returned for the same thread to run next
        (work-first: no thread wake-up on the critical path, and the value just
        used is freed before it runs); its worker slot carries over.  Glue run
        for it hands nothing to other workers meanwhile (``pump``).
        """
        inline: list[Node] = []
        follow: Node | None = None
        with self.lock:
            self._record_locked(node, value, exc, inline)
            for other in more:
                self._record_locked(*other, inline)
            if dispatched and not inline:
                follow = self._follow_locked()
            if pump:
                self._pump_locked()
            if (node in self._watched or self._group_done
                    or (more and any(other[0] in self._watched for other in more))):
                self._group_done = False
                self._wake_all()
            else:
                self._notify_locked()
        del value, more
        if pump:
            self._start_ready()
        if inline:
            self._run_inline(inline, pump=pump and not dispatched)
            if dispatched:
                with self.lock:
                    follow = self._follow_locked()
                    self._pump_locked()
                self._start_ready()
        if step and self._batcher is not None and self._batcher.step:
            with self.lock:
                self._batcher.cut_step()
                self._pump_locked()
            self._start_ready()
        return follow

    def _record_locked(self, node: Node, value: Any, exc: BaseException | None,
                       inline: list[Node]) -> None:
        """One outcome: a value releases dependents, an exception fails them."""
        if exc is None:
            node.value, node.state = value, DONE
            self.unfinished -= 1
            for dep in node.dependents:
                dep.waiting -= 1
                if dep.waiting == 0 and dep.state == WAITING:
                    self._ready_locked(dep, inline)
            node.dependents, node.args, node.kwargs, node.frame = (), (), NO_KWARGS, None
            if node.owner is None or node.owner.nodes is None:
                node.inputs = ()  # no graph wanted: let finished ancestors be freed
            self._tell_waiters_locked(node)
        else:
            position = self._deferred.get(node, node.seq) if self._deferred else node.seq
            if position is not None:  # else: an async call nobody awaited yet
                self.failed_seq = min(self.failed_seq, position)
            self._fail_locked(node, exc, owned=position is not None)

    def _follow_locked(self) -> Node | None:
        """The node a pool worker runs next (its slot carries over), or ``None`` (the
        slot is freed)."""
        follow = self._claim_locked()
        if follow is None:
            self._running -= 1
        return follow

    def _claim_locked(self) -> Node | None:
        """Pop the most urgent queued node for the calling worker (``None`` if none)."""
        while self._heap:
            height, _, node = heapq.heappop(self._heap)
            if node.state != QUEUED or -height != node.height:
                continue
            if node.seq > self.failed_seq:
                self._fail_locked(node, Cancelled())
                continue
            node.state = RUNNING
            return node
        return None

    def batches(self) -> tuple[BatchPlan, ...]:
        """The batched requests this run sent, per op (calls and requests)."""
        with self.lock:
            return () if self._batcher is None else tuple(self._batcher.sent.values())
