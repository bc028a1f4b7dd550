"""Statistics of measured speedup: recorded round times in, exact numbers out.

The numeric behaviour is checked by feeding recorded round times to the
functions directly; the pytester tests at the end prove the wiring (the
interval reaches the table, the JSON and the gates) without asserting any
measured timing.
"""

import json
import math

import pytest

from pytest_xcs import gate
from pytest_xcs.options import Threshold
from pytest_xcs.results import ABTiming, TestResult
from pytest_xcs.stats import (
    CONFIDENCE,
    falls_short,
    min_rounds,
    speedup_stats,
)

# Twelve interleaved rounds recorded from the docs' ensemble (seconds).
SEQ = [0.1311, 0.1309, 0.1314, 0.1310, 0.1312, 0.1313, 0.1310, 0.1309, 0.1312, 0.1311,
       0.1310, 0.1313]
PAR = [0.0312, 0.0309, 0.0347, 0.0311, 0.0313, 0.0310, 0.0315, 0.0312, 0.0309, 0.0314,
       0.0311, 0.0330]


def test_rounds_needed_for_an_interval():
    assert min_rounds(0.99) == 8 and min_rounds(0.95) == 6
    assert CONFIDENCE == 0.99
    few = speedup_stats(SEQ[:7], PAR[:7])
    assert not few.conclusive and few.low is None and few.interval_text() == "needs 8+"
    assert speedup_stats(SEQ[:8], PAR[:8]).coverage == pytest.approx(1 - 2 / 256)


def test_recorded_rounds_give_the_exact_interval():
    found = speedup_stats(SEQ, PAR)
    logs = sorted(math.log(a / b) for a, b in zip(SEQ, PAR))
    walsh = sorted((x + y) / 2 for i, x in enumerate(logs) for y in logs[i:])
    assert len(walsh) == 78
    # 12 rounds at 99%: the 8th smallest to the 8th largest Walsh average (exact tables)
    assert found.low == pytest.approx(math.exp(walsh[7]))
    assert found.high == pytest.approx(math.exp(walsh[-8]))
    assert found.coverage == pytest.approx(0.99072265625)
    assert found.low < found.estimate < found.high
    assert found.interval_text() == f"{found.low:.2f}-{found.high:.2f}x"


def test_the_estimate_is_paired_and_robust_to_one_slow_round():
    calm = speedup_stats(SEQ, PAR)
    spiked = speedup_stats(SEQ, PAR[:5] + [0.5] + PAR[6:])  # one GC pause on the B side
    assert spiked.estimate == pytest.approx(calm.estimate, rel=0.02)
    # drift that hits both sides of each pair alike leaves the ratio alone
    drift = [1 + i / 10 for i in range(12)]
    drifted = speedup_stats([a * d for a, d in zip(SEQ, drift)],
                            [b * d for b, d in zip(PAR, drift)])
    assert drifted.estimate == pytest.approx(calm.estimate)
    assert drifted.low == pytest.approx(calm.low) and drifted.high == pytest.approx(calm.high)


def test_many_rounds_use_the_normal_approximation():
    seq = [0.1 + 0.001 * (i % 7) for i in range(60)]
    par = [0.025 + 0.0005 * (i % 5) for i in range(60)]
    found = speedup_stats(seq, par)
    assert found.conclusive and found.low < found.estimate < found.high
    assert found.coverage == CONFIDENCE


def test_unpaired_rounds_are_refused():
    with pytest.raises(ValueError, match="need paired rounds, got 2 sequential and 1 parallel"):
        speedup_stats([1.0, 1.0], [1.0])


def test_a_gate_fires_only_below_beyond_doubt_and_beyond_the_noise_floor():
    found = speedup_stats(SEQ, PAR)  # about 4.2x, interval well within 3.9x-4.3x
    seq, par = 0.1311, 0.0312
    assert falls_short(found, 10.0, seq, par)           # far below, 18 ms too slow
    assert not falls_short(found, 4.0, seq, par)        # interval reaches above 4x
    assert not falls_short(found, found.estimate * 1.01, seq, par)  # within the interval
    # the same ratios on a test 1000 times shorter: 18 us too slow is below a 1 ms floor
    assert not falls_short(found, 10.0, seq / 1000, par / 1000)
    assert falls_short(found, 10.0, seq / 1000, par / 1000, noise_floor=1e-5)
    assert not falls_short(speedup_stats(SEQ[:5], PAR[:5]), 100.0, seq, par)  # no interval


def _doc(speedup_rounds, metric_value=None, predicted=4.0):
    seq, par = speedup_rounds
    result = TestResult("t.py::t", {"predicted_speedup": predicted, "parallelism": 3.5,
                                    "max_width": 6},
                        ab=ABTiming(list(seq), list(par), "threads", None))
    data = result.to_dict()
    if metric_value is not None:  # a baseline recorded on a faster day
        data["metrics"]["speedup"] = metric_value
    return {"tests": {"t.py::t": data}, "machine": {}}


def _compare(old, new, gates, noise_floor=0.001):
    fixes = (lambda m: "fix", lambda m: "fix")
    return gate.compare(old, new, gates, "baseline 'b'", fixes, noise_floor)


