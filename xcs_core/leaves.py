"""Leaf calls without editing the callee, and finding the calls that should be leaves.

Real code calls an LLM through an SDK (``client.complete(prompt)``), an HTTP
library or a database driver: functions nobody decorates with ``@xcs.op``.
Two things help here, both possible because the jitted code is compiled and
every call it makes passes through ``intrinsics.call``:

* ``Leaves`` (``xcs.jit(fn, leaves=[...])``): functions, bound methods, classes
  (any method of their instances) and module prefixes (``"httpx"``) whose calls,
  made from the jitted code, are leaf calls, exactly as if the callee had been
  wrapped with ``xcs.op``.
* ``Watch``: on the first run of a jitted function, each call its compiled code
  makes is timed by callee and call site.  When the run made no leaf call at
  all, one ``XcsWarning`` names the slowest calls and the one-line fix.
"""

from __future__ import annotations

import time
import types
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from xcs_core.errors import XcsWarning
from xcs_core.sites import format_site

__all__ = ["Leaves", "SlowCall", "Watch", "install"]

_make_op: Callable[[Callable[..., Any]], Any] | None = None  # xcs.op, bound by api


def install(make_op: Callable[[Callable[..., Any]], Any]) -> None:
    """Bind the function that turns a callable into a leaf op (``xcs.op``)."""
    global _make_op
    _make_op = make_op


class Leaves:
    """Which callees are leaf calls (see module doc); validated when constructed."""

    def __init__(self, specs: Iterable[Any], where: str = "jit(leaves=...)") -> None:
        self.specs: list[Any] = []
        self.functions: set[int] = set()
        self.keep: list[Any] = []
        self.classes: tuple[type, ...] = ()
        self.prefixes: tuple[str, ...] = ()
        if isinstance(specs, (str, bytes)) or not isinstance(specs, Iterable):
            specs = [specs]
        for i, spec in enumerate(specs):
            self._add(i, spec, where)
            self.specs.append(spec)
        self._ops: dict[int, Any] = {}

    def _add(self, i: int, spec: Any, where: str) -> None:
        if isinstance(spec, str) and spec and all(p.isidentifier() for p in spec.split(".")):
            self.prefixes += (spec,)
        elif isinstance(spec, type):
            self.classes += (spec,)
        elif isinstance(spec, types.MethodType):
            self.functions.add(id(spec.__func__))
            self.keep.append(spec.__func__)
        elif callable(spec) and not isinstance(spec, str):
            self.functions.add(id(spec))
            self.keep.append(spec)
        else:
            raise TypeError(
                f"xcs.{where}: item {i} is {spec!r} ({type(spec).__name__}); expected a "
                "function, a bound method, a class or a module name such as 'httpx'")

    def __bool__(self) -> bool:
        return bool(self.functions or self.classes or self.prefixes)

    def match(self, fn: Any) -> tuple[Any, Any] | None:
        """``(op, self)`` when a call of ``fn`` is a leaf call (``self`` is ``None`` for
        plain functions), else ``None``."""
        owner = None
        func = fn
        if isinstance(fn, types.MethodType):
            func, owner = fn.__func__, fn.__self__
        hit = id(func) in self.functions or (
            owner is not None and bool(self.classes) and isinstance(owner, self.classes)) or (
            bool(self.prefixes) and _in_module(_module_of(func, owner), self.prefixes))
        if not hit:
            return None
        op = self._ops.get(id(func))
        if op is None:
            op = self._ops[id(func)] = _make_op(func)
            self.keep.append(func)
        return op, owner


def _module_of(func: Any, owner: Any) -> str:
    module = getattr(func, "__module__", None)
    if module is None and owner is not None:
        module = type(owner).__module__
    return module or ""


def _in_module(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


@dataclass(frozen=True)
class SlowCall:
    """Time spent in one callee at one call site during a watched run."""

    callee: str
    site: str
    count: int
    seconds: float
    share: float  # of the run's wall time
    fix: str


class Watch:
    """Times the calls compiled code makes during one run (see module doc)."""

    def __init__(self) -> None:
        self.calls: dict[tuple[str, str], list[float]] = {}
        self.fixes: dict[tuple[str, str], str] = {}
        self.start = time.perf_counter()

    def timed(self, fn: Any, site: tuple[str, int], call: Callable[[], Any]) -> Any:
        begin = time.perf_counter()
        try:
            return call()
        finally:
            key = (_name(fn), format_site(site))
            entry = self.calls.get(key)
            if entry is None:
                entry = self.calls[key] = [0, 0.0]
                self.fixes[key] = _fix(fn)
            entry[0] += 1
            entry[1] += time.perf_counter() - begin

    def slowest(self, limit: int = 3) -> list[SlowCall]:
        """The callees that took longest, with their share of the run."""
        total = max(time.perf_counter() - self.start, 1e-9)
        ranked = sorted(self.calls.items(), key=lambda kv: -kv[1][1])[:limit]
        return [SlowCall(name, site, int(count), seconds, min(seconds / total, 1.0),
                         self.fixes[(name, site)])
                for (name, site), (count, seconds) in ranked]


def _name(fn: Any) -> str:
    if isinstance(fn, types.MethodType):
        return f"{type(fn.__self__).__name__}.{fn.__func__.__name__}"
    return getattr(fn, "__qualname__", None) or type(fn).__name__


def _fix(fn: Any) -> str:
    if isinstance(fn, types.MethodType):
        owner = type(fn.__self__).__name__.lower()
        name = fn.__func__.__name__
        return (f"{name} = xcs.op({owner}.{name}), or @xcs.op on the method, or "
                f"xcs.jit(..., leaves=[{owner}.{name}])")
    name = getattr(fn, "__name__", "f")
    return f"{name} = xcs.op({name}), or xcs.jit(..., leaves=[{name}])"


def warn_no_leaf_calls(function: str, watch: Watch, min_seconds: float = 0.01) -> None:
    """One warning for a jitted function whose run made no leaf call."""
    slow = [s for s in watch.slowest() if s.seconds >= min_seconds]
    if not slow:
        return
    lines = [f"  {s.callee} at {s.site}: {s.count} call(s), {s.seconds * 1e3:.0f} ms "
             f"({s.share:.0%} of the run); fix: {s.fix}" for s in slow]
    warnings.warn(f"xcs.jit: {function} made no leaf call, so nothing ran in parallel. "
                  "Its slowest calls:\n" + "\n".join(lines), XcsWarning, stacklevel=4)
