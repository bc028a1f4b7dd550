"""A self-contained SVG timeline of one parallel run: which call ran on which worker, when.

Each worker thread is a lane; each leaf call a bar from its start to its end,
labelled with its target when the label fits; bars on the critical path are
drawn in red.  Every bar carries an SVG ``<title>``: hovering it shows the
target, call site and duration, also for calls too short for a label.  A time
axis in milliseconds runs under the lanes.  The same run is also written as
Chrome trace events (``pytest_xcs.chrome_trace``).
"""

from __future__ import annotations

import math
from html import escape
from pathlib import Path
from typing import Any

from pytest_xcs.chrome_trace import Lanes, critical_calls
from xcs_core.report import format_seconds
from xcs_core.sites import format_site

__all__ = ["render_svg", "tick_step", "write_timeline"]

_LANE, _WIDTH, _LEFT, _TOP, _AXIS = 26, 900, 90, 30, 30
_CHAR = 7  # pixels per label character at font-size 11


def tick_step(span: float, most: int = 10) -> float:
    """A round tick interval (1, 2 or 5 x 10^k seconds) giving at most ``most`` ticks."""
    raw = max(span, 1e-9) / most
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def _axis(t_span: float, scale: float, y: int) -> list[str]:
    step = tick_step(t_span)
    parts = [f'<line x1="{_LEFT}" y1="{y}" x2="{_WIDTH - 10}" y2="{y}" stroke="#555"/>']
    ticks = int(t_span / step + 1e-9)
    for i in range(ticks + 1):
        x = _LEFT + i * step * scale
        parts.append(f'<line x1="{x:.1f}" y1="{_TOP}" x2="{x:.1f}" y2="{y + 4}" '
                     f'stroke="#ddd"/>')
        parts.append(f'<text x="{x:.1f}" y="{y + 16}" text-anchor="middle" font-size="10">'
                     f'{i * step * 1e3:g} ms</text>')
    return parts


def _bar(n: Any, x: float, w: float, y: int, critical: bool) -> str:
    color = "#d62728" if critical else "#1f77b4"
    tip = f"{n.target} @ {format_site(n.site)}: {format_seconds(n.end - n.start)}" + (
        " (critical path)" if critical else "")
    fits = int((w - 4) / _CHAR)
    label = n.target if len(n.target) <= fits else (n.target[:fits - 1] + "~" if fits >= 4
                                                     else "")
    text = (f'<text x="{x + 3:.1f}" y="{y + 17}" fill="white" font-size="11">'
            f'{escape(label)}</text>') if label else ""
    return (f'<g><title>{escape(tip)}</title><rect x="{x:.1f}" y="{y + 3}" '
            f'width="{w:.1f}" height="{_LANE - 6}" fill="{color}" rx="3"/>{text}</g>')


def render_svg(nodes: list[Any], title: str) -> str:
    """SVG text for the leaf calls among ``nodes`` (run-mode nodes with timings)."""
    lanes = Lanes(nodes)
    if not lanes.calls:
        return _svg(200, f'<text x="10" y="20">{escape(title)}: no leaf calls ran</text>')
    critical = critical_calls(nodes)
    t0, span = lanes.t0, lanes.span
    scale = (_WIDTH - _LEFT - 10) / span
    parts = [f'<text x="10" y="18" font-weight="bold">{escape(title)}</text>',
             f'<text x="{_WIDTH - 10}" y="18" text-anchor="end">{span * 1e3:.1f} ms, '
             f'{len(lanes.calls)} calls, {len(lanes)} workers (red: critical path)</text>']
    bottom = _TOP + len(lanes) * _LANE
    parts += _axis(span, scale, bottom + 4)
    for lane, name in enumerate(lanes.names()):
        parts.append(f'<text x="10" y="{_TOP + lane * _LANE + 16}">{escape(name)}</text>')
    for n in lanes.calls:
        x = _LEFT + (n.start - t0) * scale
        w = max((n.end - n.start) * scale, 1.0)
        parts.append(_bar(n, x, w, _TOP + lanes.index(n) * _LANE, n.seq in critical))
    return _svg(bottom + _AXIS, "\n".join(parts))


def _svg(height: int, body: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{height}" '
            f'font-family="sans-serif" font-size="12">\n'
            f'<rect width="100%" height="100%" fill="white"/>\n{body}\n</svg>\n')


def write_timeline(nodes: list[Any], title: str, path: Path) -> Path:
    """Write the timeline of ``nodes`` to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_svg(nodes, title), encoding="utf-8")
    return path
