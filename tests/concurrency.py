"""Proving overlap structurally: how many calls were in flight at once.

``InFlight`` counts calls between ``enter()`` and ``leave()``; ``peak`` is the most
that were in flight together.  ``expect(n)`` makes each call wait (up to 2 s) until
``n`` calls are in flight, so a test that expects overlap does not depend on how
long a call sleeps or how loaded the machine is; a sequential run still shows a
peak of 1 (each call waits out the 2 s alone, and the test fails on the peak).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


class InFlight:
    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.now = self.peak = 0
        self.expected = 1

    def expect(self, n: int) -> None:
        """Reset the peak; calls wait for ``n`` in flight (1: no waiting)."""
        with self.cond:
            self.peak, self.expected = 0, n

    def enter(self, wait: bool = True) -> None:
        """One more call in flight (an async call passes ``wait=False``: it must not
        block its event loop)."""
        with self.cond:
            self.now += 1
            self.peak = max(self.peak, self.now)
            self.cond.notify_all()
            if wait:
                self.cond.wait_for(lambda: self.peak >= self.expected, timeout=2)

    def leave(self) -> None:
        with self.cond:
            self.now -= 1

    def peak_of(self, expected: int, fn: Callable[..., Any], *args: Any) -> tuple[Any, int]:
        """``fn(*args)`` and the peak it reached, expecting ``expected`` calls at once."""
        self.expect(expected)
        try:
            return fn(*args), self.peak
        finally:
            self.expect(1)
