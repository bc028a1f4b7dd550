"""Differential test: generated orchestration programs give the same observable behaviour
plainly and under ``@xcs.jit``.

Each program (see ``tests/differential/generator.py``) is written to a real ``.py`` file,
imported, run as plain Python and jitted, and compared: return value and the types inside it,
exception type and message, what the program logged (which ``except`` caught what), effect
order, the arguments every leaf call saw, how often each leaf ran, the final state of the
program's arguments and of the globals it touches, that no xcs stand-in escapes, and that
none of the program's own code runs as plain Python (an ``XcsWarning`` that xcs could not
compile it).  Runs happen in a child process with a per-run timeout (``XCS_DIFF_TIMEOUT``,
seconds), so a hang is a failure, not a stuck suite.

    XCS_DIFF_PROGRAMS=3000 python -m pytest tests/test_differential.py -q -x
    XCS_DIFF_SEED=5000 ...                     # a different block of seeds
    XCS_DIFF_PENDING=1 ...                     # also the templates of known differences
    python -m tests.differential --programs 1000 --shrink     # grouped census

A failure prints the program source (after the fixed prelude in
``tests/differential/prelude.py``) and the first difference; ``generate(seed)`` rebuilds it.
"""

from __future__ import annotations

import os

import pytest

from tests.differential import harness
from tests.differential.generator import TEMPLATE_NAMES, Program, Stmt, generate
from tests.differential.worker import Runner

PROGRAMS = int(os.environ.get("XCS_DIFF_PROGRAMS", "150"))
START = int(os.environ.get("XCS_DIFF_SEED", "0"))
PER_TEMPLATE = int(os.environ.get("XCS_DIFF_PER_TEMPLATE", "2"))


@pytest.fixture(scope="module")
def runner():
    r = Runner()
    yield r
    r.close()


def _check(runner, prog):
    report = runner.check(prog)
    assert report.diff is None, report.explain()


@pytest.mark.parametrize("seed", range(START, START + PROGRAMS))
def test_random_program_matches_plain_python(runner, seed):
    _check(runner, generate(seed))


@pytest.mark.parametrize("template", TEMPLATE_NAMES)
@pytest.mark.parametrize("k", range(PER_TEMPLATE))
def test_every_construct_matches_plain_python(runner, template, k):
    """Each template appears in at least ``PER_TEMPLATE`` programs per run."""
    seed = 1_000_000 + 1000 * TEMPLATE_NAMES.index(template) + k + START
    prog = generate(seed, is_async=template.startswith("a_") or None, only=template)
    _check(runner, prog)


# -- the judge itself can fail ------------------------------------------------------------
def test_generation_is_deterministic_and_covers_every_template():
    assert generate(7).source() == generate(7).source()
    seen = set()
    for seed in range(400):
        prog = generate(seed)
        seen.update(s.template for s in prog.stmts)
        compile(prog.source(), f"<seed {seed}>", "exec")
        compile(prog.source(jit=False), f"<seed {seed}>", "exec")
    forced = {name: generate(1, only=name) for name in TEMPLATE_NAMES}
    assert all(len(p.stmts) >= 1 for p in forced.values())
    assert len(seen) > 60  # template variants seen in plain random generation


def test_an_unknown_template_is_an_error_not_a_census_of_nothing(capsys):
    """``--only`` with a name no template has would force nothing into the programs."""
    from tests.differential.__main__ import main

    with pytest.raises(ValueError, match="no such template"):
        generate(1, only="a_no_such_template")
    with pytest.raises(SystemExit) as stopped:
        main(["--programs", "1", "--only", "a_no_such_template"])
    assert stopped.value.code == 2
    assert "--only 'a_no_such_template': no such template" in capsys.readouterr().err


def test_canon_tells_types_apart_deeply():
    c = harness.canon
    assert c([1]) != c([True]) != c([1.0])
    assert c((1, "a")) != c([1, "a"])
    assert c({"k": [1]}) != c({"k": (1,)})
    assert c({"a": 1, "b": 2}) != c({"b": 2, "a": 1})  # insertion order is observable
    assert c({1, 2}) == c({2, 1})


def test_leaks_finds_stand_ins_in_keys_attributes_and_nesting():
    class Traced:  # same name as the xcs stand-in
        pass

    class Box:
        pass

    box = Box()
    box.inner = [{"x": Traced()}]
    assert harness.leaks({"r": box}) == ["['r'].inner[0]['x']"]
    assert harness.leaks({Traced(): 1}) == ["<key>"]
    assert harness.leaks({"a": [1, {"b": (2, "c")}]}) == []


def _prog(*lines: str) -> Program:
    stmt = Stmt("custom", tuple(lines), (("out", "text"),))
    return Program(0, False, (stmt,), ("out",), generate(0).args)


def test_compare_reports_each_kind_of_difference():
    base = harness.run_once(_prog("out = llm(q)"), jit=False)
    cases = {
        "result": _prog("out = llm(q) + '!'"),
        "calls": _prog("out = llm(q)", "score(out)"),
        "effects": _prog("out = llm(q)", "emit('x', out)"),
        "log": _prog("out = llm(q)", "LOG.append(1)"),
        "state": _prog("out = llm(q)", "models.append('m9')"),
        "error": _prog("out = llm(q)", "raise ValueError(out)"),
    }
    for aspect, prog in cases.items():
        diff = harness.compare(base, harness.run_once(prog, jit=False))
        assert diff is not None and diff.aspect == aspect, (aspect, diff)
    assert harness.compare(base, harness.run_once(_prog("out = llm(q)"), jit=False)) is None


def test_compare_reports_user_code_that_runs_as_plain_python():
    """Code xcs cannot compile gives the same results, one leaf call at a time: its warning
    is a difference of its own (a self-recursive helper once ran this way unnoticed)."""
    body = """
ask, rate = (lambda x: llm(x)), (lambda x: score(x))

@xcs.jit
def program(q, n, models, history, cfg):
    out = ask(q)
    return {"out": out}
"""
    prog = Program.from_body(body, generate(0).args)
    diff = harness.compare(harness.run_once(prog, jit=False), harness.run_once(prog, jit=True))
    assert diff is not None and diff.aspect == "fallback", diff
    assert diff.key().startswith("runs as plain Python: <lambda>"), diff.key()


def test_a_hang_is_reported_not_waited_for():
    prog = _prog("out = llm(q)", "import threading", "threading.Event().wait()")
    hung = harness.run_once(prog, jit=False, timeout=0.5)
    assert hung.hang
    r = Runner()
    try:
        report = r.check(_prog("out = llm(q)"), timeout=5)
        assert report.diff is None, report.explain()
    finally:
        r.close()