def test_baseline_speedup_gate_uses_this_runs_interval():
    now = _doc((SEQ, PAR))
    gate_10 = [Threshold("speedup", 10.0)]
    assert not _compare(_doc((SEQ, PAR)), now, gate_10).failed
    result = _compare(_doc((SEQ, PAR), metric_value=8.0), now, gate_10)
    (found,) = result.regressions
    assert found.metric == "speedup" and found.current_high == pytest.approx(
        now["tests"]["t.py::t"]["ab"]["speedup_high"])
    # just below the limit, but the interval reaches above it: not beyond doubt
    high = now["tests"]["t.py::t"]["ab"]["speedup_high"]
    assert not _compare(_doc((SEQ, PAR), metric_value=high / 0.9 * 0.999), now,
                        gate_10).failed
    # a huge noise floor turns the clear drop into noise
    assert not _compare(_doc((SEQ, PAR), metric_value=8.0), now, gate_10, 10.0).failed


def test_too_few_rounds_are_named_as_not_judged():
    now = _doc((SEQ[:4], PAR[:4]))
    result = _compare(_doc((SEQ, PAR), metric_value=8.0), now, [Threshold("speedup", 10.0)])
    assert not result.regressions and result.unjudged == ["t.py::t speedup"]
    assert "(1 measured value(s) not judged: too few rounds" in result.verdict()
    assert any("use --xcs-rounds 8 or more" in n for n in result.notes)


def test_efficiency_gate_compares_against_the_measured_prediction():
    now = _doc((SEQ, PAR), predicted=8.0)  # efficiency about 53%
    old = _doc((SEQ, PAR), predicted=4.4)  # efficiency about 95%
    result = _compare(old, now, [Threshold("efficiency", 10.0)])
    assert [r.metric for r in result.regressions] == ["efficiency"]


# -- wiring, through real pytest runs ---------------------------------------------------
ENSEMBLE = '''
import time, pytest, xcs_core as xcs

@xcs.op
def ask(model, q):
    time.sleep(0.005)
    return f"{model}:{q}"

@pytest.mark.xcs_parallel
def test_ensemble():
    assert len([ask(m, "why?") for m in "abcd"]) == 4
'''


def test_interval_reaches_table_and_json(pytester):
    pytester.makepyfile(test_ens=ENSEMBLE)
    result = pytester.runpytest("--xcs-ab", "--xcs-rounds", "8", "--xcs-json", "out.json")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["name * speedup * 99% CI * predicted * efficiency",
                                 "test_ens.py::test_ensemble * *x * *-*x * *x * *%*"])
    ab = json.loads((pytester.path / "out.json").read_text())["tests"][
        "test_ens.py::test_ensemble"]["ab"]
    assert ab["speedup_low"] <= ab["speedup"] <= ab["speedup_high"]
    assert ab["confidence"] == 0.99 and ab["coverage"] == pytest.approx(1 - 2 / 256)
    assert len(ab["critical"]) == 8 and isinstance(ab["predicted_speedup"], float)


def test_speedup_gate_wiring_and_noise_floor(pytester):
    pytester.makepyfile(test_ens=ENSEMBLE)
    pytester.runpytest("--xcs-save-baseline", "main", "--xcs-ab", "--xcs-rounds", "8")
    path = pytester.path / ".xcs/main.json"
    doc = json.loads(path.read_text())
    doc["tests"]["test_ens.py::test_ensemble"]["metrics"]["speedup"] = 1000.0
    path.write_text(json.dumps(doc))
    args = ["--xcs-ab", "--xcs-rounds", "8", "--xcs-compare", "main",
            "--xcs-compare-fail", "speedup:10%"]
    worse = pytester.runpytest(*args)
    assert worse.ret == pytest.ExitCode.TESTS_FAILED
    worse.stdout.fnmatch_lines(["test_ens.py::test_ensemble  speedup  1e+03 * (<= *) *-10%*",
                                "*on speedup:10%: FAILED, 1 regression"])
    floor = pytester.runpytest(*args, "--xcs-noise-floor", "10s")
    assert floor.ret == pytest.ExitCode.OK
    floor.stdout.fnmatch_lines(["*on speedup:10%: passed"])


@pytest.mark.parametrize("args, message", [
    (["--xcs-rounds", "5"], "gate speedup:10%: 5 A/B round(s) give no 99% confidence interval, "
                            "so it could never fire; use --xcs-rounds 8 or more"),
    (["--xcs-noise-floor", "fast"], "argument --xcs-noise-floor: expected a duration such as "
                                    "2ms, 500us or 0.01s, got 'fast'"),
])
def test_speedup_gate_usage_errors(pytester, args, message):
    pytester.makepyfile(test_ens=ENSEMBLE)
    pytester.runpytest("--xcs-save-baseline", "main", "--xcs-ab", "--xcs-rounds", "8")
    result = pytester.runpytest("--xcs-ab", "--xcs-compare", "main",
                                "--xcs-compare-fail", "speedup:10%", *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr.str()
