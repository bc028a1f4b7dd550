"""Running one marked test: trace it, A/B time it, profile it, draw its timeline.

The test body runs:

1. once traced (``xcs.trace``), watched (``xcs_core.leaves.Watch``): this is
   the test's normal run, its outcome is the test's outcome, and its graph and
   call times give the structural report and the advice (``pytest_xcs.advice``);
2. with ``--xcs-ab``: once more each way as warm-up, then ``rounds`` times
   sequentially (A) and under ``xcs.jit`` with the chosen executor (B),
   interleaved A B A B so machine drift affects both alike (each round is one
   paired ratio, see ``pytest_xcs.stats``).  The test's own assertions run on
   both sides: a body that passes sequentially but fails in parallel is a
   ``ParallelizationFailure``.  Each parallel round's critical-path time is kept
   for the measured prediction (``ABTiming.predicted_speedup``);
3. with ``--xcs-profile``: once more each way under pyinstrument.

Test bodies are therefore run several times with the same fixture values:
marked tests must be repeatable.  An ``async def`` test (pytest-asyncio,
anyio) runs the same way, each run awaited on the test's event loop (``Body``,
``pytest_xcs.asyncs``); its B side awaits ``xcs.jit`` of the coroutine function.
"""

from __future__ import annotations

import functools
import hashlib
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import xcs_core as xcs
from pytest_xcs import profiling
from pytest_xcs.advice import advise
from pytest_xcs.chrome_trace import write_chrome_trace
from pytest_xcs.options import RunSettings
from pytest_xcs.results import ABTiming, TestResult
from pytest_xcs.timeline import write_timeline
from xcs_core.cost import DISPATCH_COST
from xcs_core.leaves import Watch
from xcs_core.nodes import build_graph
from xcs_core.report import tidy_paths
from xcs_core.tracing import trace_call

if TYPE_CHECKING:
    from pytest_xcs.asyncs import AsyncTest

__all__ = ["Body", "ParallelizationFailure", "RunSettings", "run_marked"]


class ParallelizationFailure(AssertionError):
    """The test passes sequentially but fails under the parallel executor."""


@dataclass(frozen=True)
class Body:
    """A marked test's body with its fixture values: called directly, or, for an async
    test, awaited on the event loop its plugin gives it (``pytest_xcs.asyncs``)."""

    fn: Callable[..., Any]
    kwargs: dict[str, Any]
    aio: AsyncTest | None = None

    def traceable(self) -> Callable[..., Any]:
        """What ``trace_call`` runs (with ``self.kwargs`` for a sync test)."""
        return self.fn if self.aio is None else self.aio.traceable(self.kwargs)

    def call(self, fn: Callable[..., Any], **scope: Any) -> None:
        """``fn(**kwargs)`` inside ``xcs.execution(**scope)``; an async ``fn`` is awaited
        on the test's loop, the scope entered inside the coroutine (anyio runs tests in
        a task of its own, which would not see a scope entered outside)."""
        if self.aio is None:
            with xcs.execution(**scope):
                fn(**self.kwargs)
            return

        async def scoped() -> None:
            with xcs.execution(**scope):
                await fn(**self.kwargs)
        self.aio.run(scoped)

    def sequential(self) -> None:
        """The A side: the test body as plain Python."""
        self.call(self.fn, executor="sequential")

    def jitted(self) -> Callable[..., None]:
        """The B side: ``run(**scope)`` calls the jitted body within ``xcs.execution(**scope)``
        (``xcs.jit`` of an ``async def`` is awaited, its body on a worker thread)."""
        return functools.partial(self.call, xcs.jit(self.fn))


