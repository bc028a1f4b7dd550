"""What the plugin prints: one line per serialization site, node ids, widths, efficiency."""

import json

import pytest

from pytest_xcs.results import ABTiming, TestResult
from pytest_xcs.tables import ab_table
from xcs_core.report import WIDTH, tidy_paths

LOOP = '''
import pytest, xcs_core as xcs

@xcs.op
def step(x):
    return x + 1

@pytest.mark.xcs_parallel{marker}
@pytest.mark.parametrize("case", ["a-rather-long-parameter-id-that-makes-the-node-id-wide"])
def test_loop(case):
    x = 0
    for _ in range(6):
        if step(x) > 0:              # a truth test on every iteration
            x = xcs.value(step(x))   # and a value() on every iteration
    assert x == 6
'''


@pytest.fixture
def loop(pytester):
    pytester.mkpydir("deeply_nested_package_folder")
    pytester.path.joinpath("deeply_nested_package_folder/test_serial_loop.py").write_text(
        LOOP.format(marker=""))
    return pytester


def test_serialization_points_are_listed_once_per_site_with_a_count(loop):
    result = loop.runpytest("--xcs-report", "--xcs-json", "out.json")
    result.assert_outcomes(passed=1)
    out = result.stdout.str()
    result.stdout.fnmatch_lines([
        "  what blocks parallelism (time it adds to the critical path):"])
    assert "deeply_nested_package_folder/test_serial_loop.py:13: truth test" in out
    assert "deeply_nested_package_folder/test_serial_loop.py:14: xcs.value(), 6 times" in out
    assert out.count("test_serial_loop.py:13:") == 1
    assert out.count("test_serial_loop.py:14:") == 1
    data = json.loads((loop.path / "out.json").read_text())
    (test,) = data["tests"].values()
    sites = [p["site"] for p in test["sync_points"]]
    assert len(sites) == len(set(sites)) == 2
    assert test["sync_points"][0]["count"] == 6


def test_min_parallelism_failure_names_each_site_once(loop):
    path = loop.path / "deeply_nested_package_folder/test_serial_loop.py"
    path.write_text(LOOP.format(marker="(min_parallelism=2)"))
    result = loop.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*serialization points: deeply_nested_package_folder/test_serial_loop.py:13 (truth test"
        "*6 times); deeply_nested_package_folder/test_serial_loop.py:14 (xcs.value(), * times)"])


def test_report_names_tests_by_node_id_like_json_and_fits_the_width(loop):
    result = loop.runpytest("--xcs-report", "--xcs-ab", "--xcs-rounds", "1",
                            "--xcs-json", "out.json")
    result.assert_outcomes(passed=1)
    (nodeid,) = json.loads((loop.path / "out.json").read_text())["tests"]
    assert nodeid.startswith("deeply_nested_package_folder/test_serial_loop.py::test_loop[")
    out = result.stdout.str()
    section = out.split("xcs parallelism")[1].split(" passed in ")[0].splitlines()[1:-1]
    assert nodeid in section  # the detail heading is the full node id, as in pytest
    other = [line for line in section if line != nodeid]
    assert max(map(len, other)) <= WIDTH, max(other, key=len)
    # the table wraps the long id after "/" or "::" rather than widening past 100 columns
    assert "deeply_nested_package_folder/" in section[3] + section[4]


def _result(speedup_parts, predicted):
    timing = ABTiming(sequential=[speedup_parts[0]], parallel=[speedup_parts[1]],
                      executor="threads", workers=None)
    return TestResult("t.py::t", {"predicted_speedup": predicted, "parallelism": 2.0,
                                  "max_width": 2}, ab=timing)


def test_efficiency_never_shows_above_100_percent():
    beat = _result((4.0, 1.0), predicted=2.0)  # measured 4x, predicted 2x
    assert beat.efficiency == 1.0 and beat.beat_prediction
    assert beat.to_dict()["ab"]["efficiency"] == 1.0 and beat.metrics()["efficiency"] == 1.0
    table = ab_table([beat])
    assert "100%*" in table and "200%" not in table
    assert "* measured speedup above the prediction" in table
    slower = _result((3.0, 2.0), predicted=2.0)
    assert slower.efficiency == pytest.approx(0.75) and not slower.beat_prediction
    assert "75%" in ab_table([slower]) and "*" not in ab_table([slower])


def test_installed_package_prefixes_are_removed_from_sites():
    site = ".venv/lib/python3.11/site-packages/xcs_core/examples/test_examples.py:12 x8 ask"
    assert tidy_paths(site) == "xcs_core/examples/test_examples.py:12 x8 ask"
    assert tidy_paths("/usr/lib/python3/dist-packages/m.py:3 judge <- "
                      "/x/site-packages/m.py:2 x4") == "m.py:3 judge <- m.py:2 x4"
    assert tidy_paths("tests/test_a.py:4 x2 f") == "tests/test_a.py:4 x2 f"


BATCHED = '''
import time
import pytest, xcs_core as xcs

def get_many(items):
    time.sleep(0.01)
    return [key * 2 for (key,) in items]

@xcs.op(batch=get_many, max_batch=4)
def get(key):
    time.sleep(0.01)
    return key * 2

@pytest.mark.xcs_parallel
def test_lookups():
    assert [get(k) for k in range(10)] == [k * 2 for k in range(10)]
'''


def test_the_ab_parallel_side_shows_the_requests_it_measured(pytester):
    pytester.makepyfile(test_batched=BATCHED)
    result = pytester.runpytest("--xcs-report", "--xcs-ab", "--xcs-rounds", "2",
                                "--xcs-json", "out.json")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([
        "*batched: get: 10 calls in 3 requests (max_batch 4)",  # planned, from the trace
        "*A/B parallel rounds sent get: 10 calls in 3 requests (max_batch 4), measured"])
    doc = json.loads(pytester.path.joinpath("out.json").read_text())
    ab = doc["tests"]["test_batched.py::test_lookups"]["ab"]
    assert ab["batches"] == [{"target": "get", "calls": 10, "requests": 3, "max_batch": 4}]
