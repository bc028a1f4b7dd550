"""Baseline gates through real pytest sessions: they compare, say so, or fail loudly."""

import json

import pytest

from pytest_xcs import baseline, cli
from tests import projects

PARALLEL = projects.ensemble("abcdef", 0.002)

# The same test after a change that makes every call wait for the one before.
SERIAL = PARALLEL.replace(
    'answers = [ask(m, "why?") for m in "abcdef"]',
    'answers = []\n    for m in "abcdef":\n'
    '        if not answers or answers[-1]:\n            answers.append(ask(m, "why?"))')


@pytest.fixture
def ensemble(pytester):
    pytester.makepyfile(test_ens=PARALLEL)
    return pytester


def test_readme_recipe_catches_a_serialized_ensemble(ensemble):
    ensemble.runpytest("--xcs-save-baseline", "main").assert_outcomes(passed=1)
    same = ensemble.runpytest("--xcs-compare", "main")
    assert same.ret == pytest.ExitCode.OK
    same.stdout.fnmatch_lines([
        "xcs: compared 1 test(s) with baseline 'main' (.xcs/main.json) on parallelism:10%: "
        "passed"])
    ensemble.makepyfile(test_ens=SERIAL)
    # a fresh process: the edited file is read anew (in-process, source caches remember it)
    worse = ensemble.runpytest_subprocess("--xcs-compare", "main")
    assert worse.ret == pytest.ExitCode.TESTS_FAILED
    worse.stdout.fnmatch_lines([
        "*xcs regressions*",
        "test_ens.py::test_ensemble  parallelism  3.5 * 1 * -71.4%*-10%*",
        "xcs: compared 1 test(s) with baseline 'main' (.xcs/main.json) on parallelism:10%: "
        "FAILED, 1 regression",
        "*= 1 passed*, 1 xcs regression in *"])
    assert "INTERNALERROR" not in worse.stdout.str()


@pytest.mark.parametrize("setup, message", [
    ("", "--xcs-compare main: baseline *main.json does not exist; create it with "
         "--xcs-save-baseline main"),
    ("{not json", "--xcs-compare main: baseline *main.json is not readable JSON *; delete it "
                  "and save a new one with --xcs-save-baseline main"),
    ('{"schema": 99, "tests": {}}', "--xcs-compare main: baseline *main.json is not an xcs "
                                    "baseline of schema 1; save a new one with "
                                    "--xcs-save-baseline main"),
])
def test_missing_corrupt_or_foreign_baseline_is_a_usage_error(ensemble, setup, message):
    if setup:
        (ensemble.path / ".xcs").mkdir()
        (ensemble.path / ".xcs/main.json").write_text(setup)
    result = ensemble.runpytest("--xcs-compare", "main")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: {message}"])
    assert "skipped" not in result.stdout.str() + result.stderr.str()


def test_measured_gate_without_ab_is_a_usage_error_naming_the_flag(ensemble):
    ensemble.runpytest("--xcs-save-baseline", "main")
    result = ensemble.runpytest("--xcs-compare", "main", "--xcs-compare-fail", "speedup:10%")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([
        "ERROR: --xcs-compare-fail: gate speedup:10%: the baseline 'main' (.xcs/main.json) has "
        "no speedup for test_ens.py::test_ensemble (speedup is measured only with --xcs-ab); "
        "save it again with --xcs-save-baseline main --xcs-ab"])
    ensemble.runpytest("--xcs-save-baseline", "main", "--xcs-ab", "--xcs-rounds", "1")
    result = ensemble.runpytest("--xcs-compare", "main", "--xcs-compare-fail", "speedup:10%")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([
        "ERROR: --xcs-compare-fail: gate speedup:10%: this run does not measure speedup "
        "(speedup is measured only with --xcs-ab); add --xcs-ab"])


def test_measured_gate_under_xdist_is_a_usage_error(ensemble):
    pytest.importorskip("xdist")
    ensemble.runpytest("--xcs-save-baseline", "main", "--xcs-ab", "--xcs-rounds", "1")
    result = ensemble.runpytest_subprocess("-n", "2", "--xcs-ab", "--xcs-compare", "main",
                                           "--xcs-compare-fail", "speedup:10%")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "measured timings are off under pytest-xdist; run with -n 0 --xcs-ab" in \
        result.stderr.str()


