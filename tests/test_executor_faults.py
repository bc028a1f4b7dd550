"""Faults around executors: dying workers, unguarded main scripts, nested pools, bad env."""

import os
import re
import subprocess
import sys
import textwrap

import pytest
from conftest import line_of

import xcs_core as xcs
from xcs_core.executors.processes import WorkerDied


@xcs.op
def die(code):
    os._exit(code)


@xcs.op
def square(x):
    return x * x


@xcs.jit(executor="processes", max_workers=2)
def crash_then_square(code):
    return [die(code), square(3)]


@xcs.jit(executor="processes", max_workers=2)
def squares(n):
    return [square(i) for i in range(n)]


def test_dead_worker_names_the_call_and_the_pool_heals():
    with pytest.raises(WorkerDied) as info:
        crash_then_square(3)
    message = str(info.value)
    # how it ended, as far as the pool's process objects tell (3.10 may report 255)
    assert re.search(r"processes executor died \((exit code \d+|killed by \w+)", message)
    site = f"test_executor_faults.py:{line_of(crash_then_square, 'return [die')}"
    assert "while die (called at " in message
    assert f"{site})" in message and "the pool was replaced" in message
    assert squares(4) == [0, 1, 4, 9]  # the next jitted call works on new workers
    with pytest.raises(WorkerDied, match=r"died \(.*(exit code|killed by)"):
        crash_then_square(5)
    assert squares(3) == [0, 1, 4]


@xcs.jit(executor="processes", max_workers=2)
def inner(x):
    return square(x) + square(x + 1)


@xcs.op
def calls_inner(x):
    return inner(x)


@xcs.jit(executor="processes", max_workers=2)
def outer():
    return [calls_inner(1), calls_inner(2)]


def test_nested_processes_jit_is_refused_at_once_with_the_fix():
    with pytest.raises(RuntimeError) as info:
        outer()
    message = str(info.value)
    assert "started another processes executor (a nested jit with executor='processes')" \
        in message
    assert "use executor='threads' for the inner jitted function" in message
    assert squares(2) == [0, 1]


SCRIPT = '''
import xcs_core as xcs

@xcs.op
def square(x):
    return x * x

@xcs.jit(executor="processes", max_workers=2)
def run(n):
    return [square(i) for i in range(n)]

'''


@pytest.mark.parametrize("guarded", [False, True])
def test_main_script_without_guard_gets_one_clear_error(tmp_path, guarded):
    body = 'if __name__ == "__main__":\n    print(run(4))\n' if guarded else "print(run(4))\n"
    script = tmp_path / "job.py"
    script.write_text(SCRIPT + body)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    if guarded:
        assert done.returncode == 0 and done.stdout.strip() == "[0, 1, 4, 9]", done.stderr
        return
    assert done.returncode == 1
    assert ("RuntimeError: xcs: the processes executor cannot run square (called at job.py:10)"
            ": the main script job.py has no `if __name__ == \"__main__\":` guard") in done.stderr
    for noise in ("BrokenProcessPool", "forkserver", "leaked semaphore"):
        assert noise not in done.stderr


BAD_ENV_TESTS = '''
import pytest, xcs_core as xcs

@xcs.op
def one(i):
    return i

def test_unmarked():
    assert one(1) == 1

@pytest.mark.xcs_parallel
def test_marked():
    assert [one(i) for i in range(3)] == [0, 1, 2]
'''


def test_bad_max_workers_variable_does_not_stop_the_plugin(pytester, monkeypatch):
    monkeypatch.setenv("XCS_MAX_WORKERS", "abc")
    pytester.makepyfile(test_env=BAD_ENV_TESTS)
    plain = pytester.runpytest_subprocess("--xcs-report")
    plain.assert_outcomes(passed=2)  # the variable is not needed: nothing breaks
    timed = pytester.runpytest_subprocess("--xcs-ab", "--xcs-rounds", "1")
    timed.assert_outcomes(passed=1, failed=1)  # A/B needs the thread pool: it says why
    timed.stdout.fnmatch_lines([
        "*environment variable XCS_MAX_WORKERS='abc' must be a positive integer*set it to "
        "e.g. 64, or unset it for the default 128*"])
    code = textwrap.dedent('''
        import pytest_xcs.plugin, xcs_core as xcs
        print(xcs.jit(lambda: 1, max_workers=4)())
    ''')
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "XCS_MAX_WORKERS": "abc"}, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "1", done.stderr
