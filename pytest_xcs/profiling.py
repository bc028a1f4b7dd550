"""pyinstrument profiles of one sequential and one parallel run of a test.

pyinstrument samples only the thread that starts a profiler.  The parallel
side therefore runs one profiler on the calling thread and one per leaf call
on the worker thread that executes it (through ``xcs.execution(around=...)``);
the sessions are combined with ``Session.combine`` into one HTML profile in
which each worker thread is its own subtree.

Not covered: time a worker spends outside leaf calls (the pool's own
bookkeeping between operations), and glue that runs inline on a worker after
a call completes.  Worker time is added to the calling thread's, so the
profile's total can exceed the wall time of the run.
"""

from __future__ import annotations

import functools
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pyinstrument import Profiler
from pyinstrument.renderers import HTMLRenderer, SpeedscopeRenderer
from pyinstrument.session import Session

__all__ = ["WorkerProfiles", "profile_call", "slowest_frames", "write_html", "write_speedscope"]

COVERAGE_NOTE = ("parallel profile: calling thread + every leaf call on its worker thread; "
                 "pool bookkeeping between calls is not sampled")


class WorkerProfiles:
    """Starts a profiler on the worker thread around each dispatched operation."""

    def __init__(self, interval: float = 0.001) -> None:
        self.interval = interval
        self.sessions: list[Session] = []
        self._lock = threading.Lock()

    @contextmanager
    def around(self, node: Any) -> Iterator[None]:
        profiler = Profiler(interval=self.interval, async_mode="disabled")
        profiler.start()
        try:
            yield
        finally:
            profiler.stop()
            with self._lock:
                self.sessions.append(profiler.last_session)


def profile_call(fn: Callable[[], Any], workers: WorkerProfiles | None = None,
                 interval: float = 0.001) -> Session:
    """Profile ``fn()`` on this thread, combined with any worker sessions it produced."""
    profiler = Profiler(interval=interval, async_mode="disabled")
    profiler.start()
    try:
        fn()
    finally:
        profiler.stop()
    sessions = [profiler.last_session] + (workers.sessions if workers else [])
    return functools.reduce(Session.combine, sessions)


def write_html(session: Session, path: Path) -> Path:
    """Render ``session`` as pyinstrument's self-contained HTML page."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HTMLRenderer().render(session), encoding="utf-8")
    return path


def write_speedscope(session: Session, path: Path) -> Path:
    """Render ``session`` as speedscope JSON (open it at speedscope.app)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(SpeedscopeRenderer().render(session), encoding="utf-8")
    return path


def slowest_frames(session: Session, limit: int = 5) -> list[str]:
    """Python frames with the most self time (time in C calls counts for their caller)."""
    totals: dict[tuple[str, str, int], float] = defaultdict(float)
    root = session.root_frame()
    stack: list[tuple[Any, tuple[str, str, int] | None]] = [(root, None)] if root else []
    while stack:
        frame, owner = stack.pop()
        path = frame.file_path_short or ""
        if path and frame.line_no and not path.startswith("<"):
            owner = (frame.function, path, frame.line_no)
        if owner is not None and not frame.function.startswith("["):  # skip [self] etc.
            totals[owner] += frame.total_self_time
        stack.extend((child, owner) for child in frame.children)
    ranked = sorted(totals.items(), key=lambda kv: kv[1], reverse=True)[:limit]
    return [f"{fn} {path}:{line}  {secs * 1e3:.1f} ms" for (fn, path, line), secs in ranked
            if secs > 0]
