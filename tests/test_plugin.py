"""The pytest plugin, exercised through real pytest sessions (pytester)."""

import json

import pytest

from pytest_xcs.options import threshold

EXAMPLE = '''
import threading
import time

import pytest

import xcs_core as xcs


@xcs.op
def model(i, q):
    time.sleep(0.01)
    return f"{q}{i}"


@xcs.op
def judge(xs):
    return max(xs)


@pytest.mark.xcs_parallel
def test_ensemble():
    answers = [model(i, "q") for i in range(6)]
    assert judge(answers) == "q5"


@pytest.mark.xcs_parallel
def test_chain():
    a = model(1, "q")
    if a == "q1":
        b = model(2, a)
    assert b == "q12"


def test_unmarked():
    assert model(1, "u") == "u1"
'''


@pytest.fixture
def example(pytester):
    pytester.makepyfile(test_example=EXAMPLE)
    return pytester


def test_help_shows_the_xcs_options(pytester):
    result = pytester.runpytest("--help")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["xcs: parallelism of @pytest.mark.xcs_parallel tests:",
                                 "*--xcs-compare-fail=METRIC:PCT*", "*parallelism:10%*"])


def test_report_table_lists_marked_tests_with_patterns_and_sync_points(example):
    result = example.runpytest("--xcs-report")
    result.assert_outcomes(passed=3)
    out = result.stdout.str()
    assert "xcs parallelism" in out
    result.stdout.fnmatch_lines([
        "name * calls * width * critical path * total time * parallelism * predicted",
        "test_example.py::test_ensemble  *7  *6  *2 / * 3.50  *x",
        "test_example.py::test_chain  *2  *1  *2 / * 1.00  *x",
        "test_example.py::test_ensemble",
        "  map: test_example.py:22 x6 model",
        "  reduce: test_example.py:23 judge <- test_example.py:22 x6",
        "test_example.py::test_chain", "*what blocks parallelism*",
        "    +* test_example.py:29: truth test*"])
    assert "test_unmarked" not in out.split("xcs parallelism")[1]


def test_quiet_report_shows_only_the_table(example):
    out = example.runpytest("--xcs-report", "-q").stdout.str()
    assert "test_example.py::test_ensemble " in out
    assert "map:" not in out and "serialization points" not in out


def test_ab_times_both_sides_and_writes_a_timeline(example):
    result = example.runpytest("--xcs-ab", "--xcs-rounds", "2", "--xcs-workers", "8")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines([
        "A/B timing, medians (A = sequential, B = xcs.jit on 'threads'; speedup: paired rounds):",
        "name * sequential * parallel * speedup * 99% CI * predicted * efficiency",
        "test_example.py::test_ensemble * ms * ms * *x * needs 8+ * *x * *%*",
        "test_example.py::test_ensemble", "  map: *",
        "  A/B rounds: sequential * to * (2 rounds), parallel * to * (2 rounds)",
        "  timeline: .xcs/artifacts/test_example.py_test_ensemble.timeline.svg"])
    svg = (example.path / ".xcs/artifacts/test_example.py_test_ensemble.timeline.svg")
    text = svg.read_text()
    assert text.count("<rect") == 1 + 7  # background + one bar per leaf call
    assert "#d62728" in text  # critical path marked


def test_parallel_only_failure_is_reported_with_both_outcomes(pytester):
    pytester.makepyfile('''
        import threading, time, pytest, xcs_core as xcs

        @xcs.op
        def where():
            time.sleep(0.002)  # slow enough to be dispatched to a worker
            return threading.current_thread().name

        @pytest.mark.xcs_parallel
        def test_main_thread_only():
            assert where() == "MainThread"
    ''')
    result = pytester.runpytest("--xcs-ab", "--xcs-rounds", "1")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*ParallelizationFailure: passes sequentially but fails under "
                                 "xcs.jit with the 'threads' executor: AssertionError*"])


def test_min_parallelism_and_min_speedup_state_expected_and_actual(pytester):
    pytester.makepyfile('''
        import time, pytest, xcs_core as xcs

        @xcs.op
        def step(x):
            time.sleep(0.005)
            return x + 1

        @pytest.mark.xcs_parallel(min_parallelism=2)
        def test_chain_is_not_parallel():
            assert step(step(1)) == 3

        @pytest.mark.xcs_parallel(min_speedup=1000)
        def test_chain_is_not_faster():
            assert step(step(1)) == 3
    ''')
    result = pytester.runpytest("--xcs-ab", "--xcs-rounds", "8")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines([
        "*xcs: parallelism 1.00 is below min_parallelism=2 (structural, from the traced "
        "graph: 2 calls, 2 on the critical path, max width 1)*",
        "*xcs: measured speedup *x (99% interval *-*x, 8 paired rounds) is below "
        "min_speedup=1000 (sequential median *, parallel median *, more than the noise floor "
        "1.0 ms slower than *)*",
    ])
    # too few rounds for an interval: not checked, and the summary says so
    few = pytester.runpytest("--xcs-ab", "--xcs-rounds", "3", "-k", "not_faster")
    few.assert_outcomes(passed=1)
    few.stdout.fnmatch_lines(["*min_speedup=1000 not checked: 3 round(s) give no 99% "
                              "interval; use --xcs-rounds 8 or more*"])
    # without A/B the measured check is reported as not checked, not silently passed
    plain = pytester.runpytest("--xcs-report", "-k", "not_faster")
    plain.assert_outcomes(passed=1)
    plain.stdout.fnmatch_lines(["*min_speedup=1000 not checked: it needs measured timings*"])


