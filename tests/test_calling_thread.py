"""The jitted code's thread runs a call it waits for that no worker has started yet.

The executor here holds every call it is handed until it is released, so when the
jitted code waits for its calls none of them has started: which call runs where is
then decided by the scheduler alone, never by how fast the machine's threads wake.
"""

import threading
import time

import pytest

import xcs_core as xcs
from xcs_core import executors
from xcs_core.executors.threads import ThreadExecutor


class HeldExecutor(ThreadExecutor):
    """Threads that start the calls they are handed only once ``release()`` is called."""

    name = "held"

    def __init__(self, max_workers: int = 0) -> None:
        super().__init__(max_workers)
        self.released = threading.Event()
        self.held = []

    def submit(self, fn):
        if self.released.is_set():
            super().submit(fn)
        else:
            self.held.append(fn)

    def release(self):
        self.released.set()
        held, self.held = self.held, []
        for fn in held:
            super().submit(fn)

    def hold(self):
        """Hold calls from now on, until released (by a call, or in 10 s at the latest, so
        a scheduler that never runs a held call itself fails the test, not the suite)."""
        self.released.clear()
        watchdog = threading.Timer(10, self.release)
        watchdog.daemon = True
        watchdog.start()
        return watchdog


_executors = {}


def _held(max_workers):
    return _executors.setdefault(max_workers, HeldExecutor(max_workers))


ran_on = {}


@pytest.fixture(autouse=True)
def held_executor(monkeypatch):
    """``executor="held"`` while a test of this module runs (the registry lists it)."""
    monkeypatch.setitem(executors._factories, "held", _held)


@xcs.op
def where(i, release=True, interrupt=False):
    time.sleep(0.001)  # never cheap enough to run inline
    ran_on[i] = threading.get_ident()
    if interrupt:
        raise KeyboardInterrupt  # as Ctrl-C arriving while the call runs
    if release:
        _held(4).release()
    return i * 10


def fan_out():
    return sum([where(i) for i in range(4)])


def test_the_waiting_thread_runs_the_last_call_no_worker_started():
    ran_on.clear()
    watchdog = _held(4).hold()
    assert xcs.jit(fan_out, executor="held", max_workers=4)() == 60
    watchdog.cancel()
    me = threading.get_ident()
    assert ran_on[3] == me  # the call it waited for, run here, not handed to a thread
    assert all(ran_on[i] != me for i in range(3))  # the others ran on the pool's threads


def fan_out_interrupted():
    return sum([where(i, release=False, interrupt=i == 3) for i in range(4)])


def test_ctrl_c_in_a_call_run_by_the_waiting_thread_stops_the_jitted_call():
    ran_on.clear()
    executor = _held(4)
    watchdog = executor.hold()
    try:
        with pytest.raises(KeyboardInterrupt):
            xcs.jit(fan_out_interrupted, executor="held", max_workers=4)()
        assert list(ran_on) == [3]  # it raised at once: the held calls never started
    finally:
        watchdog.cancel()
        executor.release()
    assert xcs.jit(fan_out, executor="held", max_workers=4)() == 60  # the next call works
