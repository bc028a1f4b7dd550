"""Checks made when pytest starts, so a run never fails at its end for a reason known at
its beginning.

Output folders must be writable (``--xcs-json``, ``--xcs-markdown``, ``--xcs-artifacts``,
the baseline folder), the baseline named by ``--xcs-compare`` must exist and be valid,
every gated metric must exist in the baseline and be measured by this run, and a
measured gate needs enough rounds to be able to fire.  Each
problem is a ``pytest.UsageError`` (exit status 4) that names the option and the
fix.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pytest_xcs.state import XcsState

__all__ = ["check"]


def check(state: XcsState) -> None:
    """All start-up checks of ``state`` (controller only; xdist workers write nothing)."""
    for option, path, example in (("--xcs-json", state.json_path, "xcs.json"),
                                  ("--xcs-markdown", state.markdown_path, "xcs.md")):
        if path is not None:
            if path.is_dir():
                raise pytest.UsageError(f"{option} {path}: is a folder; give a file "
                                        f"path such as {example}")
            _writable(path.parent, f"{option} {path}")
    if state.run.ab or state.run.profile:
        _writable(state.run.artifacts, f"--xcs-artifacts (xcs_artifacts) {state.run.artifacts}")
    if state.save_name:
        _writable(state.baseline_path(state.save_name).parent,
                  f"--xcs-save-baseline {state.save_name}")
    if state.compare_name:
        _load_baseline(state)


def _writable(folder: Path, option: str) -> None:
    """Create ``folder`` if needed and prove a file can be written in it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".xcs-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise pytest.UsageError(f"{option}: cannot write to the folder {folder} ({reason}); "
                                "choose a writable path") from None


def _load_baseline(state: XcsState) -> None:
    from pytest_xcs import baseline, gate, stats  # deferred: only --xcs-compare needs them

    path = state.baseline_path(state.compare_name)
    try:
        state.baseline_doc = baseline.load(path)
    except baseline.BaselineError as exc:
        raise pytest.UsageError(f"--xcs-compare {state.compare_name}: {exc}") from None
    measured = state.run.ab and not state.xdist
    try:
        gate.require_metrics(state.baseline_doc["tests"], state.thresholds,
                             f"the {state.compare_label}",
                             gate.baseline_fix(state.compare_name))
        for t in state.thresholds:
            if t.metric in gate.MEASURED and not measured:
                raise gate.GateError(
                    f"gate {t}: this run does not measure {t.metric} "
                    f"({t.metric} is measured only with {gate.MEASURED[t.metric]}); "
                    f"{gate.run_fix(state.xdist)(t.metric)}")
            if t.metric in gate.MEASURED and state.run.rounds < stats.min_rounds():
                raise gate.GateError(
                    f"gate {t}: {state.run.rounds} A/B round(s) give no "
                    f"{stats.CONFIDENCE:.0%} confidence interval, so it could never fire; "
                    f"use --xcs-rounds {stats.min_rounds()} or more")
    except gate.GateError as exc:
        raise pytest.UsageError(f"--xcs-compare-fail: {exc}") from None
