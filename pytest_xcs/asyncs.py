"""Async marked tests: their real body, run on the event loop their plugin gives them.

pytest-asyncio (strict and auto mode) replaces the item's ``obj`` with a sync
wrapper while the test runs (``runner.run(test(...))``), and anyio runs a
coroutine test from its own ``pytest_pyfunc_call``.  Tracing or jitting either
of those would see one opaque call, so the plugin takes the test's coroutine
function and runs what it makes of it (the traced body, the plain body, the
jitted body) on the loop the test's plugin would have used, on this thread:

* pytest-asyncio: the test's ``asyncio.Runner`` (the runner fixture of its loop
  scope), each run in a copy of the test's context, as pytest-asyncio runs it;
* anyio (``@pytest.mark.anyio``, asyncio backend): ``anyio.pytest_plugin.get_runner``.
  ``hold_anyio`` swaps the item's ``obj`` for a sync stand-in while the test runs,
  so anyio's call hook leaves the test to this plugin whichever hook runs first.

Neither pytest-asyncio nor anyio is imported here unless the test uses it.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import inspect
import sys
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

__all__ = ["AsyncTest", "async_test", "hold_anyio"]

#: The coroutine function anyio would have run (set by ``hold_anyio`` while the test runs).
ANYIO_BODY = pytest.StashKey[Callable[..., Awaitable[Any]]]()


@dataclass(frozen=True)
class AsyncTest:
    """An async test's coroutine function and how to run a coroutine on its loop."""

    fn: Callable[..., Awaitable[Any]]
    run: Callable[[Callable[[], Awaitable[Any]]], None]  # run(make): make() awaited to the end

    def traceable(self, kwargs: dict[str, Any]) -> Callable[[], None]:
        """A sync callable that runs the compiled body (as ``xcs.trace`` compiles a
        function) on the test's loop; not a plain function, so the tracer calls it as is."""
        from xcs_core import twins

        body = twins.twin_of(getattr(self.fn, "__xcs_source__", self.fn))
        return functools.partial(self.run, functools.partial(body, **kwargs))


def async_test(item: pytest.Function) -> AsyncTest | None:
    """The async body of ``item`` and its loop; ``None`` when no async plugin runs it."""
    held = item.stash.get(ANYIO_BODY, None)
    if held is not None:
        return AsyncTest(held, _anyio_run(item))
    plugin = sys.modules.get("pytest_asyncio")
    if plugin is not None and plugin.is_async_test(item):
        body = getattr(item.obj, "__wrapped__", item.obj)  # under pytest-asyncio's wrapper
        if inspect.iscoroutinefunction(body):
            return AsyncTest(body, _asyncio_run(item))
    return None


def _asyncio_run(item: pytest.Function) -> Callable[[Callable[[], Awaitable[Any]]], None]:
    """Runs coroutines on the loop pytest-asyncio gave ``item``."""
    runner = None
    scope = getattr(item, "_loop_scope", None)  # pytest-asyncio 1.x: a runner per loop scope
    if scope is not None:
        with contextlib.suppress(pytest.FixtureLookupError):
            runner = item._request.getfixturevalue(f"_{scope}_scoped_runner")
    if runner is None:
        pytest.fail(f"{item.nodeid}: xcs cannot find the event loop pytest-asyncio runs this "
                    f"test on; xcs_parallel supports pytest-asyncio 1.0 and later",
                    pytrace=False)

    def run(make: Callable[[], Awaitable[Any]]) -> None:
        runner.run(make(), context=contextvars.copy_context())
    return run


def _anyio_run(item: pytest.Function) -> Callable[[Callable[[], Awaitable[Any]]], None]:
    """Runs coroutines on anyio's test runner for ``item``'s backend (asyncio only)."""
    from anyio.pytest_plugin import extract_backend_and_options, get_runner

    name, options = extract_backend_and_options(item.funcargs["anyio_backend"])
    if name != "asyncio":
        pytest.fail(f"{item.nodeid}: xcs_parallel runs async tests on asyncio, not on the "
                    f"anyio backend {name!r}; give this test an anyio_backend fixture that "
                    f"returns 'asyncio'", pytrace=False)

    def run(make: Callable[[], Awaitable[Any]]) -> None:
        with get_runner(name, options) as runner:
            runner.run_test(make, {})
    return run


@contextlib.contextmanager
def hold_anyio(item: pytest.Item) -> Iterator[None]:
    """While ``item`` runs, hide its coroutine function from anyio's call hook (see module doc)."""
    fn = getattr(item, "obj", None)
    if not (isinstance(item, pytest.Function) and "anyio_backend" in item.funcargs
            and inspect.iscoroutinefunction(fn)):
        yield
        return
    run = _anyio_run(item)

    def stand_in(**kwargs: Any) -> None:  # called only if no xcs hook takes the test
        run(functools.partial(fn, **kwargs))

    item.stash[ANYIO_BODY] = fn
    item.obj = stand_in
    try:
        yield
    finally:
        item.obj = fn
        del item.stash[ANYIO_BODY]
