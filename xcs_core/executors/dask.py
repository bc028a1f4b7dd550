"""The Dask executor: leaf calls run as tasks on a Dask ``distributed`` cluster.

With ``XCS_DASK_SCHEDULER`` (or the plugin's ``--xcs-dask-scheduler``) set to a
scheduler address, the executor connects to that cluster; otherwise it starts
a ``LocalCluster`` on this machine (``XCS_DASK_WORKERS`` processes, default one
per core, with ``XCS_DASK_THREADS`` threads each, default 4) and closes it at
exit or on ``shutdown()``.  ``max_workers`` bounds how many calls are in
flight (default: the threads executor's, 128, or the cluster's threads if more): calls
beyond the cluster's threads wait in Dask's own queues, on the workers.

Every leaf call becomes one Dask task (``client.submit(..., pure=False)``):
Dask's scheduler places it on a worker, retries it elsewhere if that worker
dies (``distributed.scheduler.allowed-failures``), and reports a call that
failed too often as ``KilledWorker``, which the jitted call raises with the
user's call site in its traceback.  The xcs scheduler keeps the dependencies:
a task is submitted once its inputs are done, and values travel through the
client.  Effects (``@xcs.op(effect=True)``) run in the calling process, never
on the cluster, so a retry can never repeat a side effect.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

from xcs_core import env
from xcs_core.executors import default_max_workers
from xcs_core.executors.threads import OffloadExecutor

__all__ = ["DaskExecutor"]

INSTALL_HINT = ("executor='dask' needs Dask's distributed scheduler: "
                "pip install 'pytest-xcs[dask]'")


class DaskExecutor(OffloadExecutor):
    """Runs leaf calls on a Dask cluster (see module doc)."""

    name = "dask"

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

    def call(self, fn: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
        return self.client.submit(fn, *args, pure=False, **kwargs).result()

    def shutdown(self) -> None:
        super().shutdown()
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()
