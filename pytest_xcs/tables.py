"""Terminal tables of the plugin (tabulate), at three levels of detail."""

from __future__ import annotations

from collections.abc import Sequence

from tabulate import tabulate

from pytest_xcs.gate import Regression
from pytest_xcs.results import TestResult
from xcs_core.report import SUMMARY_HEADERS, format_seconds, summary_row

__all__ = ["ab_table", "regression_table", "report_lines"]

AB_HEADERS = ("name", "sequential (median)", "parallel (median)", "sequential min/max",
              "parallel min/max", "measured speedup", "predicted", "efficiency")


def _short(nodeid: str) -> str:
    return nodeid.rsplit("/", 1)[-1]


def structure_table(results: Sequence[TestResult]) -> str:
    rows = [summary_row(_short(r.nodeid), r.summary) for r in results]
    return tabulate(rows, headers=list(SUMMARY_HEADERS), tablefmt="simple",
                    disable_numparse=True)


def ab_table(results: Sequence[TestResult]) -> str:
    rows = []
    for r in results:
        if r.ab is None:
            continue
        ab = r.ab
        rows.append([
            _short(r.nodeid), format_seconds(ab.seq_median), format_seconds(ab.par_median),
            f"{format_seconds(min(ab.sequential))} / {format_seconds(max(ab.sequential))}",
            f"{format_seconds(min(ab.parallel))} / {format_seconds(max(ab.parallel))}",
            f"{ab.speedup:.2f}x", f"{r.summary['predicted_speedup']:.2f}x",
            f"{r.efficiency:.0%}" if r.efficiency is not None else "-",
        ])
    return tabulate(rows, headers=list(AB_HEADERS), tablefmt="simple", disable_numparse=True)


def regression_table(regressions: Sequence[Regression]) -> str:
    rows = [[_short(r.nodeid), r.metric, f"{r.baseline:.3g}", f"{r.current:.3g}",
             f"{r.change:+.1f}%", f"-{r.threshold.percent:g}%"] for r in regressions]
    return tabulate(rows, headers=["name", "metric", "baseline", "now", "change", "allowed"],
                    tablefmt="simple", disable_numparse=True)


def report_lines(results: Sequence[TestResult], verbosity: int) -> list[str]:
    """The whole xcs section of the terminal summary."""
    lines = [structure_table(results)]
    if any(r.ab for r in results):
        executor = next(r.ab.executor for r in results if r.ab)
        lines += ["", f"A/B timing (A = sequential, B = xcs.jit on {executor!r}):",
                  ab_table(results)]
    if verbosity < 0:
        return lines
    for r in results:
        extra: list[str] = []
        if r.sync_points:
            extra += ["  serialization points that block parallelism:"]
            extra += [f"    {p['site']}: {p['reason']}" for p in r.sync_points]
        if r.note:
            extra.append(f"  note: {r.note}")
        if verbosity > 0:
            for side, frames in r.slowest.items():
                extra += [f"  slowest frames ({side}):"] + [f"    {f}" for f in frames]
        for kind, path in r.artifacts.items():
            extra.append(f"  {kind.replace('_', ' ')}: {path}")
        if extra:
            lines += ["", _short(r.nodeid)] + extra
    return lines