def test_a_comparison_that_compared_nothing_fails(ensemble):
    ensemble.runpytest("--xcs-save-baseline", "main")
    ensemble.makepyfile(test_ens=PARALLEL.replace("test_ensemble", "test_renamed"))
    result = ensemble.runpytest_subprocess("--xcs-compare", "main")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines([
        "xcs: 1 test(s) of the baseline did not run: test_ens.py::test_ensemble",
        "xcs: comparison with baseline 'main' (.xcs/main.json) FAILED: none of its 1 test(s) "
        "ran, nothing was compared",
        "*= 1 passed*, 1 xcs comparison failed in *"])


def test_baseline_from_other_tests_and_machine_is_named(ensemble):
    ensemble.runpytest("--xcs-save-baseline")
    path = ensemble.path / ".xcs/baseline.json"
    data = json.loads(path.read_text())
    data["machine"]["node"] = "elsewhere"
    data["tests"]["test_ens.py::test_gone"] = data["tests"]["test_ens.py::test_ensemble"]
    path.write_text(json.dumps(data))
    result = ensemble.runpytest("--xcs-compare")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*baseline was measured on another machine (elsewhere*",
                                 "xcs: 1 test(s) of the baseline did not run: "
                                 "test_ens.py::test_gone",
                                 "xcs: compared 1 test(s) with baseline 'baseline'*: passed"])


@pytest.mark.parametrize("option", [
    ["--xcs-json", "blocker/x.json"],
    ["--xcs-artifacts", "blocker/art", "--xcs-ab", "--xcs-rounds", "1"],
    ["--xcs-save-baseline", "main", "--xcs-baseline-dir", "blocker/base"],
])
def test_unwritable_output_path_is_a_usage_error_at_start(ensemble, option):
    (ensemble.path / "blocker").write_text("a file, so no folder can be made under it")
    result = ensemble.runpytest(*option)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    err = result.stderr.str()
    assert f"ERROR: {option[0]}" in err and "cannot write to the folder" in err
    assert "choose a writable path" in err
    assert "INTERNALERROR" not in result.stdout.str() + err
    assert "passed" not in result.stdout.str()  # refused before any test ran


def _doc(tmp_path, name, **metrics):
    path = tmp_path / name
    baseline.save(path, baseline.document({"t.py::t": {"metrics": metrics}}))
    return str(path)


def test_compare_command_reports_a_parallelism_drop_by_default(tmp_path, capsys):
    old = _doc(tmp_path, "old.json", parallelism=4.0, max_width=8)
    new = _doc(tmp_path, "new.json", parallelism=1.5, max_width=8)
    assert cli.main(["compare", old, old]) == 0
    assert "compared 1 test(s) with baseline" in capsys.readouterr().out
    assert cli.main(["compare", old, new]) == 1
    out = capsys.readouterr().out
    assert "t.py::t  parallelism  4 " in out and "-62.5%" in out
    assert "on parallelism:10%: FAILED, 1 regression" in out
    assert cli.main(["compare", old, new, "--fail=parallelism:70%"]) == 0


def test_compare_command_names_the_flag_of_a_missing_metric(tmp_path, capsys):
    old = _doc(tmp_path, "old.json", parallelism=4.0)
    assert cli.main(["compare", old, old, "--fail=speedup:10%"]) == 2
    err = capsys.readouterr().err
    assert "has no speedup for t.py::t (speedup is measured only with --xcs-ab)" in err
    assert f"write {old} again with pytest --xcs-ab --xcs-json {old}" in err
    assert cli.main(["compare", old, str(tmp_path / "none.json")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_baseline_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "b.json"
    baseline.save(path, baseline.document({"t": {"metrics": {"speedup": 2.0}}}))
    original = path.read_text()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(json, "dump", boom)
    with pytest.raises(OSError):
        baseline.save(path, baseline.document({}))
    assert path.read_text() == original
    assert [p.name for p in tmp_path.iterdir()] == ["b.json"]
