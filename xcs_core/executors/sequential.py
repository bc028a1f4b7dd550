"""The sequential executor: jitted code runs as plain Python, untraced.

This is the exact baseline that parallel runs are compared against (the
pytest plugin's A side): no stand-ins, no scheduler, no overhead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from xcs_core.nodes import direct_call


class SequentialExecutor:
    """Marks plain execution; ``submit`` exists only to satisfy the protocol."""

    name = "sequential"
    parallel = False

    def __init__(self, max_workers: int = 0) -> None:
        self.max_workers = max_workers or 1

    def submit(self, fn: Callable[[], None]) -> Any:
        raise RuntimeError("the sequential executor never schedules operations")

    def call(self, fn: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
        return direct_call(fn, args, kwargs)

    check = None  # every call can run here (see ``Executor.check``)

    def shutdown(self) -> None:
        return None
