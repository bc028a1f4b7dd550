"""Output formats CI tools read: Markdown summary, Chrome trace events, SVG, speedscope."""

import json

import pytest

from tests import projects

ENSEMBLE = projects.ensemble("abcd", 0.003)


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


# -- timeline: Chrome trace events and SVG ---------------------------------------------
def _run_nodes():
    """A recorded run: two asks on two workers, glue on one answer, a judge reading both."""
    from xcs_core.ir import OpKind
    from xcs_core.nodes import DONE, Node

    def node(seq, kind, target, inputs=(), start=0.0, end=0.0, worker=1):
        n = Node(seq, kind, target, inputs=list(inputs), site=("/src/app.py", 10 + seq))
        n.state, n.start, n.end, n.worker = DONE, start, end, worker
        return n

    a = node(0, OpKind.CALL, "ask", start=1.000, end=1.020, worker=11)
    b = node(1, OpKind.CALL, "ask", start=1.001, end=1.031, worker=12)
    glue = node(2, OpKind.GLUE, "upper", [b])
    judge = node(3, OpKind.CALL, "judge_answers_carefully", [a, glue], 1.032, 1.042, 12)
    tiny = node(4, OpKind.CALL, "log", [], 1.0421, 1.04211, 12)
    return [a, b, glue, judge, tiny]


def test_chrome_trace_events_calls_lanes_critical_path_and_data_flows():
    from pytest_xcs.chrome_trace import render

    doc = render(_run_nodes(), "t.py::t")
    events = doc["traceEvents"]
    calls = [e for e in events if e["ph"] == "X"]
    assert [(e["name"], e["tid"], e["ts"], e["dur"]) for e in calls] == [
        ("ask", 1, 0.0, 20000.0), ("ask", 2, 1000.0, 30000.0),
        ("judge_answers_carefully", 2, 32000.0, 10000.0), ("log", 2, 42100.0, 10.0)]
    assert [e["args"]["critical_path"] for e in calls] == [False, True, True, False]
    assert calls[0]["args"]["site"].endswith("app.py:10")
    names = {e["tid"]: e["args"]["name"] for e in events if e["name"] == "thread_name"}
    assert names == {1: "worker 1", 2: "worker 2"}
    flows = [(e["ph"], e["tid"], e["ts"]) for e in events if e.get("cat") == "data"]
    # ask -> judge directly, and ask -> upper (glue) -> judge: both reach judge's start
    assert flows == [("s", 1, 19999.0), ("f", 2, 32000.0), ("s", 2, 30999.0), ("f", 2, 32000.0)]
    assert [e.get("bp") for e in events if e["ph"] == "f"] == ["e", "e"]
    assert doc["displayTimeUnit"] == "ms"


def test_svg_timeline_has_a_time_axis_labels_that_fit_and_tooltips_on_every_call():
    from pytest_xcs.timeline import render_svg, tick_step

    assert [tick_step(s) for s in (0.042, 0.1, 1.5, 3e-4)] == pytest.approx(
        [0.005, 0.01, 0.2, 5e-5])
    svg = render_svg(_run_nodes(), "t.py::t")
    assert [f"{t} ms</text>" in svg for t in (0, 5, 40)] == [True] * 3
    assert svg.count("<title>") == 4  # one per call
    assert "<title>log @ /src/app.py:14: 10 us</title>" in svg
    tiny_bar = svg.split("<title>log")[1].split("</g>")[0]
    assert "<text" not in tiny_bar  # too short for a label: the tooltip names it
    assert ">judge_answers_~</text>" in svg or ">judge_answers_carefully</text>" in svg


def test_ab_run_writes_trace_events_next_to_the_svg(ensemble):
    result = ensemble.runpytest("--xcs-ab", "--xcs-rounds", "1")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([
        "  timeline: .xcs/artifacts/test_ens.py_test_ensemble.timeline.svg",
        "  trace: .xcs/artifacts/test_ens.py_test_ensemble.trace.json"])
    doc = json.loads((ensemble.path / ".xcs/artifacts/test_ens.py_test_ensemble.trace.json")
                     .read_text())
    calls = [e for e in doc["traceEvents"] if e["ph"] == "X"]
    assert sorted(e["name"] for e in calls) == ["ask"] * 4 + ["judge"]
    assert all(e["args"]["site"].startswith("test_ens.py:") for e in calls)
    assert [e["args"]["critical_path"] for e in calls if e["name"] == "judge"] == [True]
    assert sum(e["ph"] == "f" for e in doc["traceEvents"]) == 4  # four answers reach judge


def test_profile_writes_speedscope_beside_the_html(ensemble):
    result = ensemble.runpytest("--xcs-profile")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([
        "  speedscope sequential: .xcs/artifacts/test_ens.py_test_ensemble.sequential"
        ".speedscope.json", "*speedscope parallel: *parallel.speedscope.json"])
    path = ensemble.path / ".xcs/artifacts/test_ens.py_test_ensemble.parallel.speedscope.json"
    assert "speedscope" in json.loads(path.read_text())["$schema"]
