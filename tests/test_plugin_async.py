"""Async tests marked ``xcs_parallel``: traced and A/B-run on their real body under
pytest-asyncio (strict and auto mode) and anyio, through real pytest sessions (pytester)."""

import json

import pytest

pytest.importorskip("pytest_asyncio")
pytest.importorskip("anyio")

ROUNDS = 2
#: The body's runs: traced (main thread), a warm-up each way, then A B per round;
#: the jitted (B) body runs on a worker thread.
ON_MAIN = [True, True, False] + [True, False] * ROUNDS

BODY = '''
import asyncio
import threading

import pytest

import xcs_core as xcs

RUNS = []


@xcs.op
async def fetch(i):
    await asyncio.sleep(0.005)
    return i * 2


{marks}
async def test_fanout({fixture}):
    values = [await fetch(i) for i in range(4)]
    total = sum(values)
    assert total == 12
    RUNS.append((threading.current_thread() is threading.main_thread(), total))


{marks}
async def test_only_on_the_main_thread({fixture}):
    await fetch(1)
    assert threading.current_thread() is threading.main_thread()


def test_zz_every_run_checked():
    assert [on_main for on_main, _ in RUNS] == {on_main}
    assert [xcs.value(total) for _, total in RUNS] == [12] * len(RUNS)
'''

ANYIO_FIXTURE = '''

@pytest.fixture
def anyio_backend():
    return "asyncio"
'''

CASES = {
    "pytest-asyncio strict": ("strict", "@pytest.mark.asyncio\n@pytest.mark.xcs_parallel", ""),
    "pytest-asyncio auto": ("auto", "@pytest.mark.xcs_parallel", ""),
    "anyio": ("strict", "@pytest.mark.anyio\n@pytest.mark.xcs_parallel", "anyio_backend"),
}


def _ini(pytester, mode="strict"):
    """pytest-asyncio 1.x warns unless the fixture loop scope is set."""
    pytester.makeini(f"[pytest]\nasyncio_mode = {mode}\n"
                     "asyncio_default_fixture_loop_scope = function\n")


def _project(pytester, case):
    mode, marks, fixture = CASES[case]
    source = BODY.format(marks=marks, fixture=fixture, on_main=ON_MAIN)
    if fixture:
        source += ANYIO_FIXTURE
    _ini(pytester, mode)
    pytester.makepyfile(test_async=source)


@pytest.mark.parametrize("case", list(CASES))
def test_async_body_is_traced_and_ab_run(pytester, case):
    _project(pytester, case)
    result = pytester.runpytest("--xcs-ab", "--xcs-rounds", str(ROUNDS), "--xcs-json", "x.json",
                                "-W", "error::pytest.PytestDeprecationWarning")
    result.assert_outcomes(passed=2, failed=1)
    nodeid = "test_async.py::test_fanout"
    summary = json.loads((pytester.path / "x.json").read_text())["tests"][nodeid]["summary"]
    # the four awaited calls are independent: one is on the critical path
    assert (summary["calls"], summary["max_width"], summary["critical_path_calls"],
            summary["parallelism"]) == (4, 4, 1, 4.0)
    result.stdout.fnmatch_lines(["test_async.py::test_fanout  *4  *4  *1 / * 4.00  *x"])
    # the assertions run on the jitted side too: this one holds only sequentially
    result.stdout.fnmatch_lines([
        "E *ParallelizationFailure: passes sequentially but fails under xcs.jit "
        "with the 'threads' executor: AssertionError*"])
    assert "warning" not in result.stdout.lines[-1]


@pytest.mark.parametrize("case", list(CASES))
def test_async_body_failing_sequentially_fails_as_usual(pytester, case):
    mode, marks, fixture = CASES[case]
    _ini(pytester, mode)
    pytester.makepyfile(test_fail=f'''
import pytest
{ANYIO_FIXTURE if fixture else ""}

{marks}
async def test_wrong({fixture}):
    assert 1 + 1 == 3, "sequential"
''')
    result = pytester.runpytest("--xcs-ab")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["E * AssertionError: sequential"])
    assert "ParallelizationFailure" not in result.stdout.str()


def test_anyio_backend_other_than_asyncio_is_a_clear_failure(pytester):
    _ini(pytester)
    pytester.makepyfile(test_trio='''
import pytest


@pytest.fixture
def anyio_backend():
    return "trio"


@pytest.mark.anyio
@pytest.mark.xcs_parallel
async def test_on_trio(anyio_backend):
    pass
''')
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*test_trio.py::test_on_trio: xcs_parallel runs async tests on asyncio, not on the "
        "anyio backend 'trio'; give this test an anyio_backend fixture that returns 'asyncio'"])
