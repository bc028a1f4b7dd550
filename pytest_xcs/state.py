"""The plugin's per-session state (kept in ``config.stash``) and what it decides.

Settings come from the command line first, then ``[tool.pytest.ini_options]``
/ ``pytest.ini`` (``addini``), then defaults.  Results of marked tests are
collected here (from this process, or sent by xdist workers), checked against
marker thresholds, compared with a baseline and written as JSON.

Importing this module does not import ``xcs_core`` (see ``pytest_xcs.plugin``), nor the
modules that only checks, comparisons and output files need (``stats``, ``gate``,
``baseline``, ``results``): every pytest run imports it.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_xcs import markdown
from pytest_xcs.options import (
    DEFAULT_GATE,
    NOISE_FLOOR,
    MarkerArgs,
    RunSettings,
    Threshold,
    duration,
    executor_name,
    positive_int,
    threshold,
)

if TYPE_CHECKING:
    from pytest_xcs.gate import Comparison
    from pytest_xcs.results import TestResult

__all__ = ["XcsState", "from_config"]

XDIST_AB_OFF = ("xcs: A/B timing is off under pytest-xdist (workers share the machine); "
                "run with -n 0 for timings")


@dataclass
class XcsState:
    """Settings and results of one pytest session."""

    run: RunSettings
    report: bool
    json_path: Path | None
    baseline_dir: Path
    save_name: str | None
    compare_name: str | None
    thresholds: list[Threshold]
    rootdir: Path = Path(".")
    xdist: bool = False
    results: dict[str, TestResult] = field(default_factory=dict)
    baseline_doc: dict[str, Any] | None = None
    comparison: Comparison | None = None
    notes: list[str] = field(default_factory=list)
    ab_skipped: bool = False
    noise_floor: float = NOISE_FLOOR
    markdown_path: Path | None = None

    @property
    def active(self) -> bool:
        """Whether anything beyond tracing and marker checks was asked for."""
        return bool(self.report or self.run.ab or self.run.profile or self.json_path
                    or self.save_name or self.compare_name or self.markdown_path
                    or os.environ.get(markdown.STEP_SUMMARY))

    def settings_for(self, marker: MarkerArgs) -> RunSettings:
        """Run settings for one test: the marker's rounds/workers win."""
        run = self.run
        if self.xdist and run.ab:
            self.ab_skipped = True
            run = replace(run, ab=False, profile=False)
        return replace(run, rounds=marker.rounds or run.rounds,
                       workers=marker.workers or run.workers, leaves=marker.leaves)

    def check(self, result: TestResult, marker: MarkerArgs) -> str:
        """A failure message if the result misses a marker threshold, else ``""``."""
        structural = result.summary["parallelism"]
        if marker.min_parallelism is not None and structural < marker.min_parallelism:
            blocking = "; ".join(f"{p['site']} ({p['reason']}{_times(p)})"
                                 for p in result.sync_points)
            return (f"xcs: parallelism {structural:.2f} is below "
                    f"min_parallelism={marker.min_parallelism:g} (structural, from the traced "
                    f"graph: {result.summary['calls']} calls, "
                    f"{result.summary['critical_path_calls']} on the critical path, max width "
                    f"{result.summary['max_width']})"
                    + (f"; serialization points: {blocking}" if blocking else ""))
        if marker.min_speedup is not None:
            return self._check_speedup(result, marker.min_speedup)
        return ""

    def _check_speedup(self, result: TestResult, target: float) -> str:
        """``min_speedup``: fails only when the interval lies below ``target`` and the
        parallel side misses the target time by more than the noise floor."""
        from pytest_xcs import stats
        from xcs_core.report import format_seconds

        ab = result.ab
        if ab is None:
            result.note = (f"min_speedup={target:g} not checked: it needs "
                           "measured timings (run with --xcs-ab)")
            return ""
        found = ab.stats
        if not found.conclusive:
            result.note = (f"min_speedup={target:g} not checked: {found.rounds} round(s) give "
                           f"no {found.confidence:.0%} interval; use --xcs-rounds "
                           f"{stats.min_rounds(found.confidence)} or more")
            return ""
        if stats.falls_short(found, target, ab.seq_median, ab.par_median, self.noise_floor):
            return (f"xcs: measured speedup {found.estimate:.2f}x "
                    f"({found.confidence:.0%} interval {found.interval_text()}, "
                    f"{found.rounds} paired rounds) is below min_speedup={target:g} "
                    f"(sequential median {format_seconds(ab.seq_median)}, parallel median "
                    f"{format_seconds(ab.par_median)}, more than the noise floor "
                    f"{format_seconds(self.noise_floor)} slower than "
                    f"{format_seconds(ab.seq_median / target)})")
        if found.estimate < target:
            result.note = (f"min_speedup={target:g}: measured {found.estimate:.2f}x "
                           f"{found.interval_text()} is not below it beyond doubt or beyond "
                           f"the noise floor {format_seconds(self.noise_floor)}")
        return ""

    def document(self) -> dict[str, Any]:
        from pytest_xcs import baseline

        return baseline.document({k: r.to_dict() for k, r in sorted(self.results.items())})

    @property
    def compare_label(self) -> str:
        path = self.baseline_path(self.compare_name or "")
        try:
            path = path.relative_to(self.rootdir)
        except ValueError:
            pass
        return f"baseline {self.compare_name!r} ({path})"

    def finish(self) -> None:
        """After all tests: compare with the baseline, save it, write JSON.

        Raises ``gate.GateError`` for a comparison that cannot be made and
        ``OSError`` for a file that cannot be written.
        """
        from pytest_xcs import baseline, gate
        from xcs_core.report import display_path

        doc = self.document()
        if self.baseline_doc is not None:
            self.comparison = gate.compare(
                self.baseline_doc, doc, self.thresholds, self.compare_label,
                (gate.baseline_fix(self.compare_name or ""), gate.run_fix(self.xdist)),
                self.noise_floor)
            self.notes.extend(f"xcs: {n}" for n in self.comparison.notes)
        if self.save_name:
            path = self.baseline_path(self.save_name)
            baseline.save(path, doc)
            self.notes.append(f"xcs: saved baseline {display_path(path)}")
        if self.json_path:
            baseline.save(self.json_path, doc)
            self.notes.append(f"xcs: wrote {display_path(self.json_path)}")
        text = markdown.render(list(self.results.values()), self.comparison)
        for path in markdown.write(text, self.markdown_path):
            self.notes.append(f"xcs: wrote the Markdown summary to {display_path(path)}")

    def baseline_path(self, name: str) -> Path:
        return _absolute(self.baseline_dir, self.rootdir) / f"{name}.json"


