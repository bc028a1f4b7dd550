"""Text reports of an analysis (tables rendered with tabulate)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from tabulate import tabulate

from xcs_core.analysis import Analysis

__all__ = ["format_seconds", "summary_table", "sync_table"]

SUMMARY_HEADERS = ("name", "ops", "calls", "independent sets", "max width", "critical path",
                   "sequential time", "predicted speedup", "patterns")


def format_seconds(seconds: float) -> str:
    """Seconds with a unit that keeps three significant digits."""
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.0f} us"


def summary_row(name: str, summary: Mapping[str, Any]) -> list[Any]:
    """One table row from ``Analysis.summary()``: the structural parallelism of one run."""
    patterns = list(summary.get("maps", [])) + list(summary.get("reduces", []))
    return [
        name, summary["operations"], summary["calls"], summary["independent_sets"],
        summary["max_width"],
        f"{summary['critical_path_calls']} calls / {format_seconds(summary['critical_time'])}",
        format_seconds(summary["total_time"]),
        f"{summary['predicted_speedup']:.2f}x",
        "\n".join(patterns) or "-",
    ]


def summary_table(rows: Iterable[Sequence[Any]], headers: Sequence[str] = SUMMARY_HEADERS,
                  fmt: str = "simple") -> str:
    """A tabulate table of ``summary_row`` rows."""
    return tabulate(list(rows), headers=list(headers), tablefmt=fmt, disable_numparse=True)


def sync_table(analysis: Analysis, only_blocking: bool = True) -> str:
    """The serialization points that order later work, with their reasons."""
    rows = [(p.site, p.reason) for p in analysis.sync_points if p.blocking or not only_blocking]
    if not rows:
        return ""
    return tabulate(rows, headers=["where", "why Python needed the value here"],
                    tablefmt="simple")
