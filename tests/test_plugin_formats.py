"""Output formats CI tools read: Markdown summary, Chrome trace events, SVG, speedscope."""

import json

import pytest

ENSEMBLE = '''
import time, pytest, xcs_core as xcs

@xcs.op
def ask(model, q):
    time.sleep(0.003)
    return f"{model}:{q}"

@xcs.op
def judge(answers):
    return max(answers)

@pytest.mark.xcs_parallel
def test_ensemble():
    assert judge([ask(m, "why?") for m in "abcd"]) == "d:why?"
'''


@pytest.fixture
def ensemble(pytester, monkeypatch):
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    pytester.makepyfile(test_ens=ENSEMBLE)
    return pytester


def test_markdown_summary_to_a_path_and_to_the_step_summary(ensemble, monkeypatch):
    step = ensemble.path / "step.md"
    step.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step))
    result = ensemble.runpytest("--xcs-markdown", "out/xcs.md", "--xcs-save-baseline", "main")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["xcs: wrote the Markdown summary to out/xcs.md",
                                 "xcs: wrote the Markdown summary to step.md"])
    text = (ensemble.path / "out/xcs.md").read_text()
    assert text.splitlines()[:4] == [
        "## xcs parallelism", "",
        "| test | calls | width | critical path | parallelism | predicted |",
        "|---|---|---|---|---|---|"]
    assert text.splitlines()[4].startswith("| `test_ens.py::test_ensemble` | 5 | 4 | 2 / ")
    # GitHub's file is appended to, never replaced
    assert step.read_text().startswith("earlier step\n## xcs parallelism\n")


def test_markdown_summary_carries_the_verdict_and_regressions(ensemble):
    ensemble.runpytest("--xcs-save-baseline", "main")
    path = ensemble.path / ".xcs/main.json"
    doc = json.loads(path.read_text())
    doc["tests"]["test_ens.py::test_ensemble"]["metrics"]["parallelism"] = 9.0
    path.write_text(json.dumps(doc))
    result = ensemble.runpytest("--xcs-compare", "main", "--xcs-markdown", "xcs.md")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    text = (ensemble.path / "xcs.md").read_text()
    assert "### Regressions" in text
    assert "| `test_ens.py::test_ensemble` | parallelism | 9 | 2.5 | -72.2% | -10% |" in text
    assert (":x: compared 1 test(s) with baseline 'main' (.xcs/main.json) on "
            "parallelism:10%: FAILED, 1 regression") in text


def test_markdown_summary_only_when_asked_or_on_github(ensemble):
    ensemble.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)
    assert not list(ensemble.path.rglob("*.md"))


def test_markdown_path_that_is_a_folder_is_a_usage_error(ensemble):
    (ensemble.path / "folder").mkdir()
    result = ensemble.runpytest("--xcs-markdown", "folder")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--xcs-markdown" in result.stderr.str() and "is a folder; give a file path such as " \
        "xcs.md" in result.stderr.str()
