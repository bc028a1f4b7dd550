"""Terminal tables of the plugin (at most ~100 columns), at three levels of detail.

Tests are named by their pytest node id, as in pytest's own output and in the JSON.
"""

from __future__ import annotations

from collections.abc import Sequence

from pytest_xcs.advice import report_lines as advice_lines
from pytest_xcs.gate import Regression
from pytest_xcs.results import TestResult
from pytest_xcs.stats import CONFIDENCE, min_rounds
from xcs_core.report import (
    SUMMARY_HEADERS,
    display_path,
    fit_table,
    format_seconds,
    pattern_lines,
    summary_row,
)

__all__ = ["ab_table", "regression_table", "report_lines"]

AB_HEADERS = ("name", "sequential", "parallel", "speedup", f"{CONFIDENCE:.0%} CI",
              "predicted", "efficiency")

BEAT_NOTE = ("* measured speedup above the prediction, efficiency shown as 100%: the prediction\n"
             "  charges XCS_DISPATCH_COST per dispatched call (fitted on another machine?), or\n"
             "  calls took longer in the parallel rounds than alone")


def structure_table(results: Sequence[TestResult]) -> str:
    return fit_table([summary_row(r.nodeid, r.summary) for r in results], SUMMARY_HEADERS)


def ab_table(results: Sequence[TestResult]) -> str:
    """Medians of the A/B rounds, the paired speedup with its interval, the prediction from
    measured medians and the efficiency (<= 100%)."""
    rows = []
    for r in results:
        if r.ab is None:
            continue
        efficiency = "-" if r.efficiency is None else f"{r.efficiency:.0%}"
        found = r.ab.stats
        rows.append([r.nodeid, format_seconds(r.ab.seq_median), format_seconds(r.ab.par_median),
                     f"{found.estimate:.2f}x", found.interval_text(),
                     "-" if r.predicted is None else f"{r.predicted:.2f}x",
                     efficiency + ("*" if r.beat_prediction else "")])
    table = fit_table(rows, AB_HEADERS)
    return table + ("\n" + BEAT_NOTE if any(r.beat_prediction for r in results) else "")


def regression_table(regressions: Sequence[Regression]) -> str:
    rows = [[r.nodeid, r.metric, f"{r.baseline:.3g}", f"{r.current:.3g}" + (
        "" if r.current_high is None else f" (<= {r.current_high:.3g})"),
             f"{r.change:+.1f}%", f"-{r.threshold.percent:g}%"] for r in regressions]
    return fit_table(rows, ["name", "metric", "baseline", "now", "change", "allowed"])


def _details(r: TestResult, verbosity: int) -> list[str]:
    extra = pattern_lines(r.summary)
    if r.advice is not None:  # ranked by cost, with fixes: replaces the plain list below
        extra += advice_lines(r.advice)
    elif r.sync_points:
        extra += ["  serialization points that block parallelism:"]
        extra += [f"    {p['site']}: {p['reason']}"
                  + (f" ({p['count']} times)" if p.get("count", 1) > 1 else "")
                  for p in r.sync_points]
    if r.ab is not None:
        extra.append(f"  A/B rounds: sequential {_span(r.ab.sequential)}, "
                     f"parallel {_span(r.ab.parallel)}")
        extra += [f"  A/B parallel rounds sent {b.target}: {b.calls} calls in {b.requests} "
                  f"requests (max_batch {b.max_batch}), measured" for b in r.ab.batches]
        if not r.ab.stats.conclusive:
            extra.append(f"  no {CONFIDENCE:.0%} interval from {len(r.ab.sequential)} round(s): "
                         f"use --xcs-rounds {min_rounds()} or more")
    if r.note:
        extra.append(f"  note: {r.note}")
    if verbosity > 0:
        for side, frames in r.slowest.items():
            extra += [f"  slowest frames ({side}):"] + [f"    {f}" for f in frames]
    for kind, path in r.artifacts.items():
        extra.append(f"  {kind.replace('_', ' ')}: {display_path(path)}")
    return extra


def _span(times: Sequence[float]) -> str:
    return f"{format_seconds(min(times))} to {format_seconds(max(times))} ({len(times)} rounds)"


def report_lines(results: Sequence[TestResult], verbosity: int) -> list[str]:
    """The whole xcs section of the terminal summary (``-q``: the tables only)."""
    lines = [structure_table(results)]
    if any(r.ab for r in results):
        executor = next(r.ab.executor for r in results if r.ab)
        lines += ["", f"A/B timing, medians (A = sequential, B = xcs.jit on {executor!r}; "
                  "speedup: paired rounds):",
                  ab_table(results)]
    if verbosity < 0:
        return lines
    for r in results:
        extra = _details(r, verbosity)
        if extra:
            lines += ["", r.nodeid] + extra
    return lines
