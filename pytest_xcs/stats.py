"""Statistics of measured speedup: paired rounds, an exact confidence interval, a noise floor.

The A/B rounds are interleaved (A B A B ...), so round ``i`` gives one paired
ratio ``sequential[i] / parallel[i]``: drift of the machine between rounds
affects both sides of a pair alike.  On the log ratios ``d_i``:

* the estimate is the Hodges-Lehmann estimator, the median of the Walsh
  averages ``(d_i + d_j) / 2`` (``i <= j``);
* the interval is the exact distribution-free confidence interval that goes
  with Wilcoxon's signed-rank test: ``[W_(k), W_(N+1-k)]`` of the ``N`` sorted
  Walsh averages, ``k - 1`` being the largest signed-rank statistic whose
  two-sided probability stays within ``1 - confidence`` (exact for up to 50
  rounds, the normal approximation beyond).  No random numbers, no scipy.

Both are turned back into speedups with ``exp``.  With few rounds no interval
at the requested confidence exists (6 rounds reach 96.9%, 8 rounds 99.2%);
``min_rounds`` says how many are needed, and the interval is then ``None``.

A gate fires only when the whole interval lies below the target *and* the
parallel side misses the target time by more than an absolute noise floor
(``falls_short``): a 0.3 ms test never fails for being 20% slower.
"""

from __future__ import annotations

import functools
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from pytest_xcs.options import NOISE_FLOOR  # the default of --xcs-noise-floor

__all__ = ["CONFIDENCE", "NOISE_FLOOR", "SpeedupStats", "falls_short", "min_rounds",
           "speedup_stats"]

#: Two-sided confidence of the reported interval (one-sided false alarms <= 0.5%).
CONFIDENCE = 0.99
_EXACT_UP_TO = 50


@dataclass(frozen=True)
class SpeedupStats:
    """Measured speedup of paired rounds with its confidence interval.

    ``low``/``high`` are ``None`` when the rounds are too few for an interval at
    ``confidence``; ``coverage`` is the exact coverage of the interval given.
    """

    rounds: int
    estimate: float
    low: float | None
    high: float | None
    confidence: float
    coverage: float | None

    @property
    def conclusive(self) -> bool:
        return self.low is not None and self.high is not None

    def interval_text(self) -> str:
        """``3.91-4.22x``, or why there is none."""
        if not self.conclusive:
            return f"needs {min_rounds(self.confidence)}+"
        return f"{self.low:.2f}-{self.high:.2f}x"


@functools.lru_cache(maxsize=64)
def _signed_rank_counts(n: int) -> tuple[int, ...]:
    """How many of the 2**n sign patterns give each signed-rank sum 0..n(n+1)/2."""
    counts = [1] + [0] * (n * (n + 1) // 2)
    for rank in range(1, n + 1):
        for total in range(len(counts) - 1, rank - 1, -1):
            counts[total] += counts[total - rank]
    return tuple(counts)


def _order_index(n: int, confidence: float) -> tuple[int, float] | None:
    """``(k, coverage)``: the interval is the k-th smallest to k-th largest Walsh average."""
    alpha = 1 - confidence
    if n > _EXACT_UP_TO:
        z = statistics.NormalDist().inv_cdf(1 - alpha / 2)
        mean, sd = n * (n + 1) / 4, math.sqrt(n * (n + 1) * (2 * n + 1) / 24)
        k = max(1, math.floor(mean - z * sd))
        return k, confidence
    counts, total = _signed_rank_counts(n), 2 ** n
    tail, k = 0, 0
    for t, count in enumerate(counts):  # P(T <= t) for growing t
        if 2 * (tail + count) / total > alpha:
            break
        tail += count
        k = t + 1
    if k == 0:
        return None
    return k, 1 - 2 * tail / total


def min_rounds(confidence: float = CONFIDENCE) -> int:
    """The fewest paired rounds for which an interval at ``confidence`` exists."""
    n = 1
    while _order_index(n, confidence) is None:
        n += 1
    return n


def speedup_stats(sequential: Sequence[float], parallel: Sequence[float],
                  confidence: float = CONFIDENCE) -> SpeedupStats:
    """Paired speedup of interleaved rounds (see module doc); rounds must be > 0 s."""
    if len(sequential) != len(parallel) or not sequential:
        raise ValueError(f"need paired rounds, got {len(sequential)} sequential and "
                         f"{len(parallel)} parallel")
    logs = [math.log(a) - math.log(b) for a, b in zip(sequential, parallel)]
    walsh = sorted((logs[i] + logs[j]) / 2 for i in range(len(logs))
                   for j in range(i, len(logs)))
    estimate = math.exp(statistics.median(walsh))
    found = _order_index(len(logs), confidence)
    if found is None:
        return SpeedupStats(len(logs), estimate, None, None, confidence, None)
    k, coverage = found
    return SpeedupStats(len(logs), estimate, math.exp(walsh[k - 1]), math.exp(walsh[-k]),
                        confidence, coverage)


def falls_short(stats: SpeedupStats, target: float, seq_median: float, par_median: float,
                noise_floor: float = NOISE_FLOOR) -> bool:
    """Whether the speedup is below ``target`` beyond doubt and beyond the noise floor.

    Beyond doubt: the whole interval lies below ``target``.  Beyond the noise
    floor: the parallel side takes more than ``noise_floor`` seconds longer
    than the time that would give ``target`` (``seq_median / target``).
    Without an interval (too few rounds) nothing is below beyond doubt.
    """
    if not stats.conclusive or target <= 0:
        return False
    return stats.high < target and par_median - seq_median / target > noise_floor
