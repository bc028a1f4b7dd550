"""Shared helpers for the xcs test suite."""

from __future__ import annotations

import inspect


def line_of(fn, text: str) -> int:
    """The absolute line number in ``fn``'s file of the first source line containing ``text``."""
    lines, start = inspect.getsourcelines(fn)
    for offset, line in enumerate(lines):
        if text in line:
            return start + offset
    raise AssertionError(f"{text!r} not found in {fn.__qualname__}")
