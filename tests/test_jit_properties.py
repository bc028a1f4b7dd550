"""Property: for any program of leaf calls, parallel execution equals sequential execution.

Programs are generated with random data dependencies, glue on results, effects, branches on
results, failures and try/except blocks; both sides must give the same results, the same
exception and the same effect order.
"""

import time
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import xcs_core as xcs


@dataclass(frozen=True)
class Step:
    kind: str  # call | effect | glue | branch | catch
    k: int
    inputs: tuple[int, ...]
    fail: bool
    delay: float


@xcs.op
def compute(k, fail, delay, *inputs):
    time.sleep(delay)
    if fail:
        raise ValueError(f"op {k} failed with inputs {inputs}")
    return (k * 31 + sum(inputs)) % 1000


@xcs.op(effect=True)
def emit(log, k, *inputs):
    log.append((k, inputs))
    return k


def interpret(steps, log):
    vals = [0]
    for s in steps:
        args = [vals[i % len(vals)] for i in s.inputs]
        if s.kind == "call":
            vals.append(compute(s.k, s.fail, s.delay, *args))
        elif s.kind == "effect":
            vals.append(emit(log, s.k, *args))
        elif s.kind == "glue":
            vals.append(args[0] * 3 + s.k if args else s.k)
        elif s.kind == "branch":
            if args and args[0] % 2 == 0:
                vals.append(compute(s.k, s.fail, s.delay, *args[1:]))
            else:
                emit(log, -s.k, *args[:1])
        else:
            try:
                vals.append(compute(s.k, True, s.delay, *args))
            except ValueError as exc:
                vals.append(len(str(exc)))
    return vals


jitted = xcs.jit(interpret)

steps = st.builds(
    Step,
    kind=st.sampled_from(["call", "call", "call", "effect", "glue", "branch", "catch"]),
    k=st.integers(0, 50),
    inputs=st.lists(st.integers(0, 30), max_size=3).map(tuple),
    fail=st.just(False),
    delay=st.sampled_from([0.0, 0.0005, 0.002]),
)
failing_steps = st.builds(Step, kind=st.just("call"), k=st.integers(0, 50),
                          inputs=st.lists(st.integers(0, 30), max_size=2).map(tuple),
                          fail=st.just(True), delay=st.sampled_from([0.0, 0.002]))
programs = st.lists(st.one_of(steps, steps, steps, failing_steps), min_size=1, max_size=14)


def outcome(executor, program, workers=None):
    log = []
    with xcs.execution(executor=executor, max_workers=workers):
        try:
            result, error = jitted(program, log), None
        except Exception as exc:  # noqa: BLE001 - compared below
            result, error = None, (type(exc).__name__, str(exc))
    return result, error, log


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(program=programs, workers=st.integers(1, 8))
def test_parallel_equals_sequential(program, workers):
    assert outcome("threads", program, workers) == outcome("sequential", program)
