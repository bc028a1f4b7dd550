"""The Dask executor: leaf calls run as tasks on a Dask ``distributed`` cluster.

With ``XCS_DASK_SCHEDULER`` (or the plugin's ``--xcs-dask-scheduler``) set to a
scheduler address, the executor connects to that cluster; otherwise it starts
a ``LocalCluster`` on this machine (``XCS_DASK_WORKERS`` processes, default one
per core, with ``XCS_DASK_THREADS`` threads each, default 4) and closes it at
exit or on ``shutdown()``.

Every leaf call becomes one Dask task, started without holding a thread here
(``starts_calls``): once its inputs are done it is queued, and one local
thread sends every queued call in one message to Dask's scheduler
(``client.map`` of ``_apply``; a call alone goes as
``client.submit(op, *args, pure=False, **kwargs)``), so a fan-out of N calls
costs a few graph updates, not N.  Each task's ``add_done_callback`` (run on
Dask's callback thread) reports its outcome to the xcs scheduler, as the
asyncio executor's loop does.  Every ready call goes out at once: Dask queues
on its workers what they cannot run yet, and ``max_workers`` (default: 128, or
the cluster's threads if more) sizes only the local threads that send calls
and run batched requests.  Dask's scheduler places a task on a worker, retries
it elsewhere if that worker dies (``distributed.scheduler.allowed-failures``),
and reports a call that failed too often as ``KilledWorker``, which the jitted
call raises with the user's call site in its traceback; a task that failed
fails its call with its own exception, one cancelled with an error that says so.

Values stay on the workers.  A finished call's value is a ``remote.Remote``
holding its future: a later call receives the future itself as its argument
(directly or inside lists, tuples and dicts, which Dask resolves on the
worker), so the value goes from worker to worker.  The value comes to this
process only when Python code reads it (glue such as ``x + 1``, plain Python
given a list of results, the jit boundary), once, and values read together
come in one ``client.gather`` (``fetch_all``).  Effects (``@xcs.op(effect=True)``)
run in the calling process, never on the cluster, so a retry can never repeat
a side effect; calls of an op with a batch form are sent as batched requests
from local threads (``call``), their values through this process.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import uuid
from collections.abc import Callable
from typing import Any

from xcs_core import env
from xcs_core.executors import default_max_workers
from xcs_core.executors.threads import OffloadExecutor
from xcs_core.remote import Remote

__all__ = ["DaskExecutor"]

INSTALL_HINT = ("executor='dask' needs Dask's distributed scheduler: "
                "pip install 'pytest-xcs[dask]'")


class DaskExecutor(OffloadExecutor):
    """Runs leaf calls on a Dask cluster (see module doc)."""

    name = "dask"
    starts_calls = True  # every leaf call goes to ``start``: no thread waits on a task
    copies_arguments = True  # a call gets pickled copies: what it changes stays there

    def __init__(self, max_workers: int = 0) -> None:
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise ImportError(INSTALL_HINT) from None
        address = os.environ.get("XCS_DASK_SCHEDULER")
        self._cluster = None
        if address:
            self.client = Client(address)
        else:
            workers = env.positive_int("XCS_DASK_WORKERS", os.cpu_count() or 1,
                                       "worker processes of the local Dask cluster", 2)
            threads = env.positive_int("XCS_DASK_THREADS", 4,
                                       "threads per worker of the local Dask cluster", 4)
            self._cluster = LocalCluster(n_workers=workers, threads_per_worker=threads,
                                         processes=True, dashboard_address=":0",
                                         silence_logs=logging.ERROR)
            self.client = Client(self._cluster)
        slots = sum(self.client.nthreads().values()) or 1
        # more calls than the cluster has threads: Dask queues them on its workers, which
        # go from one to the next without a round trip to this process in between
        super().__init__(max_workers or max(slots, default_max_workers()))
        self._lock = threading.Lock()
        self._starts: list[tuple] = []  # calls to send (see ``start``)
        self._sending = False

    def call(self, fn: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
        return self._submit_task(fn, args, kwargs).result()

    def start(self, fn: Callable[..., Any], args: tuple, kwargs: dict,
              done: Callable[[list], None], token: Any, context: Any = None) -> None:
        """Submit one leaf call as a task (queued: see the module doc); when it ends,
        ``done([(token, value, exc)])`` runs on Dask's callback thread, with its value
        kept on the cluster (``Remote``).  ``context`` (the call site's context
        variables) does not travel to a worker process."""
        with self._lock:
            self._starts.append((fn, args, kwargs, done, token))
            if self._sending:
                return
            self._sending = True
        self._steps.submit(self._send)

    def _send(self) -> None:
        with self._lock:
            starts, self._starts = self._starts, []
            self._sending = False
        futures = None
        if len(starts) > 1:
            fns, argss, kwargss, _, _ = zip(*starts)
            keys = [f"{getattr(fn, '__name__', 'call')}-{uuid.uuid4().hex}" for fn in fns]
            try:
                futures = self.client.map(_apply, fns, argss, kwargss, key=keys, pure=False)
            except BaseException:  # noqa: BLE001 - one call cannot be sent: each alone
                futures = None
        for i, (fn, args, kwargs, done, token) in enumerate(starts):
            if futures is not None:
                future = futures[i]
            else:
                try:
                    future = self._submit_task(fn, args, kwargs)
                except BaseException as exc:  # noqa: BLE001 - the call's failure (pickling)
                    done([(token, None, exc)])
                    continue
            future.add_done_callback(functools.partial(self._ended, done, token))

    def _ended(self, done: Callable[[list], None], token: Any, future: Any) -> None:
        status = future.status
        if status == "finished":
            done([(token, Remote(future, self), None)])
            return
        try:
            exc = future.exception() if status == "error" else None
            if exc is not None and future.traceback() is not None:
                exc = exc.with_traceback(future.traceback())
        except BaseException as error:  # noqa: BLE001 - e.g. the client was closed
            exc = error
        if exc is None:
            exc = RuntimeError(f"xcs: the Dask task {future.key!r} was {status} "
                               "before it finished")
        done([(token, None, exc)])

    def _submit_task(self, fn: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
        if kwargs and not _SUBMIT_OPTIONS.isdisjoint(kwargs):  # the call's own, not Dask's
            return self.client.submit(_apply, fn, args, kwargs, pure=False)
        return self.client.submit(fn, *args, pure=False, **kwargs)

    def fetch_all(self, futures: list) -> list:
        """The values of finished tasks, in one round trip (``client.gather``)."""
        if len(futures) == 1:
            return [futures[0].result()]
        return self.client.gather(futures)

    def shutdown(self) -> None:
        super().shutdown()
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


#: keyword arguments of ``Client.submit`` itself: a call passing one goes through ``_apply``
_SUBMIT_OPTIONS = frozenset({"key", "workers", "resources", "retries", "priority",
                             "fifo_timeout", "allow_other_workers", "actor", "actors",
                             "pure"})


def _apply(fn: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
    return fn(*args, **kwargs)
