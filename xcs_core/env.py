"""Settings from ``XCS_*`` environment variables, read where they are first needed.

Never at import: a bad value must not stop ``import xcs_core`` or the pytest plugin from
loading.  It is an error naming the variable, what it sets, what it must be and the fix,
raised by the code that needs the value.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar

__all__ = ["duration", "positive_int"]

T = TypeVar("T", int, float)


def _read(name: str, default: T, convert: Callable[[str], T], valid: Callable[[T], bool],
          must: str, what: str, example: T) -> T:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = convert(raw)
    except ValueError:
        value = None
    if value is None or not valid(value):
        raise ValueError(f"environment variable {name}={raw!r} must be {must} ({what}); set it "
                         f"to e.g. {example}, or unset it for the default {default}")
    return value


def positive_int(name: str, default: int, what: str, example: int) -> int:
    """A positive integer setting (``default`` when the variable is unset or empty)."""
    return _read(name, default, int, lambda v: v >= 1, "a positive integer", what, example)


def duration(name: str, default: float, what: str) -> float:
    """A duration in seconds, zero or more (``default`` when unset or empty)."""
    return _read(name, default, float, lambda v: v >= 0, "a duration in seconds", what,
                 default)
