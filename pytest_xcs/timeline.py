"""A self-contained SVG timeline of one parallel run: which call ran on which worker, when.

Each worker thread is a lane; each leaf call a bar from its start to its end,
labelled with its target; bars on the critical path are drawn in red.  Hover a
bar to see its call site and duration (SVG ``<title>``).
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from xcs_core.analysis import analyze
from xcs_core.ir import OpKind
from xcs_core.nodes import build_graph
from xcs_core.sites import format_site

__all__ = ["render_svg", "write_timeline"]

_LANE, _WIDTH, _LEFT, _TOP = 26, 900, 90, 30


def render_svg(nodes: list[Any], title: str) -> str:
    """SVG text for the leaf calls among ``nodes`` (run-mode nodes with timings)."""
    calls = [n for n in nodes if n.kind is OpKind.CALL and n.end > 0]
    if not calls:
        return _svg(200, f'<text x="10" y="20">{escape(title)}: no leaf calls ran</text>')
    critical = set(analyze(build_graph(nodes)).critical_path)
    t0 = min(n.start for n in calls)
    span = max(max(n.end for n in calls) - t0, 1e-9)
    lanes = {w: i for i, w in enumerate(dict.fromkeys(n.worker for n in sorted(
        calls, key=lambda n: n.start)))}
    scale = (_WIDTH - _LEFT - 10) / span
    parts = [f'<text x="10" y="18" font-weight="bold">{escape(title)}</text>',
             f'<text x="{_WIDTH - 10}" y="18" text-anchor="end">{span * 1e3:.1f} ms, '
             f'{len(calls)} calls, {len(lanes)} workers (red: critical path)</text>']
    for lane in lanes.values():
        y = _TOP + lane * _LANE
        parts.append(f'<text x="10" y="{y + 16}">worker {lane + 1}</text>')
    for n in calls:
        x = _LEFT + (n.start - t0) * scale
        w = max((n.end - n.start) * scale, 1.0)
        y = _TOP + lanes[n.worker] * _LANE
        color = "#d62728" if n.seq in critical else "#1f77b4"
        tip = f"{n.target} @ {format_site(n.site)}: {(n.end - n.start) * 1e3:.2f} ms"
        parts.append(f'<g><title>{escape(tip)}</title><rect x="{x:.1f}" y="{y + 3}" '
                     f'width="{w:.1f}" height="{_LANE - 6}" fill="{color}" rx="3"/>'
                     f'<text x="{x + 3:.1f}" y="{y + 17}" fill="white" font-size="11">'
                     f'{escape(n.target[: int(w / 7)])}</text></g>')
    return _svg(_TOP + len(lanes) * _LANE + 10, "\n".join(parts))


def _svg(height: int, body: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{height}" '
            f'font-family="sans-serif" font-size="12">\n'
            f'<rect width="100%" height="100%" fill="white"/>\n{body}\n</svg>\n')


def write_timeline(nodes: list[Any], title: str, path: Path) -> Path:
    """Write the timeline of ``nodes`` to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_svg(nodes, title), encoding="utf-8")
    return path
