"""Hook specifications that pytest-xcs adds (registered in ``pytest_addhooks``)."""

from __future__ import annotations

import pytest


@pytest.hookspec()
def pytest_xcs_result(item: pytest.Item, result: object) -> None:
    """Called with each marked test's ``pytest_xcs.results.TestResult``.

    Implement it to forward the numbers elsewhere or to add to ``result.note``.
    """
