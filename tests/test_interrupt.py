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
