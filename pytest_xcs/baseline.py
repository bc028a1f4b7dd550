"""Stored runs: machine information, atomic JSON files, strict loading.

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
from pathlib import Path
from typing import Any

__all__ = ["BaselineError", "load", "machine_info", "save"]

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
    tests = data.get("tests") if isinstance(data, dict) else None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA or not isinstance(
            tests, dict) or not all(isinstance(t, dict) and isinstance(t.get("metrics"), dict)
                                    for t in tests.values()):
        raise BaselineError(f"baseline {path} is not an xcs baseline of schema {SCHEMA}; "
                            f"save a new one with --xcs-save-baseline {path.stem}")
    return data
