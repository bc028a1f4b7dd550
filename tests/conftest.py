"""Shared helpers for the xcs test suite."""

from __future__ import annotations

import inspect

import pytest


def line_of(fn, text: str) -> int:
    """The absolute line number in ``fn``'s file of the first source line containing ``text``."""
    lines, start = inspect.getsourcelines(fn)
    for offset, line in enumerate(lines):
        if text in line:
            return start + offset
    raise AssertionError(f"{text!r} not found in {fn.__qualname__}")


@pytest.fixture
def pytester(pytester):
    """pytest-asyncio 1.x warns in every pytest run that does not set its fixture loop
    scope: a pytester project gets it from a setup.cfg, the ini file pytest reads last,
    so a project's own ini file (makeini, makepyprojecttoml) still wins."""
    pytester.makefile(".cfg",
                      setup="[tool:pytest]\nasyncio_default_fixture_loop_scope = function\n")
    return pytester