@pytest.mark.parametrize("args, message", [
    ("bogus=1", "xcs_parallel got unknown argument(s) bogus; accepted: min_speedup"),
    ("min_speedup=0", "xcs_parallel(min_speedup=...) must be a positive number, got 0"),
    ("rounds=-2", "xcs_parallel(rounds=...) must be a positive integer, got -2"),
    ("3", "xcs_parallel takes keyword arguments only"),
])
def test_bad_marker_arguments_are_clear_errors(pytester, args, message):
    pytester.makepyfile(f'''
        import pytest

        @pytest.mark.xcs_parallel({args})
        def test_x():
            pass
    ''')
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    assert message in result.stdout.str()
    assert "Traceback" not in result.stdout.str()


@pytest.mark.parametrize("args, message", [
    (["--xcs-rounds", "0"], "argument --xcs-rounds: expected a positive integer, got '0'"),
    (["--xcs-executor", "gpu"], "unknown executor 'gpu'; choose one of"),
    (["--xcs-compare-fail", "speed:5"], "unknown metric 'speed'"),
    (["--xcs-compare-fail", "speedup:150%"], "threshold must be between 0% and 100%"),
])
def test_bad_options_are_usage_errors(example, args, message):
    result = example.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr.str()


def test_ini_options_work_and_bad_ini_values_are_usage_errors(example):
    loop_scope = "asyncio_default_fixture_loop_scope = function\n"
    example.makeini("[pytest]\nxcs_report = true\nxcs_rounds = 2\n" + loop_scope)
    result = example.runpytest()
    assert "xcs parallelism" in result.stdout.str()
    example.makeini("[pytest]\nxcs_rounds = zero\n" + loop_scope)
    bad = example.runpytest()
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    assert "ini option xcs_rounds = 'zero': expected a positive integer" in bad.stderr.str()


def test_strict_markers_and_disabling_the_plugin(example):
    example.runpytest("--strict-markers").assert_outcomes(passed=3)
    off = example.runpytest_subprocess("-p", "no:xcs", "--strict-markers")
    assert "'xcs_parallel' not found in `markers`" in off.stdout.str()
    off = example.runpytest_subprocess("-p", "no:xcs")
    off.assert_outcomes(passed=3)
    assert "xcs parallelism" not in off.stdout.str()


def test_json_output_and_junit_properties(example):
    result = example.runpytest("--xcs-json", "out.json", "--junitxml", "junit.xml")
    result.assert_outcomes(passed=3)
    data = json.loads((example.path / "out.json").read_text())
    assert data["schema"] == 1 and "cpus" in data["machine"] and "commit" in data
    test = data["tests"]["test_example.py::test_ensemble"]
    assert test["summary"]["max_width"] == 6 and test["metrics"]["parallelism"] == 7 / 2
    # timing-derived: present and a number, its value not checked
    assert isinstance(test["metrics"]["predicted_speedup"], float)
    assert test["summary"]["maps"] == ["test_example.py:22 x6 model"]
    junit = (example.path / "junit.xml").read_text()
    assert 'name="xcs_max_width" value="6"' in junit


def test_profiles_cover_worker_threads(example):
    result = example.runpytest("--xcs-profile", "-v", "-k", "ensemble")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*slowest frames (parallel):*", "*model test_example.py:*"])
    html = (example.path / ".xcs/artifacts/test_example.py_test_ensemble.parallel.html")
    assert html.read_text().count("xcs_") >= 1  # worker threads are named xcs_N


def test_threshold_parsing():
    assert str(threshold("speedup:10%")) == "speedup:10%"
    assert threshold("max_width:5").percent == 5.0


def test_xdist_keeps_the_structural_report_and_explains_ab(example):
    pytest.importorskip("xdist")
    result = example.runpytest_subprocess("-n", "2", "--xcs-report", "--xcs-ab")
    result.assert_outcomes(passed=3)
    out = result.stdout.str()
    assert "x6 model" in out and "A/B timing (A =" not in out
    assert out.count("A/B timing is off under pytest-xdist") == 1
    assert "run with -n 0" in out
