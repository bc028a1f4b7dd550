"""A Markdown summary of a session: for ``$GITHUB_STEP_SUMMARY`` and ``--xcs-markdown PATH``.

The same numbers as the terminal tables (structure, A/B timing with the
interval, regressions) and the comparison's verdict and notes, as GitHub
renders them on a workflow run's summary page.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the plugin imports this module in every run: results need not load
    from pytest_xcs.gate import Comparison
    from pytest_xcs.results import TestResult

__all__ = ["STEP_SUMMARY", "render", "write"]

#: The environment variable GitHub Actions sets to a file that the step appends to.
STEP_SUMMARY = "GITHUB_STEP_SUMMARY"


def format_seconds(seconds: float) -> str:
    """``xcs_core.report.format_seconds``, imported when a summary is written."""
    from xcs_core.report import format_seconds as formatted

    return formatted(seconds)


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    def line(cells: Sequence[object]) -> str:
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"
    return [line(headers), "|" + "|".join("---" for _ in headers) + "|", *map(line, rows)]


def _structure(results: Sequence[TestResult]) -> list[str]:
    rows = [(f"`{r.nodeid}`", r.summary["calls"], r.summary["max_width"],
             f"{r.summary['critical_path_calls']} / "
             f"{format_seconds(r.summary['critical_time'])}",
             f"{r.summary['parallelism']:.2f}", f"{r.summary['predicted_speedup']:.2f}x")
            for r in results]
    return _table(("test", "calls", "width", "critical path", "parallelism", "predicted"), rows)


def _ab(results: Sequence[TestResult]) -> list[str]:
    from pytest_xcs.stats import CONFIDENCE  # deferred: see the imports above

    rows = []
    for r in results:
        if r.ab is None:
            continue
        found = r.ab.stats
        rows.append((f"`{r.nodeid}`", format_seconds(r.ab.seq_median),
                     format_seconds(r.ab.par_median), f"{found.estimate:.2f}x",
                     found.interval_text(),
                     "-" if r.predicted is None else f"{r.predicted:.2f}x",
                     "-" if r.efficiency is None else f"{r.efficiency:.0%}"
                     + ("*" if r.beat_prediction else "")))
    if not rows:
        return []
    executor = next(r.ab.executor for r in results if r.ab)
    return ["", f"### A/B timing (A = sequential, B = `xcs.jit` on `{executor}`)", "",
            *_table(("test", "sequential", "parallel", "speedup", f"{CONFIDENCE:.0%} CI",
                     "predicted", "efficiency"), rows)]


def _comparison(comparison: Comparison | None) -> list[str]:
    if comparison is None:
        return []
    lines = [""]
    if comparison.regressions:
        lines += ["### Regressions", "", *_table(
            ("test", "metric", "baseline", "now", "change", "allowed"),
            [(f"`{r.nodeid}`", r.metric, f"{r.baseline:.3g}", f"{r.current:.3g}",
              f"{r.change:+.1f}%", f"-{r.threshold.percent:g}%")
             for r in comparison.regressions]), ""]
    mark = ":x:" if comparison.failed else ":white_check_mark:"
    lines.append(f"{mark} {comparison.verdict().removeprefix('xcs: ')}")
    lines += [f"- {note}" for note in comparison.notes]
    return lines


def render(results: Sequence[TestResult], comparison: Comparison | None) -> str:
    """The summary as Markdown text (ends with a newline)."""
    lines = ["## xcs parallelism", ""]
    lines += _structure(results) if results else ["No `xcs_parallel` test ran."]
    lines += _ab(results) + _comparison(comparison)
    return "\n".join(lines) + "\n"


def write(text: str, path: Path | None) -> list[Path]:
    """Write ``text`` to ``path`` and append it to ``$GITHUB_STEP_SUMMARY``; the files."""
    written = []
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    step = os.environ.get(STEP_SUMMARY)
    if step:
        with open(step, "a", encoding="utf-8") as f:
            f.write(text + "\n")
        written.append(Path(step))
    return written
