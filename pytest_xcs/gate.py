"""Regression gates: compare a run with a stored baseline, and never pass silently.

A comparison either compares something and says so in one line (baseline,
number of tests, gated metrics, verdict), or it is an error:

* a gated metric missing on either side is a ``GateError`` naming the option
  that produces it (``--xcs-ab`` for the measured ``speedup`` and
  ``efficiency``);
* a comparison in which no test of the baseline ran fails, it does not pass.

Structural metrics regress when they drop more than the threshold below the
baseline.  Measured ones (``speedup``, ``efficiency``) regress only beyond doubt
and beyond the noise floor (``pytest_xcs.stats``): the upper end of this run's
confidence interval lies below the limit (baseline x (1 - PCT)), and the
parallel side takes more than the noise floor longer than the limit allows.  A
test whose rounds were too few for an interval is named in the verdict as not
judged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pytest_xcs.options import DEFAULT_GATE, NOISE_FLOOR, Threshold
from pytest_xcs.stats import min_rounds

__all__ = ["DEFAULT_GATE", "MEASURED", "Comparison", "GateError", "Regression", "baseline_fix",
           "compare", "require_metrics", "run_fix"]

#: Metrics that exist only when the run measured them, and the option that does.
MEASURED = {"speedup": "--xcs-ab", "efficiency": "--xcs-ab"}


class GateError(Exception):
    """A comparison that cannot be made as asked (a usage error: says how to fix it)."""


@dataclass(frozen=True)
class Regression:
    """One metric of one test that fell below its threshold."""

    nodeid: str
    metric: str
    baseline: float
    current: float
    threshold: Threshold
    current_high: float | None = None  # upper end of the interval of a measured metric

    @property
    def change(self) -> float:
        return (self.current - self.baseline) / self.baseline * 100 if self.baseline else 0.0


@dataclass
class Comparison:
    """What one comparison compared, what it found, and its verdict."""

    label: str
    thresholds: list[Threshold]
    compared: list[str] = field(default_factory=list)
    baseline_tests: int = 0
    regressions: list[Regression] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unjudged: list[str] = field(default_factory=list)  # too few rounds for an interval

    @property
    def failed(self) -> bool:
        return bool(self.regressions) or not self.compared

    def verdict(self) -> str:
        """The one line every comparison prints."""
        gates = ", ".join(str(t) for t in self.thresholds)
        if not self.compared:
            return (f"xcs: comparison with {self.label} FAILED: none of its "
                    f"{self.baseline_tests} test(s) ran, nothing was compared")
        found = len(self.regressions)
        outcome = (f"FAILED, {found} regression{'s' if found > 1 else ''}" if found
                   else "passed")
        if self.unjudged:
            outcome += (f" ({len(self.unjudged)} measured value(s) not judged: too few rounds "
                        "for a confidence interval)")
        return f"xcs: compared {len(self.compared)} test(s) with {self.label} on {gates}: {outcome}"


def _why(metric: str) -> str:
    if metric in MEASURED:
        return f"{metric} is measured only with {MEASURED[metric]}"
    return f"{metric} is missing (written by an older pytest-xcs?)"


Fix = Callable[[str], str]


def require_metrics(tests: dict[str, Any], thresholds: list[Threshold], side: str,
                    fix: Fix) -> None:
    """Raise ``GateError`` unless every test in ``tests`` has every gated metric.

    ``fix(metric)`` says how to get the metric; it ends the message.
    """
    for t in thresholds:
        lacking = sorted(n for n, test in tests.items()
                         if t.metric not in (test.get("metrics") or {}))
        if lacking:
            more = f" and {len(lacking) - 1} more" if len(lacking) > 1 else ""
            raise GateError(f"gate {t}: {side} has no {t.metric} for {lacking[0]}{more} "
                            f"({_why(t.metric)}); {fix(t.metric)}")


def baseline_fix(name: str) -> Fix:
    """How to get a missing metric into baseline ``name``."""
    def fix(metric: str) -> str:
        flag = f" {MEASURED[metric]}" if metric in MEASURED else ""
        return f"save it again with --xcs-save-baseline {name}{flag}"
    return fix


def run_fix(xdist: bool) -> Fix:
    """How to make this run measure a missing metric."""
    def fix(metric: str) -> str:
        if metric not in MEASURED:
            return "upgrade pytest-xcs"
        if xdist:
            return (f"measured timings are off under pytest-xdist; run with -n 0 "
                    f"{MEASURED[metric]}")
        return f"add {MEASURED[metric]}"
    return fix


def compare(baseline: dict[str, Any], current: dict[str, Any], thresholds: list[Threshold],
            label: str, fixes: tuple[Fix, Fix], noise_floor: float = NOISE_FLOOR
            ) -> Comparison:
    """Compare ``current`` with ``baseline`` on ``thresholds`` (see module doc).

    ``fixes`` say how to get a missing metric into the baseline and into the
    current run; they end the ``GateError`` raised when one is missing.
    """
    result = Comparison(label, list(thresholds), baseline_tests=len(baseline["tests"]))
    if _identity(baseline) != _identity(current):
        result.notes.append(f"baseline was measured on another machine "
                            f"({_machine(baseline)}; this one is {_machine(current)}): "
                            "timing comparisons may not be meaningful")
    base_tests, cur_tests = baseline["tests"], current["tests"]
    missing = sorted(set(base_tests) - set(cur_tests))
    new = sorted(set(cur_tests) - set(base_tests))
    if missing:
        result.notes.append(f"{len(missing)} test(s) of the baseline did not run: "
                            f"{_names(missing)}")
    if new:
        result.notes.append(f"{len(new)} test(s) have no baseline yet: {_names(new)}")
    result.compared = sorted(set(base_tests) & set(cur_tests))
    both = {n: base_tests[n] for n in result.compared}
    require_metrics(both, thresholds, f"the {label}", fixes[0])
    require_metrics({n: cur_tests[n] for n in result.compared}, thresholds, "this run",
                    fixes[1])
    for nodeid in result.compared:
        for t in thresholds:
            _judge(result, nodeid, base_tests[nodeid], cur_tests[nodeid], t, noise_floor)
    if result.unjudged:
        result.notes.append(f"not judged, too few A/B rounds for a confidence interval "
                            f"(use --xcs-rounds {min_rounds()} or more): "
                            f"{_names(result.unjudged)}")
    return result


def _judge(result: Comparison, nodeid: str, old_test: dict[str, Any],
           now_test: dict[str, Any], t: Threshold, noise_floor: float) -> None:
    """Add a regression of ``t.metric`` of one test to ``result`` (see module doc)."""
    old, now = old_test["metrics"][t.metric], now_test["metrics"][t.metric]
    limit = old * (1 - t.percent / 100)
    if old <= 0:
        return
    ab = now_test.get("ab") or {}
    if t.metric not in MEASURED or "coverage" not in ab:  # structural, or a file without
        if now < limit:                                    # intervals: compare the values
            result.regressions.append(Regression(nodeid, t.metric, old, now, t))
        return
    high = ab.get(f"{t.metric}_high")
    if high is None:
        result.unjudged.append(f"{nodeid} {t.metric}")
        return
    target = limit if t.metric == "speedup" else limit * (ab.get("predicted_speedup") or 0)
    missed = ab["par_median"] - ab["seq_median"] / target if target > 0 else 0.0
    if high < limit and missed > noise_floor:
        result.regressions.append(Regression(nodeid, t.metric, old, now, t, high))


def _names(nodeids: list[str], shown: int = 3) -> str:
    more = len(nodeids) - shown
    return ", ".join(nodeids[:shown]) + (f" and {more} more" if more > 0 else "")


def _identity(doc: dict[str, Any]) -> tuple:
    """What makes timings comparable: the machine, not the Python version."""
    m = doc.get("machine") or {}
    return tuple(m.get(k) for k in ("node", "system", "machine", "cpus"))


def _machine(doc: dict[str, Any]) -> str:
    m = doc.get("machine") or {}
    return f"{m.get('node', '?')} {m.get('machine', '?')} {m.get('cpus', '?')} cpus"
