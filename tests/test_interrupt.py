"""Ctrl-C stops a jitted call at once, as it stops plain Python."""

import signal
import threading
import time

import pytest

import xcs_core as xcs

release = threading.Event()
started = threading.Semaphore(0)
finished = []


@xcs.op
def long_call(i):
    started.release()
    release.wait(30)
    finished.append(i)
    return i


@xcs.jit
def fan_out():
    results = [long_call(i) for i in range(4)]
    return sum(results)


def _interrupt_when_running(n):
    for _ in range(n):
        started.acquire(timeout=10)
    time.sleep(0.05)  # let the main thread reach its wait
    signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)


def test_ctrl_c_while_waiting_raises_without_waiting_for_running_calls():
    release.clear()
    finished.clear()
    sender = threading.Thread(target=_interrupt_when_running, args=(4,))
    sender.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            fan_out()
        assert finished == []  # the calls were still running when it returned
    finally:
        release.set()
        sender.join()
    assert fan_out() == 6  # the next call works


SCRIPT = '''
import sys, time
import xcs_core as xcs

log = open(sys.argv[1], "a", buffering=1)


@xcs.op
def nap(i):
    log.write(f"start {i}\\n")
    time.sleep(30)
    return i


@xcs.op(effect=True)
def record(total):
    log.write("effect\\n")


@xcs.jit(max_workers=2)
def run():
    naps = [nap(i) for i in range(6)]
    record(sum(naps))


if __name__ == "__main__":
    try:
        run()
    except KeyboardInterrupt:
        log.write("interrupted\\n")
        raise
'''


def test_sigint_to_a_process_stops_it_although_its_calls_still_run(tmp_path):
    import os
    import subprocess
    import sys

    script, log = tmp_path / "interrupted.py", tmp_path / "log.txt"
    script.write_text(SCRIPT)
    log.write_text("")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, str(script), str(log)], env=env,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while log.read_text().count("start") < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert log.read_text().count("start") == 2, log.read_text()
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)  # the naps take 30 s: the process did not wait for them
    finally:
        proc.kill()
        stderr = proc.stderr.read().decode()
    lines = log.read_text().splitlines()
    assert proc.returncode != 0 and "KeyboardInterrupt" in stderr
    assert "interrupted" in lines
    assert sorted(lines) == ["interrupted", "start 0", "start 1"]  # no queued call, no effect
