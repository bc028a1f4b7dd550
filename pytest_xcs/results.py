"""Per-test results of the plugin, and their machine-readable form."""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["ABTiming", "TestResult"]


@dataclass
class ABTiming:
    """Wall times of the interleaved sequential (A) and parallel (B) rounds."""

    sequential: list[float]
    parallel: list[float]
    executor: str
    workers: int | None

    @property
    def seq_median(self) -> float:
        return statistics.median(self.sequential)

    @property
    def par_median(self) -> float:
        return statistics.median(self.parallel)

    @property
    def speedup(self) -> float:
        return self.seq_median / self.par_median if self.par_median > 0 else 1.0


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

    __test__ = False  # not a pytest test class

    @property
    def beat_prediction(self) -> bool:
        """Whether the measured speedup exceeded the predicted one."""
        predicted = self.summary.get("predicted_speedup")
        return bool(self.ab is not None and predicted and self.ab.speedup > predicted)

    @property
    def efficiency(self) -> float | None:
        """Measured speedup divided by predicted speedup, at most 1.

        The prediction uses the call times of one traced run; when the measured
        rounds beat it, efficiency is 1 and ``beat_prediction`` says so.
        """
        if self.ab is None or not self.summary.get("predicted_speedup"):
            return None
        return min(1.0, self.ab.speedup / self.summary["predicted_speedup"])

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
            data["ab"].update(seq_median=self.ab.seq_median, par_median=self.ab.par_median,
                              speedup=self.ab.speedup, efficiency=self.efficiency,
                              beat_prediction=self.beat_prediction)
        return data
