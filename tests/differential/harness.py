"""Run a generated program plainly and under ``@xcs.jit`` and compare everything observable.

Compared, in this order (the first difference names the cause):

* ``hang``: the jitted run did not finish within the timeout;
* ``error``: the exception type and message, and those of the exceptions a traceback prints
  before it (its cause, or its context unless suppressed), or that one side raised and the
  other did not;
* ``result``: the return value, deeply, with the type of every nested item;
* ``leak``: an xcs stand-in anywhere in the result, state, arguments, exception or the
  arguments a leaf call saw;
* ``log``: what the program logged (which ``except`` caught what, ``finally`` blocks);
* ``effects``: the effect calls, in the order they ran, with their arguments;
* ``calls``: every leaf call with the arguments it saw (deep-copied when it ran), as a
  multiset, so a call run twice, never run, or run with mutated arguments shows up;
* ``state``: module globals the program touches and the final state of its arguments;
* ``noise``: what asyncio logged while the program ran (a task whose exception was never
  retrieved, ...), by first line and exception type, and the ``RuntimeWarning``s given
  ("coroutine ... was never awaited"), by message: xcs must not add or lose any;
* ``fallback``: the jitted run warned (``XcsWarning``) that some of the program's own code
  runs as plain Python because xcs could not compile it (a self-recursive helper, a method
  naming its class, ...): the same results, but its leaf calls one at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import dataclasses
import gc
import importlib.util
import itertools
import logging
import os
import re
import sys
import tempfile
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xcs_core as xcs
from tests.differential.generator import Program

try:  # the state of a stand-in's node, to tell a failed call's stand-in apart
    from xcs_core.nodes import FAILED
except ImportError:  # pragma: no cover - moved by a front-end change
    FAILED = object()

try:
    from xcs_core.values import is_traced as _is_traced
except ImportError:  # the front end moved it: fall back to the type name check only
    def _is_traced(obj: object) -> bool:
        return False

TIMEOUT = float(os.environ.get("XCS_DIFF_TIMEOUT", "5"))
# By default, when plain Python raises an uncaught exception and the jitted run raises the same
# one, two consequences of running calls ahead are tolerated: pure leaf calls that plain Python
# never reached, and Python-level logging/state changes made between the failing call and the
# point where plain Python stopped (docs/execution.md, "Limits").  Effects must still match.
# XCS_DIFF_STRICT=1 reports those too.
STRICT = os.environ.get("XCS_DIFF_STRICT", "") not in ("", "0")
EFFECT_LEAVES = frozenset({"emit", "publish"})
FAILED_MARK = " (its call failed)"
_names = itertools.count()
_workdir: Path | None = None


def workdir() -> Path:
    global _workdir
    if _workdir is None:
        _workdir = Path(tempfile.mkdtemp(prefix="xcs_diff_"))
    return _workdir


def traced(x: Any) -> bool:
    return type(x).__name__ == "Traced" or _is_traced(x)


def canon(x: Any, depth: int = 0) -> Any:
    """A comparable picture of ``x``: every nested value with its exact type name."""
    if traced(x):
        return ("<xcs stand-in>",)
    t = type(x)
    name = t.__name__
    if depth > 40:
        return (name, "<deep>")
    if x is None or t in (bool, int, str, bytes):
        return (name, x)
    if t is float:
        return (name, repr(x))
    if isinstance(x, (list, tuple)):
        return (name, tuple(canon(i, depth + 1) for i in x))
    if isinstance(x, dict):
        extra = (canon(x.default_factory),) if hasattr(x, "default_factory") else ()
        return (name, *extra, tuple((canon(k, depth + 1), canon(v, depth + 1))
                                    for k, v in x.items()))
    if isinstance(x, (set, frozenset)):
        return (name, tuple(sorted((canon(i, depth + 1) for i in x), key=repr)))
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return (name, tuple((f.name, canon(getattr(x, f.name), depth + 1))
                            for f in dataclasses.fields(x)))
    if isinstance(x, BaseException):
        return (name, str(x))
    if callable(x):
        return (name, getattr(x, "__qualname__", "?"))
    if hasattr(x, "__dict__"):
        return (name, canon(vars(x), depth + 1))
    return (name, repr(x))


def leaks(x: Any, path: str = "", depth: int = 0, seen: set | None = None) -> list[str]:
    """Paths inside ``x`` where an xcs stand-in is found (marked when its call failed)."""
    if traced(x):
        node = getattr(x, "_xcs_node", None)
        failed = node is not None and node.state == FAILED
        return [(path or "<top>") + (FAILED_MARK if failed else "")]
    if depth > 40:
        return []
    seen = set() if seen is None else seen
    if id(x) in seen:
        return []
    seen.add(id(x))
    found: list[str] = []
    if isinstance(x, dict):
        for k, v in list(x.items()):
            found += leaks(k, f"{path}<key {k!r}>" if not traced(k) else f"{path}<key>",
                           depth + 1, seen)
            if not traced(k):
                found += leaks(v, f"{path}[{k!r}]", depth + 1, seen)
    elif isinstance(x, (list, tuple, set, frozenset)):
        for i, v in enumerate(list(x)):
            found += leaks(v, f"{path}[{i}]", depth + 1, seen)
    elif isinstance(x, BaseException):
        found += leaks(list(x.args), f"{path}.args", depth + 1, seen)
    elif dataclasses.is_dataclass(x) and not isinstance(x, type):
        for f in dataclasses.fields(x):
            found += leaks(getattr(x, f.name), f"{path}.{f.name}", depth + 1, seen)
    elif hasattr(x, "__dict__") and not callable(x) and not isinstance(x, type):
        for k, v in list(vars(x).items()):
            found += leaks(v, f"{path}.{k}", depth + 1, seen)
    return found


@dataclass
class Outcome:
    hang: bool = False
    error: Any = None
    result: Any = None
    log: Any = None
    effects: Any = None
    calls: Any = None
    state: Any = None
    leak: Any = None
    raw_error: BaseException | None = None
    traceback: str = ""
    noise: Any = ()  # what asyncio logged (see ``_asyncio_log``)
    fallback: Any = ()  # what the jitted run warned runs as plain Python (see FALLBACK)
    tolerated: Any = None  # a difference allowed after an uncaught failure (see STRICT)


ASPECTS = ("hang", "error", "result", "leak", "log", "effects", "calls", "state", "noise",
           "fallback")
FALLBACK = re.compile(r"xcs\.jit: (\S+) \(.*?\) runs as plain Python, because (.*?): its leaf")


def load(prog: Program, jit: bool) -> Any:
    """Write the program to a real file and import it (so ``inspect.getsource`` works)."""
    name = f"xcs_diff_{prog.seed}_{'jit' if jit else 'plain'}_{next(_names)}"
    path = workdir() / f"{name}.py"
    path.write_text(prog.source(jit=jit))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _call(module: Any, prog: Program, args: dict, max_workers: int | None) -> Any:
    fn = module.program
    if prog.is_async:
        def run() -> Any:
            return asyncio.run(fn(**args))
    else:
        def run() -> Any:
            return fn(**args)
    if max_workers is None:
        return run()
    with xcs.execution(max_workers=max_workers):
        return run()


def run_once(prog: Program, jit: bool, max_workers: int | None = None,
             timeout: float | None = None) -> Outcome:
    module = load(prog, jit)
    args = copy.deepcopy(prog.args)
    box: dict = {}

    def target() -> None:
        try:
            box["result"] = _call(module, prog, args, max_workers)
        except BaseException as exc:  # noqa: BLE001 - compared
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True, name=f"xcs-diff-{prog.seed}")
    gc.collect()  # what earlier runs or tests left to be freed is not this run's noise
    with warnings.catch_warnings(record=True) as warned, _asyncio_log() as noise:
        warnings.simplefilter("always", xcs.XcsWarning)
        warnings.simplefilter("always", RuntimeWarning)  # each "never awaited", counted
        thread.start()
        thread.join(TIMEOUT if timeout is None else timeout)
        if thread.is_alive():
            return Outcome(hang=True)
        _release(box.get("error"))
        gc.collect()  # a task never retrieved is logged, a coroutine warned of, when freed
    noise.extend(f"{w.category.__name__}: {str(w.message).splitlines()[0]}" for w in warned
                 if issubclass(w.category, RuntimeWarning))
    fallback = sorted({" ".join(m.groups()) for w in warned
                       if (m := FALLBACK.search(str(w.message)))})
    exc = box.get("error")
    result = box.get("result")
    state = {name: getattr(module, name) for name in module.STATE if name != "EFFECTS"}
    calls = sorted((canon(c) for c in list(module.CALLS)), key=repr)
    return Outcome(
        error=None if exc is None else (type(exc).__name__, _message(exc), _chain(exc)),
        result=canon(result),
        log=canon(module.LOG),
        effects=canon(module.EFFECTS),
        calls=calls,
        state=canon({"globals": state, "args": args}),
        leak=leaks({"result": result, "globals": state, "args": args, "error": exc,
                    "calls": list(module.CALLS)}),
        raw_error=exc,
        noise=tuple(sorted(noise)),
        fallback=tuple(fallback),
    )


_EXCEPTION = re.compile(r"exception=(\w+)")


def _release(exc: BaseException | None) -> None:
    """Clear the frames the tracebacks of ``exc`` and of the exceptions chained to it hold:
    the coroutines and tasks in them are freed now (warned of, logged), in the run's own
    window, not while the next program runs."""
    import traceback

    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        traceback.clear_frames(exc.__traceback__)
        exc = exc.__cause__ or exc.__context__


@contextlib.contextmanager
def _asyncio_log() -> Any:
    """Collect what the ``asyncio`` logger says meanwhile: first line and exception type."""
    said: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            text = record.getMessage()
            kind = _EXCEPTION.search(text)
            said.append(text.splitlines()[0] + (f" ({kind.group(1)})" if kind else ""))

    logger, handler = logging.getLogger("asyncio"), Collect()
    logger.addHandler(handler)
    propagate, logger.propagate = logger.propagate, False
    try:
        yield said
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def _message(exc: BaseException) -> str:
    return str(exc).split("\nxcs:")[0]


def _chain(exc: BaseException) -> tuple:
    """What a traceback prints before ``exc``: its cause, or its context unless suppressed,
    and theirs, as (how it is linked, type, message)."""
    out: list[tuple[str, str, str]] = []
    seen = {id(exc)}
    while True:
        linked = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
        if linked is None or id(linked) in seen:
            return tuple(out)
        seen.add(id(linked))
        out.append(("cause" if exc.__cause__ is not None else "context",
                    type(linked).__name__, _message(linked)))
        exc = linked


@dataclass
class Difference:
    aspect: str
    plain: Any
    jit: Any
    after_failure: bool = False  # tolerated unless strict: see STRICT

    def key(self) -> str:
        """A short name for the cause, for grouping a census."""
        if self.after_failure:
            return f"{self.aspect} differs after an uncaught failure"
        if self.aspect == "error":
            p, j = self.plain, self.jit
            if p is None:
                return f"jit raises {j[0]}: {normalize(j[1])}"
            if j is None:
                return f"jit does not raise {p[0]}"
            if p[0] != j[0]:
                return f"jit raises {j[0]} instead of {p[0]}: {normalize(j[1])}"
            if p[1] == j[1]:
                return f"{p[0]} cause or context differs"
            return f"{p[0]} message differs"
        if self.aspect == "leak":
            return "stand-in escapes"
        if self.aspect == "fallback":
            return "runs as plain Python: " + "; ".join(normalize(j) for j in self.jit)
        return f"{self.aspect} differs"

    def __str__(self) -> str:
        return (f"{self.aspect} differs:\n  plain: {_short(self.plain)}\n"
                f"  jit:   {_short(self.jit)}")


def normalize(msg: str) -> str:
    msg = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", msg.split("\n")[0])
    return re.sub(r"\d+", "N", msg)[:90]


def _short(x: Any, limit: int = 1500) -> str:
    s = repr(x)
    return s if len(s) <= limit else s[:limit] + " …"


def compare(plain: Outcome, jit: Outcome, strict: bool | None = None) -> Difference | None:
    strict = STRICT if strict is None else strict
    failed = plain.error is not None and plain.error == jit.error and not plain.hang
    tolerated = None
    for aspect in ASPECTS:
        p, j = getattr(plain, aspect), getattr(jit, aspect)
        if aspect == "leak":
            # a stand-in whose call failed, left where code after the failing call stored
            # it, is the documented difference "a value that failed" (docs/execution.md)
            if j:
                after = failed and all(x.endswith(FAILED_MARK) for x in j)
                if strict or not after:
                    return Difference("leak", p, j, after_failure=after)
                tolerated = tolerated or Difference("leak", p, j, after_failure=True)
            continue
        if p == j:
            continue
        diff = Difference(aspect, p, j)
        if aspect == "calls":
            diff.plain, diff.jit = _multiset_diff(p, j)
            diff.after_failure = failed and not diff.plain and all(
                c[1][0][1] not in EFFECT_LEAVES for c in diff.jit)
        elif aspect in ("log", "state"):
            diff.after_failure = failed
        if not diff.after_failure or strict:
            return diff
        tolerated = tolerated or diff
    jit.tolerated = tolerated
    return None


def _multiset_diff(p: list, j: list) -> tuple[list, list]:
    """Only the calls that differ: (only in plain, only in jit)."""
    rest = list(j)
    only_p = []
    for c in p:
        if c in rest:
            rest.remove(c)
        else:
            only_p.append(c)
    return only_p, rest


@dataclass
class Report:
    prog: Program
    diff: Difference | None
    plain: Outcome
    jit: Outcome
    max_workers: int | None

    def explain(self) -> str:
        if self.diff is None:
            return "same"
        head = (f"seed {self.prog.seed} ({'async' if self.prog.is_async else 'sync'}, "
                f"max_workers={self.max_workers}): {self.diff}")
        tail = ""
        if self.diff.aspect == "error":
            text = self.jit.traceback
            if self.jit.raw_error is not None:
                import traceback
                exc = self.jit.raw_error
                text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            if text:
                tail = "\njit traceback:\n" + text[-3000:]
        return f"{head}\n--- program (after the prelude) ---\n{self.prog.body()}{tail}"


def workers_for(prog: Program) -> int | None:
    return (None, None, 1, 2, 4)[prog.seed % 5]


def check(prog: Program, max_workers: int | None = ..., tries: int = 1,
          timeout: float | None = None, strict: bool | None = None) -> Report:
    """Run ``prog`` plainly once and jitted up to ``tries`` times; the first difference wins."""
    if max_workers is ...:
        max_workers = workers_for(prog)
    plain = run_once(prog, jit=False)
    if plain.hang:
        raise AssertionError(f"plain run of seed {prog.seed} hangs:\n{prog.body()}")
    report = None
    for _ in range(tries):
        jit = run_once(prog, jit=True, max_workers=max_workers, timeout=timeout)
        report = Report(prog, compare(plain, jit, strict), plain, jit, max_workers)
        if report.diff is not None:
            break
    return report
