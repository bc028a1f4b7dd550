"""Options and marker arguments: their defaults, and their validation, done when values
are parsed (argparse ``type=``).

Every function here raises ``argparse.ArgumentTypeError`` (or ``ValueError``
for marker arguments) with a message that names the bad value and says what
would be accepted.

Nothing here imports ``xcs_core`` until a value needs it (an executor name, a
marker's ``leaves=``): the plugin is loaded by every pytest run of a project that
installs it, marked tests or not.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from xcs_core.leaves import Leaves

__all__ = ["DEFAULT_GATE", "METRICS", "NOISE_FLOOR", "MarkerArgs", "RunSettings", "Threshold",
           "duration", "executor_name", "marker_args", "positive_int", "threshold"]

#: Metrics a regression threshold can name: (higher is better, needs A/B timing).
METRICS = {
    "speedup": "measured speedup (needs --xcs-ab)",
    "efficiency": "measured / predicted speedup (needs --xcs-ab)",
    "predicted_speedup": "predicted speedup from the graph's measured times",
    "parallelism": "calls / calls on the critical path (structural, noise-free)",
    "max_width": "most calls that can run at once",
}
#: Default absolute noise floor in seconds (``--xcs-noise-floor``).
NOISE_FLOOR = 0.001


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


# Patterns are compiled (and cached by ``re``) when a value is parsed, not at import.
_DURATION = r"^(?P<num>\d+(\.\d*)?|\.\d+)\s*(?P<unit>s|ms|us)?$"
_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6}


def duration(text: str) -> float:
    """argparse type: a duration >= 0 such as ``2ms``, ``500us`` or ``0.01`` (seconds)."""
    match = re.match(_DURATION, str(text).strip())
    if not match:
        raise argparse.ArgumentTypeError(
            f"expected a duration such as 2ms, 500us or 0.01s, got {text!r}")
    return float(match["num"]) * _UNITS[match["unit"] or "s"]


def executor_name(text: str) -> str:
    """argparse type: a registered xcs executor."""
    from xcs_core.executors import available

    if text not in available():
        raise argparse.ArgumentTypeError(
            f"unknown executor {text!r}; choose one of {', '.join(available())}")
    return text


@dataclass(frozen=True)
class Threshold:
    """Fail when ``metric`` drops more than ``percent`` below the baseline."""

    metric: str
    percent: float

    def __str__(self) -> str:
        return f"{self.metric}:{self.percent:g}%"


#: The default gate (``--xcs-compare-fail``): structural, deterministic, needs no timing.
DEFAULT_GATE = Threshold("parallelism", 10.0)

_THRESHOLD = r"^(?P<metric>[a-z_]+):(?P<pct>\d+(\.\d+)?)%?$"


def threshold(text: str) -> Threshold:
    """argparse type: ``METRIC:PCT%`` such as ``speedup:10%``."""
    match = re.match(_THRESHOLD, text.strip())
    if not match:
        raise argparse.ArgumentTypeError(
            f"expected METRIC:PERCENT such as speedup:10%, got {text!r}")
    metric, pct = match["metric"], float(match["pct"])
    if metric not in METRICS:
        raise argparse.ArgumentTypeError(
            f"unknown metric {metric!r} in {text!r}; choose one of {', '.join(METRICS)}")
    if not 0 < pct < 100:
        raise argparse.ArgumentTypeError(f"threshold must be between 0% and 100%, got {text!r}")
    return Threshold(metric, pct)


@dataclass(frozen=True)
class RunSettings:
    """How marked tests are run (from options, ini values and the marker)."""

    ab: bool = False
    rounds: int = 10
    executor: str = "threads"
    workers: int | None = None
    profile: bool = False
    artifacts: Path = Path(".xcs/artifacts")
    leaves: Leaves | None = None  # the marker's leaves=: leaf callees on every side


@dataclass(frozen=True)
class MarkerArgs:
    """Validated arguments of ``@pytest.mark.xcs_parallel``."""

    min_speedup: float | None = None
    min_parallelism: float | None = None
    rounds: int | None = None
    workers: int | None = None
    leaves: Leaves | None = None  # callees whose calls are leaf calls in this test


_MARKER_TYPES = {"min_speedup": float, "min_parallelism": float, "rounds": int, "workers": int,
                 "leaves": list}


def marker_args(args: tuple, kwargs: dict[str, Any]) -> MarkerArgs:
    """Validate the marker's arguments; ``ValueError`` names the bad one."""
    if args:
        raise ValueError(f"xcs_parallel takes keyword arguments only, got positional {args!r}; "
                         f"use one of {', '.join(_MARKER_TYPES)}")
    unknown = sorted(set(kwargs) - set(_MARKER_TYPES))
    if unknown:
        raise ValueError(f"xcs_parallel got unknown argument(s) {', '.join(unknown)}; "
                         f"accepted: {', '.join(_MARKER_TYPES)}")
    kwargs = dict(kwargs)
    if "leaves" in kwargs:
        kwargs["leaves"] = marker_leaves(kwargs["leaves"])
    for name, value in kwargs.items():
        kind = _MARKER_TYPES[name]
        if kind is list:
            continue
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if kind is int:
            ok = isinstance(value, int) and not isinstance(value, bool)
        if not ok or value <= 0:
            raise ValueError(f"xcs_parallel({name}=...) must be a positive "
                             f"{'integer' if kind is int else 'number'}, got {value!r}")
    return MarkerArgs(**kwargs)


def marker_leaves(value: Any) -> Leaves | None:
    """``leaves=[...]`` of the marker: functions, bound methods, classes or module
    names, as ``xcs.jit(leaves=...)`` takes them; ``ValueError`` names a bad item."""
    from xcs_core.leaves import Leaves

    try:
        return Leaves(value, "xcs_parallel(leaves=...)") or None
    except TypeError as exc:
        detail = str(exc).split(": ", 1)[-1]
        raise ValueError(f"xcs_parallel(leaves=...): {detail}") from None
