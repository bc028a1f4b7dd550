"""The plugin is loaded by every pytest run of a project that installs the package:
without a marked test or an xcs option it must not import the engine (``xcs_core``), nor
its own modules that only marked tests, comparisons or output files need."""

import subprocess
import sys

REPORT_MODULES = '''
import sys


def pytest_terminal_summary(terminalreporter):
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("xcs_core", "pytest_xcs"))
    terminalreporter.write_line(f"xcs modules: {' '.join(loaded)}")
'''

#: Modules of the plugin imported only when a marked test runs or a result is handled.
DEFERRED = {"pytest_xcs.advice", "pytest_xcs.asyncs", "pytest_xcs.baseline", "pytest_xcs.gate",
            "pytest_xcs.results", "pytest_xcs.runner", "pytest_xcs.stats", "pytest_xcs.tables"}


def _loaded(result) -> set[str]:
    line = next(x for x in result.outlines if x.startswith("xcs modules:"))
    return set(line.split(":", 1)[1].split())


def test_a_run_without_marked_tests_or_options_does_not_import_the_engine(pytester):
    pytester.makeconftest(REPORT_MODULES)
    pytester.makepyfile(test_plain="def test_one():\n    assert 1 + 1 == 2\n")
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=1)
    loaded = _loaded(result)
    assert "pytest_xcs.plugin" in loaded  # the plugin was active
    assert not {m for m in loaded if m.startswith("xcs_core")}, loaded
    assert not loaded & DEFERRED, loaded


def test_a_failing_comparison_in_an_unmarked_test_does_not_import_the_engine(pytester):
    pytester.makeconftest(REPORT_MODULES)
    pytester.makepyfile(test_plain="def test_one():\n    assert [1, 2] == [1, 3]\n")
    result = pytester.runpytest_subprocess("--xcs-report")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*At index 1 diff: 2 != 3*"])
    loaded = _loaded(result)
    assert not {m for m in loaded if m.startswith("xcs_core")}
    assert not loaded & DEFERRED, loaded


def test_a_marked_test_imports_the_engine_when_it_runs(pytester):
    pytester.makeconftest(REPORT_MODULES)
    pytester.makepyfile(test_marked='''
import pytest


@pytest.mark.xcs_parallel
def test_one():
    assert 1 + 1 == 2
''')
    result = pytester.runpytest_subprocess("--xcs-report")
    result.assert_outcomes(passed=1)
    assert {"xcs_core", "pytest_xcs.runner"} <= _loaded(result)
    result.stdout.fnmatch_lines(["*xcs parallelism*"])


def test_importing_the_entry_point_does_not_import_the_engine():
    code = ("import sys, pytest_xcs.plugin; "
            "print(' '.join(m for m in sys.modules if m.startswith(('xcs_core', 'pytest_xcs'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    loaded = set(out.split())
    assert not {m for m in loaded if m.startswith("xcs_core")}, loaded
    assert not loaded & DEFERRED, loaded
