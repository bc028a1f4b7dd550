"""Text reports of an analysis (plain text tables, at most ~100 columns)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # formatting needs no analysis code: the plugin formats without the engine
    from xcs_core.analysis import Analysis

__all__ = ["WIDTH", "batch_lines", "display_path", "fit_table", "format_seconds", "pattern_lines",
           "render_table", "summary_row", "summary_table", "sync_table", "tidy_paths"]

#: Report lines are kept this narrow (an ordinary terminal).
WIDTH = 100

SUMMARY_HEADERS = ("name", "calls", "width", "critical path", "total time", "parallelism",
                   "predicted")

_INSTALLED = re.compile(r"[^\s:'\"]*[/\\](?:site|dist)-packages[/\\]")


def tidy_paths(text: str) -> str:
    """``text`` with installed-package prefixes (``.../site-packages/``) removed."""
    return _INSTALLED.sub("", text)


def display_path(path: str | os.PathLike[str]) -> str:
    """``path`` relative to the working directory when that is shorter."""
    path = os.fspath(path)
    try:
        rel = os.path.relpath(path)
    except ValueError:  # pragma: no cover - another drive on Windows
        return path
    return rel if len(rel) < len(path) else path


def format_seconds(seconds: float) -> str:
    """Seconds with a unit that keeps three significant digits."""
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.0f} us"


def summary_row(name: str, summary: Mapping[str, Any]) -> list[Any]:
    """One table row from ``Analysis.summary()``: the structural parallelism of one run."""
    return [
        name, summary["calls"], summary["max_width"],
        f"{summary['critical_path_calls']} / {format_seconds(summary['critical_time'])}",
        format_seconds(summary["total_time"]), f"{summary['parallelism']:.2f}",
        f"{summary['predicted_speedup']:.2f}x",
    ]


def pattern_lines(summary: Mapping[str, Any], indent: str = "  ") -> list[str]:
    """The maps, reduces and batched ops of a summary, one per line."""
    return ([f"{indent}map: {tidy_paths(m)}" for m in summary.get("maps", [])]
            + [f"{indent}reduce: {tidy_paths(r)}" for r in summary.get("reduces", [])]
            + batch_lines(summary, indent))


def batch_lines(summary: Mapping[str, Any], indent: str = "  ") -> list[str]:
    """Calls vs requests per batched op (``summary["batches"]``, see ``optimize.plan_batches``)."""
    return [f"{indent}batched: {b['op']}: {b['calls']} calls in {b['requests']} requests "
            f"(max_batch {b['max_batch']})" for b in summary.get("batches", [])]


def _wrap_name(name: str, limit: int) -> str:
    """Break a long test id after ``/``, ``::`` or ``[`` (or anywhere) into lines <= limit."""
    parts = re.findall(r".+?(?:::|/|\[|$)", name)
    lines, current = [], ""
    for part in parts:
        while len(part) > limit:
            part_head, part = part[:limit], part[limit:]
            if current:
                lines.append(current)
                current = ""
            lines.append(part_head)
        if current and len(current) + len(part) > limit:
            lines.append(current)
            current = ""
        current += part
    return "\n".join(lines + [current] if current else lines)


def render_table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> str:
    """A plain text table: columns two spaces apart, a dashed line under the headers.

    Cells may span several lines.
    """
    cells = [[str(c).split("\n") for c in row] for row in rows]
    widths = [max([len(h)] + [len(line) for row in cells for line in row[i]])
              for i, h in enumerate(headers)]

    def line(parts: Sequence[str]) -> str:
        return "  ".join(p.ljust(w) for p, w in zip(parts, widths)).rstrip()

    out = [line(headers), line(["-" * w for w in widths])]
    for row in cells:
        for k in range(max(len(c) for c in row)):
            out.append(line([c[k] if k < len(c) else "" for c in row]))
    return "\n".join(out)


def fit_table(rows: Sequence[Sequence[Any]], headers: Sequence[str], width: int = WIDTH) -> str:
    """A ``render_table`` whose first column wraps so that lines fit ``width``."""
    rows = [list(r) for r in rows]
    text = render_table(rows, headers)
    over = max(map(len, text.splitlines()), default=0) - width
    if over > 0 and rows:
        longest = max(len(line) for r in rows for line in str(r[0]).split("\n"))
        limit = max(24, longest - over)
        for r in rows:
            r[0] = _wrap_name(str(r[0]), limit)
        text = render_table(rows, headers)
    return text


def summary_table(rows: Iterable[Sequence[Any]], headers: Sequence[str] = SUMMARY_HEADERS
                  ) -> str:
    """A table of ``summary_row`` rows."""
    return fit_table(list(rows), headers)


def sync_table(analysis: Analysis, only_blocking: bool = True) -> str:
    """The serialization points that order later work, with their reasons (once per site)."""
    counts: dict[tuple[str, str], int] = {}
    for p in analysis.sync_points:
        if p.blocking or not only_blocking:
            key = (tidy_paths(p.site), p.reason)
            counts[key] = counts.get(key, 0) + 1
    if not counts:
        return ""
    rows = [(site, reason + (f" ({n} times)" if n > 1 else "")) for (site, reason), n
            in counts.items()]
    return fit_table(rows, ["where", "why Python needed the value here"])
