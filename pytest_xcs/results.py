"""Per-test results of the plugin, and their machine-readable form."""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from pytest_xcs.stats import SpeedupStats, speedup_stats

if TYPE_CHECKING:
    from pytest_xcs.advice import Advice
    from xcs_core.optimize import BatchPlan

__all__ = ["ABTiming", "TestResult"]


@dataclass
class ABTiming:
    """Wall times of the interleaved sequential (A) and parallel (B) rounds.

    ``critical`` holds each parallel round's critical-path time (its calls timed
    on their workers); ``overhead`` the predicted serial cost of dispatching the
    calls (dispatched calls x ``XCS_DISPATCH_COST``, a batched request counting as
    one); ``batches`` the requests the last parallel round sent per batched op.
    """

    sequential: list[float]
    parallel: list[float]
    executor: str
    workers: int | None
    critical: list[float] = field(default_factory=list)
    overhead: float = 0.0
    batches: tuple[BatchPlan, ...] = ()

    @property
    def seq_median(self) -> float:
        return statistics.median(self.sequential)

    @property
    def par_median(self) -> float:
        return statistics.median(self.parallel)

    @property
    def stats(self) -> SpeedupStats:
        """Paired speedup of the rounds with its confidence interval (``pytest_xcs.stats``)."""
        return speedup_stats(self.sequential, self.parallel)

    @property
    def speedup(self) -> float:
        """The paired estimate (Hodges-Lehmann of the per-round ratios)."""
        return self.stats.estimate

    @property
    def predicted_speedup(self) -> float | None:
        """T1 / (max(Tinf, T1 / p) + overhead) from measured medians (``None``: no rounds
        with calls): T1 the median sequential round, Tinf the median critical path of the
        parallel rounds, p the workers when set."""
        if not self.critical:
            return None
        t1, tinf = self.seq_median, statistics.median(self.critical)
        span = tinf if self.workers is None else max(tinf, t1 / self.workers)
        return t1 / (span + self.overhead) if span + self.overhead > 0 else None


@dataclass
class TestResult:
    """Everything the plugin learned about one marked test."""

    nodeid: str
    summary: dict[str, Any]
    sync_points: list[dict[str, Any]] = field(default_factory=list)
    ab: ABTiming | None = None
    artifacts: dict[str, str] = field(default_factory=dict)
    slowest: dict[str, list[str]] = field(default_factory=dict)
    note: str = ""
    advice: Advice | None = None  # what to make parallel, what stops it (pytest_xcs.advice)

    __test__ = False  # not a pytest test class

    @property
    def predicted(self) -> float | None:
        """The prediction efficiency compares with: from the A/B medians when measured,
        else from the traced run."""
        if self.ab is not None and self.ab.predicted_speedup is not None:
            return self.ab.predicted_speedup
        return self.summary.get("predicted_speedup") or None

    @property
    def beat_prediction(self) -> bool:
        """Whether the measured speedup exceeded the predicted one."""
        predicted = self.predicted
        return bool(self.ab is not None and predicted and self.ab.speedup > predicted)

    @property
    def efficiency(self) -> float | None:
        """Measured speedup divided by predicted speedup, at most 1.

        When the measured rounds beat the prediction, efficiency is 1 and
        ``beat_prediction`` says so (see ``tables.BEAT_NOTE`` for why it happens).
        """
        if self.ab is None or not self.predicted:
            return None
        return min(1.0, self.ab.speedup / self.predicted)

    def metrics(self) -> dict[str, float]:
        """The numbers a baseline compares (absent ones are left out)."""
        out = {"predicted_speedup": float(self.summary["predicted_speedup"]),
               "parallelism": float(self.summary["parallelism"]),
               "max_width": int(self.summary["max_width"])}
        if self.ab is not None:
            out["speedup"] = self.ab.speedup
            out["efficiency"] = float(self.efficiency or 0.0)
        return out

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["metrics"] = self.metrics()
        if self.ab is not None:
            stats, predicted = self.ab.stats, self.predicted
            data["ab"].update(
                seq_median=self.ab.seq_median, par_median=self.ab.par_median,
                speedup=stats.estimate, speedup_low=stats.low, speedup_high=stats.high,
                confidence=stats.confidence, coverage=stats.coverage,
                predicted_speedup=predicted, efficiency=self.efficiency,
                efficiency_high=(min(1.0, stats.high / predicted)
                                 if stats.high is not None and predicted else None),
                beat_prediction=self.beat_prediction)
        return data
