"""Waiting on a scheduler: threads that need values, and async calls' failures.

``Scheduler`` (``xcs_core.scheduler``) keeps the ready heap and runs nodes; this
part of it is what other threads do while it works:

* ``wait(node)`` blocks a thread until one node finishes, woken only by that
  node (``_watched``); ``wait_many(nodes)`` until all of them finish, woken
  once (``_groups`` count down); ``wait_all()`` until everything added has.
  A pool worker that must wait runs queued work itself first (``_steal``), so
  nested jitted calls never deadlock, even with one worker.
* ``interrupt()`` cancels everything queued (Ctrl-C).
* An async call's failure belongs to whoever awaits it (``defer``, ``own``);
  ``when_done`` lets an event loop await a node without a thread.
* A failure spreads to every node waiting on it (``_fail_locked``) and wakes
  the waiters; ``first_failure`` is the one the jitted call raises, the
  earliest in program order.

Every method here takes the scheduler's lock, ``lock`` (its condition, ``cond``, is
made when a thread first waits).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from xcs_core.batching import Request, run_request
from xcs_core.intrinsics import STATE as _state
from xcs_core.nodes import DONE, FAILED, NO_KWARGS, QUEUED, RUNNING, Cancelled, Node, in_worker

__all__ = ["NEVER", "Waiting"]

NEVER = float("inf")  # ``Scheduler.failed_seq`` while nothing has failed


class Waiting:
    """Waiting and failure ownership, mixed into ``Scheduler`` (see module doc)."""

    @property
    def cond(self) -> threading.Condition:
        """The condition threads wait on, made by the first one (under ``lock``, as every
        use of it is: a jitted call that never waits never pays for one)."""
        cond = self._cond
        if cond is None:
            cond = self._cond = threading.Condition(self.lock)
        return cond

    def _wake_all(self) -> None:
        """Wake every waiting thread (under ``lock``; none can wait on no condition)."""
        if self._cond is not None:
            self._cond.notify_all()

    # -- async calls: who owns a failure ------------------------------------------
    def defer(self, node: Node) -> None:
        """``node`` is an async call: its failure is nobody's until it is awaited."""
        self._deferred[node] = None

    def unawaited(self) -> list[tuple[Node, Any]]:
        """Async calls still running that no compiled code awaited (their awaiter may be a
        task or code xcs did not compile), each with the frame that made it (taken under
        the lock: the call may end, and let go of its frame, at any moment)."""
        if not self._deferred:
            return []
        with self.lock:
            return [(node, node.frame[0]) for node, position in self._deferred.items()
                    if position is None and node.state < DONE and not node.dependents
                    and node.frame is not None]

    def own(self, node: Node, position: float) -> None:
        """``node`` was awaited at ``position`` in program order (between two calls):
        from there, its failure is the program's, as the exception of an awaited
        coroutine is."""
        with self.lock:
            self._own_locked(node, position)

    def own_all(self, nodes: list[Node], position: float) -> None:
        """``own`` each of ``nodes`` (awaited together, by ``gather``), taking the lock once."""
        with self.lock:
            for node in nodes:
                self._own_locked(node, position)

    def _own_locked(self, node: Node, position: float) -> None:
        if self._deferred.get(node, 0) is not None:
            return  # not an async call, or owned already
        self._deferred[node] = position
        if node.state == FAILED and not isinstance(node.exc, Cancelled):
            self.failed_seq = min(self.failed_seq, position)
            self.failures.append(node)
            self._failed_since_notify = True
            self._notify_locked()

    def when_done(self, node: Node, callback: Callable[[], None]) -> None:
        """Call ``callback`` once ``node`` has finished (at once if it has); it runs
        under the scheduler's lock, so it must only hand over (``call_soon_threadsafe``)."""
        with self.lock:
            if node.state < DONE:
                self._callbacks.setdefault(node, []).append(callback)
                return
        callback()

    def cancel(self, node: Node, exc: BaseException) -> None:
        """The awaiter of the async call ``node`` was cancelled (``exc``): so is the call,
        as the awaited coroutine is in plain Python.  One not started yet never starts;
        one running on an event loop has its task cancelled (its coroutine sees ``exc``
        at its ``await``).  Either way it fails with a failure that is nobody's (the
        awaiter has the cancellation), and the jitted call does not wait for it to run."""
        with self.lock:
            if node.state >= DONE:
                return
            if node.state != RUNNING:  # waiting for its inputs
                self._fail_locked(node, exc, owned=False)
                self._notify_locked()
                return
        if self._stop is not None:  # started through the executor (see ``start``)
            self._stop(node)

    def _tell_waiters_locked(self, node: Node) -> None:
        """``node`` has finished (done or failed): run its ``when_done`` callbacks and count
        it down in the ``wait_many`` groups that wait for it."""
        if self._callbacks:
            for callback in self._callbacks.pop(node, ()):
                callback()
        if self._groups:
            for group in self._groups.pop(node, ()):
                group[0] -= 1
                if group[0] == 0:
                    self._group_done = True

    # -- failures: how one spreads, and which one the jitted call raises ---------
    def _notify_locked(self) -> None:
        """Wake waiters if a node failed or everything finished (not on every completion)."""
        if self._failed_since_notify or (self._waiting_all and self.unfinished == 0):
            self._failed_since_notify = False
            self._wake_all()

    def _fail_locked(self, node: Node, exc: BaseException, owned: bool = True) -> None:
        """Fail ``node`` and, transitively, every node waiting on it (``owned``: the
        failure is the program's, see ``own``)."""
        self._failed_since_notify = True
        stack = [node]
        while stack:
            current = stack.pop()
            if current.state >= DONE:
                continue
            current.state, current.exc = FAILED, exc
            self.unfinished -= 1
            if current is node and owned and not isinstance(exc, Cancelled):
                self.failures.append(node)
            stack.extend(current.dependents)
            current.dependents, current.args, current.kwargs = (), (), NO_KWARGS
            self._tell_waiters_locked(current)

    def release_frames(self) -> None:
        """The jitted call is over: its failed calls and its async calls let go of their
        call sites' frames (kept until now: one awaited later becomes the program's to
        raise, from its call site), so an exception the program keeps (``gather(...,
        return_exceptions=True)``) keeps neither them nor what their locals hold
        (coroutines plain Python frees then)."""
        if not self.failures and not self._deferred:
            return
        with self.lock:
            for node in self.failures:
                node.frame = None
            for node in self._deferred:
                node.frame = None

    def never_reached(self, node: Node) -> bool:
        """Did plain Python, stopped by a failure earlier in program order, never make the
        call ``node``?  (Its coroutine, its task, its warnings are then not the program's.)"""
        return node.seq > self.failed_seq

    def first_failure(self) -> Node | None:
        """The failed node earliest in program order (cancelled nodes excluded)."""
        if not self.failures:
            return None
        with self.lock:
            # calls awaited together (``gather``) share a position: then the first to fail,
            # as plain ``gather`` raises the first failure in time
            return min(self.failures, key=lambda n: (self._deferred.get(n) or n.seq, n.end,
                                                     n.seq), default=None)

    # -- waiting ----------------------------------------------------------------
    def wait(self, node: Node) -> None:
        """Block until ``node`` finishes; a pool worker runs queued nodes itself."""
        if self._batcher is not None and self._batcher.window:
            self._cut_window()
        if in_worker():
            self._steal(node)
        with self.lock:
            if node.state >= DONE:
                return
            self._watched[node] = self._watched.get(node, 0) + 1
            try:
                while node.state < DONE:
                    self.cond.wait()
            finally:
                count = self._watched.pop(node)
                if count > 1:
                    self._watched[node] = count - 1

    def wait_many(self, nodes: list[Node]) -> None:
        """Block until every one of ``nodes`` finishes (or something fails), woken once
        rather than once per node; a pool worker runs queued ones itself."""
        if self._batcher is not None and self._batcher.window:
            self._cut_window()
        if in_worker():
            for node in nodes:
                self._steal(node)
        elif self._submitted:
            self._run_one_of(nodes)
        with self.lock:
            pending = [node for node in nodes if node.state < DONE]
            if not pending:
                return
            group = [len(pending)]
            for node in pending:
                self._groups.setdefault(node, []).append(group)
            try:
                while group[0] > 0 and self.failed_seq == NEVER:
                    self.cond.wait()
            finally:
                for node in pending:  # those that did not finish (a failure woke it)
                    groups = self._groups.get(node)
                    if groups is not None:
                        groups[:] = [g for g in groups if g is not group]
                        if not groups:
                            del self._groups[node]

    def _cut_window(self) -> None:
        """Someone waits: the calls the jitted code made to batched ops are sent now."""
        with self.lock:
            self._batcher.cut_window()
            self._pump_locked()
        self._start_ready()

    def _run_one_of(self, nodes: list[Node]) -> None:
        """The jitted code's thread waits for ``nodes``: the last of them handed to the pool
        but not started yet (its worker has not woken) runs here, in its slot, as a worker
        would run it: nothing else of the program runs on this thread until all of them
        are done, so one thread wake-up is saved (the worker that wakes for it finds it
        gone and frees the slot, as after ``_steal``)."""
        with self.lock:
            for node in reversed(nodes):
                if self._submitted.pop(id(node), None) is not None:
                    break
            else:
                return
        previous, _state.ctx = _state.ctx, None  # as on a worker: no trace of its own
        try:
            value, exc = self._execute(node)
        finally:
            _state.ctx = previous
        self._finish(node, value, exc)
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise exc  # Ctrl-C while it ran here: the jitted call stops now (``run``)

    def _steal(self, node: Node) -> None:
        for dep in node.inputs:
            if dep.state < DONE and dep.sched is not None:
                dep.sched._steal(dep)
        node = node.request or node  # a call sent in a request: run the request
        with self.lock:
            if node.state == QUEUED:
                node.state = RUNNING
            elif self._submitted.pop(id(node), None) is None:
                return  # running elsewhere, or done
            # else: handed to the pool but not started (the pool may be this thread)
        if type(node) is Request:
            run_request(self, node, dispatched=False)
        else:
            self._finish(node, *self._execute(node))

    def interrupt(self) -> None:
        """Stop starting work (Ctrl-C): every queued and future node is cancelled; calls
        already running finish on their own threads, and nobody waits for them.

        Best effort: if the interrupt landed while this thread held the lock (between
        acquiring it and entering the ``with`` block), nothing is cancelled, and the
        interrupt still reaches the caller."""
        if not self.lock.acquire(timeout=1.0):
            return
        try:
            self._cancel_all_locked()
        finally:
            self.lock.release()

    def _cancel_all_locked(self) -> None:
        self.failed_seq = -1
        for _, _, node in self._heap:
            if node.state == QUEUED:
                self._fail_locked(node, Cancelled())
        self._heap.clear()
        for node in self._submitted.values():  # handed to the pool, not started
            self._fail_locked(node, Cancelled())
        self._submitted.clear()
        self._wake_all()

    def wait_all(self) -> None:
        """Block until every node added so far has finished (or was cancelled)."""
        if not self.unfinished:  # nothing to wait for (held calls count as unfinished)
            return
        if self._batcher is not None and self._batcher.window:
            self._cut_window()
        if in_worker():
            while True:
                with self.lock:
                    queued = [n for _, _, n in self._heap if n.state == QUEUED]
                    queued += self._submitted.values()
                if not queued:
                    break
                for node in queued:
                    self._steal(node)
        with self.lock:
            self._waiting_all += 1
            try:
                while self.unfinished > 0:
                    self.cond.wait()
            finally:
                self._waiting_all -= 1
