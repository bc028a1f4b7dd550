"""Values that stay where they were computed: a finished call's value on a cluster.

An executor that runs leaf calls elsewhere and keeps their values there (Dask)
finishes a node with a ``Remote``: the value's handle there (a Dask future)
and the executor that can fetch it (its ``fetch_all(handles)``).  Python code
never sees one.  Every place that hands a node's value to Python code asks
``nodes.value_of``, which fetches the value once and keeps it; a later call on
that executor receives the handle itself as its argument (``handles``), so the
value goes from worker to worker without passing through this process.

Where many values are read together (a list of results handed to plain Python,
the jit boundary), ``fetch`` gets the ones not fetched yet in one round trip
per executor, and the reads that follow find them here.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

__all__ = ["Remote", "fetch"]

_lock = threading.Lock()  # two threads fetching one value keep the same object


class Remote:
    """A value kept where it was computed: ``handle`` there, fetched once by ``get``."""

    __slots__ = ("handle", "source", "_value", "fetched")

    def __init__(self, handle: Any, source: Any) -> None:
        self.handle, self.source = handle, source  # source.fetch_all(handles) -> values
        self._value: Any = None
        self.fetched = False

    def get(self) -> Any:
        """The value, fetched on the first read (one round trip) and kept."""
        if not self.fetched:
            self.keep(self.source.fetch_all([self.handle])[0])
        return self._value

    def keep(self, value: Any) -> None:
        """Keep the fetched value; if another thread kept one first, that one stays (so
        every reader gets the same object, as every reader of a local value does)."""
        with _lock:
            if not self.fetched:
                self._value, self.fetched = value, True

    def __repr__(self) -> str:
        state = "fetched" if self.fetched else "not fetched"
        return f"<xcs Remote {self.handle!r} ({state})>"


def fetch(values: Iterable[Any]) -> None:
    """Fetch the ``Remote`` values among ``values`` not fetched yet: one ``fetch_all``
    per executor they come from, instead of one round trip per value."""
    groups: dict[int, tuple[Any, list[Remote]]] = {}
    for value in values:
        if type(value) is Remote and not value.fetched:
            groups.setdefault(id(value.source), (value.source, []))[1].append(value)
    for source, remotes in groups.values():
        for remote, value in zip(remotes, source.fetch_all([r.handle for r in remotes])):
            remote.keep(value)
