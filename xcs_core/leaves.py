"""Leaf calls without editing the callee, and finding the calls that should be leaves.

Real code calls an LLM through an SDK (``client.complete(prompt)``), an HTTP
library or a database driver: functions nobody decorates with ``@xcs.op``.
Two things help here, both possible because the jitted code is compiled and
every call it makes passes through ``calls.call``:

* ``Leaves`` (``xcs.jit(fn, leaves=[...])``): functions, bound methods, classes
  (any method of their instances) and module prefixes (``"httpx"``) whose calls,
  made from the jitted code, are leaf calls, exactly as if the callee had been
  wrapped with ``xcs.op``.
* ``Watch``: on the first run of a jitted function, each call its compiled code
  makes is timed by callee and call site.  When the run made no leaf call at
  all, one ``XcsWarning`` names the slowest calls and the one-line fix.  A
  traced run can be watched too (``trace_call(..., watch=Watch())``, what the
  pytest plugin does): its time outside leaf calls is what counts.
"""

from __future__ import annotations

import time
import types
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from xcs_core import cost
from xcs_core.errors import XcsWarning
from xcs_core.ir import OpKind
from xcs_core.sites import format_site
from xcs_core.values import Traced

__all__ = ["Leaves", "SlowCall", "Watch", "leaf_clock", "watch_trace"]


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
            # deferred: ops imports runtime, which imports this module
            from xcs_core.ops import op as make_op

            op = self._ops[id(func)] = make_op(func)
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
    seconds: float  # outside leaf calls made inside it
    share: float  # of the run's wall time
    fix: str


_Key = tuple[Any, tuple[str, int]]  # (callee identity, raw call site)
_SAMPLED = 64  # calls timed per callee and site; later ones are counted at the median
#: types whose builtin methods are never timed: they compute on a value in memory
_PLAIN_VALUES = frozenset({list, dict, str, bytes, bytearray, int, float, complex, bool, tuple,
                           set, frozenset, type(None)})


