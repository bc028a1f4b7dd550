"""Shared helpers for the xcs test suite."""

from __future__ import annotations

import inspect
import os

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


@pytest.fixture(scope="module")
def small_dask_cluster():
    """A module's Dask executor runs on a LocalCluster of 2 worker processes of 4 threads,
    shut down when the module's tests are done."""
    os.environ.setdefault("XCS_DASK_WORKERS", "2")
    os.environ.setdefault("XCS_DASK_THREADS", "4")
    yield
    from xcs_core.executors import _cache

    executor = _cache.pop(("dask", 0), None)
    if executor is not None:
        executor.shutdown()
