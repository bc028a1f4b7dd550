"""pytest wiring for xcs (registered through the ``pytest11`` entry point)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "xcs_parallel: trace this test with xcs and report its parallelism")