class Watch:
    """Times the calls compiled code makes during one run (see module doc).

    Each (callee, call site) keeps its count, its time and the time spent in
    leaf calls made inside it (``leaf_clock``, seconds of leaf calls so far; a
    traced run's leaf calls run inline), and which timed call it was made in,
    so ``slowest`` can name the calls worth making leaves, not their callers or
    what they call.
    """

    def __init__(self, leaf_clock: Callable[[], float] | None = None) -> None:
        # per (callee, raw call site): [count, seconds, seconds in leaf calls, samples]; the
        # samples, (seconds, leaf seconds) of each timed call, become the medians once
        # there are _SAMPLED (one preempted call must not make a cheap call look slow);
        # names, sites and fixes are formatted only for what ``slowest`` reports
        self.calls: dict[Any, list[float]] = {}
        self.samples: dict[Any, Any] = {}  # one callee object per key, to name it later
        self.parents: dict[Any, set[Any]] = {}
        self.leaf_clock = leaf_clock
        self._stack: list[Any] = []
        # callees no longer timed: each of their first _SAMPLED calls took less than a
        # dispatch costs, so as leaves they would run inline (by id; kept alive here)
        self._cheap: dict[int, Any] = {}
        self.start = time.perf_counter()

    def timing(self, fn: Any) -> bool:
        """Whether a call of ``fn`` is timed: not a method of a plain value (``list.append``,
        ``dict.get``, ``str.format``: never a leaf), nor a callee found too cheap."""
        kind = type(fn)
        if kind is types.BuiltinMethodType:
            return type(fn.__self__) not in _PLAIN_VALUES
        base = _base(fn)
        return self._cheap.get(id(base)) is not base

    def timed(self, fn: Any, site: tuple[str, int], call: Callable[..., Any], *args: Any,
              **kwargs: Any) -> Any:
        """``call(*args, **kwargs)``, timed as a call of ``fn`` made at ``site`` (the
        arguments are passed through rather than closed over: a recursive program must
        not pay a frame per level for it)."""
        if type(fn) is Traced or _is_xcs(fn):  # glue on a pending value, or xcs itself
            return call(*args, **kwargs)
        key = (_identity(fn), site)
        entry = self.calls.get(key)
        if entry is None:
            entry = self.calls[key] = [0, 0.0, 0.0, []]
            self.samples[key] = fn
            self.parents[key] = set()
        elif entry[0] >= _SAMPLED:  # enough samples: count it at the medians, untimed
            seconds, in_leaves = entry[3]
            entry[0] += 1
            entry[1] += seconds
            entry[2] += in_leaves
            return call(*args, **kwargs)
        self.parents[key].add(self._stack[-1] if self._stack else None)
        self._stack.append(key)
        clock = self.leaf_clock
        leaf = clock() if clock else 0.0
        begin = time.perf_counter()
        try:
            return call(*args, **kwargs)
        finally:
            took, in_leaves = time.perf_counter() - begin, (clock() - leaf) if clock else 0.0
            entry[0] += 1
            entry[1] += took
            entry[2] += in_leaves
            samples = entry[3]
            if type(samples) is list:
                samples.append((took, in_leaves))
                if entry[0] == _SAMPLED:
                    entry[3] = median = tuple(sorted(column)[len(column) // 2]
                                              for column in zip(*samples))
                    if median[0] - median[1] < cost.INLINE_BELOW:
                        base = _base(fn)
                        self._cheap[id(base)] = base
            self._stack.pop()

    @property
    def depth(self) -> int:
        """How many timed calls are running, one inside the other."""
        return len(self._stack)

    def slowest(self, limit: int = 3, wall: float | None = None,
                min_share: float = 0.05) -> list[SlowCall]:
        """The calls worth making leaves, slowest first, with their share of ``wall``
        (default: the time since the watch started).

        Time counts outside leaf calls.  From the calls the run made directly, a
        call is named when it repeats, or when the calls made inside it cover
        less than half its time; otherwise the calls made inside it are looked
        at instead (a helper called once that loops over a client method names
        the method).  Calls under ``min_share`` of ``wall`` are left out.
        """
        total = max(wall if wall is not None else time.perf_counter() - self.start, 1e-9)
        own = {k: max(0.0, e[1] - e[2]) for k, e in self.calls.items()}
        children: dict[_Key | None, list[_Key]] = {}
        for key, parents in self.parents.items():
            for parent in parents:
                children.setdefault(parent, []).append(key)
        found: list[_Key] = []
        seen: set[_Key] = set()
        todo = list(children.get(None, []))
        while todo:
            key = todo.pop()
            if key in seen or own[key] < min_share * total:
                continue
            seen.add(key)
            inside = [k for k in children.get(key, []) if k != key]
            if self.calls[key][0] > 1 or sum(own[k] for k in inside) < own[key] / 2:
                found.append(key)
            else:
                todo.extend(inside)
        # a call cheaper than a dispatch gains nothing from being a leaf call
        found = [k for k in found if own[k] / self.calls[k][0] >= cost.INLINE_BELOW]
        found.sort(key=lambda k: (-own[k], _name(self.samples[k]), k[1]))
        return [SlowCall(_name(self.samples[k]), format_site(k[1]), int(self.calls[k][0]),
                         own[k], min(own[k] / total, 1.0), _fix(self.samples[k]))
                for k in found[:limit]]


def leaf_clock(nodes: list[Any]) -> Callable[[], float]:
    """Seconds spent so far in the leaf calls among ``nodes`` (a traced run's nodes,
    which it appends to as its calls run inline)."""
    state = [0, 0.0]

    def clock() -> float:
        i, total = state
        while i < len(nodes):
            node = nodes[i]
            if node.kind is OpKind.CALL and node.end >= node.start:
                total += node.end - node.start
            i += 1
        state[0], state[1] = i, total
        return total
    return clock


def watch_trace(ctx: Any, leaves: Leaves | None, watch: Watch | None) -> None:
    """Give a traced run's context ``leaves`` and a ``watch`` (timing its calls
    outside leaf calls): how the pytest plugin asks for a watched trace."""
    ctx.leaves = leaves or None
    if watch is not None:
        if watch.leaf_clock is None and ctx.nodes is not None:
            watch.leaf_clock = leaf_clock(ctx.nodes)
        ctx.watch = watch
    ctx.extra = ctx.leaves is not None or ctx.watch is not None


def _base(fn: Any) -> Any:
    """The function behind a bound method (made anew on each access), else ``fn`` itself
    (never probed with ``getattr``: it may be a stand-in)."""
    return fn.__func__ if type(fn) is types.MethodType else fn


def _is_xcs(fn: Any) -> bool:
    """xcs's own functions (``xcs.value``): never a call to make a leaf."""
    module = getattr(fn, "__module__", None) or ""
    return module.startswith("xcs_core.") and not module.startswith("xcs_core.examples")


def _identity(fn: Any) -> Any:
    """What identifies a callee across calls (a bound method is made anew each time)."""
    if isinstance(fn, types.MethodType):
        return (type(fn.__self__), fn.__func__)
    owner = getattr(fn, "__self__", None)
    if type(fn) is types.BuiltinMethodType and owner is not None and not isinstance(
            owner, types.ModuleType):
        return (type(owner), fn.__name__)
    try:
        hash(fn)
    except TypeError:  # a callable object that is not hashable
        return id(fn)
    return fn


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