def run_marked(fn: Callable[..., Any], kwargs: dict[str, Any], nodeid: str,
               settings: RunSettings, aio: AsyncTest | None = None) -> TestResult:
    """Run a marked test as described in the module doc; returns what was learned.

    ``aio``: how to run an async test's body (``fn`` is then its coroutine function)."""
    body = Body(fn, kwargs, aio)
    watch = Watch()
    traced = trace_call(body.traceable(), (), {} if aio else kwargs, wrap_inputs=False,
                        leaves=settings.leaves, watch=watch)
    analysis = xcs.analyze(traced.graph)
    result = TestResult(nodeid, _tidy(analysis.summary(settings.workers)),
                        sync_points=_sync_points(analysis),
                        advice=advise(traced, watch, settings.workers))
    if settings.ab:
        result.ab, nodes = _ab(body, settings)
        path = settings.artifacts / f"{_slug(nodeid)}.timeline.svg"
        result.artifacts["timeline"] = str(write_timeline(nodes, nodeid, path))
        trace = path.with_name(f"{_slug(nodeid)}.trace.json")  # Perfetto, speedscope
        result.artifacts["trace"] = str(write_chrome_trace(nodes, nodeid, trace))
    if settings.profile:
        _profile(body, nodeid, settings, result)
    return result


def _tidy(summary: dict[str, Any]) -> dict[str, Any]:
    """The summary with installed-package prefixes removed from its call sites."""
    for key in ("maps", "reduces"):
        summary[key] = [tidy_paths(text) for text in summary.get(key, [])]
    return summary


def _sync_points(analysis: Any) -> list[dict[str, Any]]:
    """Blocking serialization points, once per site and reason, with how often they occur."""
    counts: Counter[tuple[str, str]] = Counter(
        (tidy_paths(p.site), p.reason) for p in analysis.sync_points if p.blocking)
    return [{"site": site, "reason": reason, "count": n} for (site, reason), n in counts.items()]


def _ab(body: Body, settings: RunSettings) -> tuple[ABTiming, list[Any]]:
    jitted = body.jitted()
    runs: list[Any] = []
    sequential = body.sequential

    def parallel() -> None:
        runs.clear()
        try:
            jitted(executor=settings.executor, max_workers=settings.workers,
                   observer=runs.append, leaves=settings.leaves)
        except Exception as exc:
            raise ParallelizationFailure(
                f"passes sequentially but fails under xcs.jit with the "
                f"{settings.executor!r} executor: {type(exc).__name__}: {exc}") from exc

    timing = ABTiming([], [], settings.executor, settings.workers)
    sequential()
    parallel()
    analysis = None
    for _ in range(settings.rounds):
        timing.sequential.append(_timed(sequential))
        timing.parallel.append(_timed(parallel))
        if runs:  # the round's critical path, its calls timed on their workers
            analysis = xcs.analyze(build_graph(runs[-1].nodes))
            timing.critical.append(analysis.critical_time)
    if analysis is not None:
        timing.batches = runs[-1].sched.batches()
        merged = sum(b.calls - b.requests for b in timing.batches)  # one dispatch a request
        timing.overhead = (analysis.dispatched_calls - merged) * DISPATCH_COST
    return timing, (runs[-1].nodes if runs else [])


def _timed(fn: Callable[[], None]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _profile(body: Body, nodeid: str, settings: RunSettings, result: TestResult) -> None:
    jitted = body.jitted()
    workers = profiling.WorkerProfiles()
    sequential = body.sequential

    def parallel() -> None:
        jitted(executor=settings.executor, max_workers=settings.workers,
               around=workers.around, leaves=settings.leaves)

    stem = settings.artifacts / _slug(nodeid)
    for side, session in (("sequential", profiling.profile_call(sequential)),
                          ("parallel", profiling.profile_call(parallel, workers))):
        path = profiling.write_html(session, stem.with_name(f"{stem.name}.{side}.html"))
        result.artifacts[f"profile_{side}"] = str(path)
        path = profiling.write_speedscope(
            session, stem.with_name(f"{stem.name}.{side}.speedscope.json"))
        result.artifacts[f"speedscope_{side}"] = str(path)
        result.slowest[side] = profiling.slowest_frames(session)


def _slug(nodeid: str) -> str:
    """A file name for ``nodeid``: readable, and short (a hash stands for a long tail)."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid).strip("_")
    if len(slug) <= 60:
        return slug
    return f"{slug[:50]}-{hashlib.sha1(nodeid.encode()).hexdigest()[:8]}"
