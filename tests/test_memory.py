"""Intermediate values are freed at their last use, as in plain Python."""

import gc
import time
import tracemalloc

import xcs_core as xcs
from xcs_core import runtime
from xcs_core.nodes import Node

SIZE = 5_000_000


@xcs.op
def first():
    return b"y" * SIZE


@xcs.op
def grow(x):
    time.sleep(0.002)
    return x + b"x" * SIZE


def chain(steps=8):
    x = first()
    for _ in range(steps):
        x = grow(x)[:SIZE]
    return len(x)


def _peak(fn):
    gc.collect()
    tracemalloc.start()
    try:
        assert fn() == SIZE
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_jitted_chain_peaks_no_higher_than_plain_python():
    plain = _peak(chain)
    jitted = _peak(xcs.jit(chain))
    assert jitted <= 1.2 * plain, (plain, jitted)


def test_finished_nodes_do_not_keep_their_ancestors_alive():
    @xcs.op
    def step(x):
        time.sleep(0.001)
        return x + 1

    @xcs.op(effect=True)  # a leaf body is plain Python: it may look at every object
    def live_nodes(mine):
        return sum(1 for o in gc.get_objects()
                   if type(o) is Node and o.owner is mine and o.value is not None)

    @xcs.jit
    def run():
        x = step(0)
        for _ in range(30):
            x = step(x) * 1
        int(x)
        return live_nodes(runtime.current())

    assert run() <= 2