def _absolute(path: Path, rootdir: Path) -> Path:
    return path if path.is_absolute() else rootdir / path


def _times(point: dict[str, Any]) -> str:
    count = point.get("count", 1)
    return f", {count} times" if count > 1 else ""


def _value(config: pytest.Config, option: str, ini: str, convert: Any = None) -> Any:
    value = config.getoption(option)
    if value is not None:
        return value
    raw = config.getini(ini)
    if raw in (None, "", []):
        return None
    return raw if convert is None else _convert(ini, raw, convert)


def _convert(ini: str, raw: Any, convert: Any) -> Any:
    try:
        return convert(raw)
    except argparse.ArgumentTypeError as exc:
        raise pytest.UsageError(f"ini option {ini} = {raw!r}: {exc}") from None


def from_config(config: pytest.Config) -> XcsState:
    """Build the session state from options and ini values (validated)."""
    xdist = hasattr(config, "workerinput") or bool(config.getoption("numprocesses", None))
    thresholds = config.getoption("xcs_compare_fail") or [
        _convert("xcs_compare_fail", t, threshold) for t in config.getini("xcs_compare_fail") or []]
    artifacts = Path(_value(config, "xcs_artifacts", "xcs_artifacts") or ".xcs/artifacts")
    json_path = config.getoption("xcs_json")
    markdown = config.getoption("xcs_markdown")
    return XcsState(
        run=RunSettings(
            ab=bool(_value(config, "xcs_ab", "xcs_ab")),
            rounds=_value(config, "xcs_rounds", "xcs_rounds", positive_int) or 10,
            executor=_value(config, "xcs_executor", "xcs_executor", executor_name) or "threads",
            workers=_value(config, "xcs_workers", "xcs_workers", positive_int),
            profile=bool(_value(config, "xcs_profile", "xcs_profile")),
            artifacts=_absolute(artifacts, config.rootpath),
        ),
        report=bool(_value(config, "xcs_report", "xcs_report")),
        json_path=Path(json_path).absolute() if json_path else None,
        baseline_dir=Path(_value(config, "xcs_baseline_dir", "xcs_baseline_dir") or ".xcs"),
        save_name=config.getoption("xcs_save_baseline"),
        compare_name=config.getoption("xcs_compare"),
        thresholds=list(thresholds) or [DEFAULT_GATE],
        rootdir=config.rootpath,
        xdist=xdist,
        noise_floor=_noise_floor(config),
        markdown_path=Path(markdown).absolute() if markdown else None,
    )


def _noise_floor(config: pytest.Config) -> float:
    found = _value(config, "xcs_noise_floor", "xcs_noise_floor", duration)
    return NOISE_FLOOR if found is None else found


def result_from_dict(data: dict[str, Any]) -> TestResult:
    """Rebuild a result sent by an xdist worker."""
    from pytest_xcs.advice import Advice
    from pytest_xcs.results import ABTiming, TestResult

    ab = data.get("ab")
    timing = ABTiming(ab["sequential"], ab["parallel"], ab["executor"], ab["workers"],
                      ab.get("critical", []), ab.get("overhead", 0.0)) if ab else None
    advice = Advice.from_dict(data["advice"]) if data.get("advice") else None
    return TestResult(data["nodeid"], data["summary"], data.get("sync_points", []), timing,
                      data.get("artifacts", {}), data.get("slowest", {}), data.get("note", ""),
                      advice)
