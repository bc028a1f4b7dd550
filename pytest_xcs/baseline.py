"""Stored runs: machine information, atomic JSON files, and regression comparison.

A stored run is ``{"schema": 1, "machine": {...}, "commit": ..., "created": ...,
"tests": {nodeid: result dict}}``.  Files are written atomically (a temporary
file in the same folder, then ``os.replace``), so an interrupted run never
leaves a half-written baseline behind.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_xcs.options import Threshold

__all__ = ["BaselineError", "Regression", "compare", "load", "machine_info", "save"]

SCHEMA = 1


class BaselineError(Exception):
    """A baseline file is missing, unreadable or of another schema."""


def machine_info() -> dict[str, Any]:
    """What the numbers depend on (not the Python version: baselines outlive it)."""
    return {"node": platform.node(), "system": platform.system(),
            "machine": platform.machine(), "cpus": os.cpu_count(),
            "python": platform.python_version()}


def commit_info(cwd: str | os.PathLike | None = None) -> dict[str, Any]:
    """The current git commit and whether the tree is dirty (empty outside git)."""
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True,
                             text=True, timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=cwd, capture_output=True,
                               text=True, timeout=5, check=True).stdout.strip() != ""
    except (OSError, subprocess.SubprocessError):
        return {}
    return {"id": rev, "dirty": dirty}


def document(tests: dict[str, dict[str, Any]], cwd: str | None = None) -> dict[str, Any]:
    """A stored-run document for ``tests`` with machine and commit information."""
    return {"schema": SCHEMA, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "machine": machine_info(), "commit": commit_info(cwd), "tests": tests}


def save(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` as JSON to ``path`` atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load(path: Path) -> dict[str, Any]:
    """Read a stored run; ``BaselineError`` says what is wrong and how to fix it."""
    if not path.is_file():
        raise BaselineError(f"baseline {path} does not exist; create it with "
                            f"--xcs-save-baseline {path.stem}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BaselineError(f"baseline {path} is not readable JSON ({exc}); delete it and "
                            f"save a new one with --xcs-save-baseline {path.stem}") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA or not isinstance(
            data.get("tests"), dict):
        raise BaselineError(f"baseline {path} is not an xcs baseline of schema {SCHEMA}; "
                            f"save a new one with --xcs-save-baseline {path.stem}")
    return data


@dataclass(frozen=True)
class Regression:
    """One metric of one test that fell below its threshold."""

    nodeid: str
    metric: str
    baseline: float
    current: float
    threshold: Threshold

    @property
    def change(self) -> float:
        return (self.current - self.baseline) / self.baseline * 100 if self.baseline else 0.0


def compare(baseline: dict[str, Any], current: dict[str, Any], thresholds: list[Threshold]
            ) -> tuple[list[Regression], list[str]]:
    """Regressions of ``current`` against ``baseline``, and notes (missing tests, machine)."""
    notes: list[str] = []
    if _identity(baseline) != _identity(current):
        notes.append(f"baseline was measured on another machine "
                     f"({_machine(baseline)}; this one is {_machine(current)}): "
                     "timing comparisons may not be meaningful")
    base_tests, cur_tests = baseline["tests"], current["tests"]
    missing = sorted(set(base_tests) - set(cur_tests))
    new = sorted(set(cur_tests) - set(base_tests))
    if missing:
        notes.append(f"{len(missing)} test(s) of the baseline did not run: {', '.join(missing)}")
    if new:
        notes.append(f"{len(new)} test(s) have no baseline yet: {', '.join(new)}")
    regressions = []
    for nodeid in sorted(set(base_tests) & set(cur_tests)):
        old = base_tests[nodeid].get("metrics", {})
        now = cur_tests[nodeid].get("metrics", {})
        for t in thresholds:
            if t.metric in old and t.metric in now and old[t.metric] > 0:
                if now[t.metric] < old[t.metric] * (1 - t.percent / 100):
                    regressions.append(Regression(nodeid, t.metric, old[t.metric],
                                                  now[t.metric], t))
    return regressions, notes


def _identity(doc: dict[str, Any]) -> tuple:
    """What makes timings comparable: the machine, not the Python version."""
    m = doc.get("machine") or {}
    return tuple(m.get(k) for k in ("node", "system", "machine", "cpus"))


def _machine(doc: dict[str, Any]) -> str:
    m = doc.get("machine") or {}
    return f"{m.get('node', '?')} {m.get('machine', '?')} {m.get('cpus', '?')} cpus"
