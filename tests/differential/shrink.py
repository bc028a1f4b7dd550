"""Reduce a failing program to the statements and returned variables that still fail."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tests.differential.generator import Program


def shrink(prog: Program, key: str, check: Any, tries: int = 3, budget: int = 60) -> Program:
    """Greedily drop statements, then returned variables, while ``check`` (a ``Runner.check``
    or ``harness.check``) still reports a difference with the same ``key``.  Timing-dependent
    differences are retried ``tries`` times per candidate; ``budget`` caps the checks."""
    spent = 0

    def still_fails(candidate: Program) -> bool:
        nonlocal spent
        spent += 1
        report = check(candidate, tries=tries)
        return report.diff is not None and report.diff.key() == key

    changed = True
    while changed and spent < budget:
        changed = False
        for i in reversed(range(len(prog.stmts))):
            if spent >= budget:
                break
            candidate = prog.without(i)
            if candidate.stmts and still_fails(candidate):
                prog, changed = candidate, True
    for name in list(prog.returns):
        if spent >= budget:
            break
        candidate = replace(prog, returns=tuple(v for v in prog.returns if v != name))
        if still_fails(candidate):
            prog = candidate
    return prog
