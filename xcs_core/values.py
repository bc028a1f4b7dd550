"""``Traced``: the stand-in for a value produced by a leaf call.

A ``Traced`` object forwards the Python data model to the value it stands
for.  Every operation on it goes through the active runtime
(``xcs_core.runtime``), which decides between two answers:

* record a *glue* operation and return another ``Traced`` (attribute and item
  access, arithmetic, comparisons, pure method calls), so that a value derived
  from a result keeps its dependency; or
* *force*: obtain the concrete value (waiting for the call if it is still
  running), record a serialization point at the user's line, and continue
  with plain Python.

Only Python code sees a stand-in: the compiled user code, and the user's own
methods Python calls for it (operators, properties).  Code xcs does not
compile (C functions, the standard library, installed packages) is handed
concrete values by the compiled call site (``xcs_core.intrinsics``), so C
code that catches ``AttributeError`` or ``TypeError`` sees exactly what it
would see without xcs.
"""

from __future__ import annotations

import collections
import collections.abc
import operator
from typing import Any, Protocol

__all__ = ["Pending", "Ready", "Traced", "is_traced"]


class Runtime(Protocol):
    """What a ``Traced`` asks of the tracing runtime (see ``xcs_core.runtime``)."""

    def glue(self, fn: Any, label: str, args: tuple, direct: bool) -> Any: ...
    def call(self, proxy: Traced, args: tuple, kwargs: dict, direct: bool) -> Any: ...
    def force(self, proxy: Traced, reason: Any) -> Any: ...
    def wait_inside(self, objs: tuple, reason: Any) -> None: ...
    def mutate(self, fn: Any, label: str, args: tuple) -> Any: ...
    def iterate(self, proxy: Traced) -> Any: ...
    def await_value(self, proxy: Traced) -> Any: ...
    def await_pending(self, proxy: Traced, exactly: bool = False) -> Any: ...
    def cancel_pending(self, proxy: Traced, exc: Any) -> None: ...
    def abandoned(self, proxy: Traced) -> None: ...


_RT: Runtime | None = None


def install(runtime: Runtime) -> None:
    """Bind the runtime that ``Traced`` operations are routed to."""
    global _RT
    _RT = runtime


def is_traced(obj: object) -> bool:
    """True if ``obj`` is an xcs stand-in rather than a concrete value."""
    return type(obj) is Traced


class Traced:
    """Stands for the value of one node of the current trace (see module doc)."""

    __slots__ = ("_xcs_node", "__weakref__")

    def __init__(self, node: Any) -> None:
        object.__setattr__(self, "_xcs_node", node)

    # -- attribute access -----------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            # protocol probes (__array__, __fspath__, ...) want the real object
            return getattr(_RT.force(self, f"lookup of {name}"), name)
        return _RT.glue(getattr, f".{name}", (self, name), True)

    def __setattr__(self, name: str, value: Any) -> None:
        _RT.mutate(setattr, f".{name} =", (self, name, value))

    def __delattr__(self, name: str) -> None:
        _RT.mutate(delattr, f"del .{name}", (self, name))

    def __getitem__(self, key: Any) -> Any:
        return _RT.glue(operator.getitem, "[]", (self, key), True)

    def __setitem__(self, key: Any, value: Any) -> None:
        _RT.mutate(operator.setitem, "[] =", (self, key, value))

    def __delitem__(self, key: Any) -> None:
        _RT.mutate(operator.delitem, "del []", (self, key))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return _RT.call(self, args, kwargs, True)

    # -- places where Python needs the concrete value ----------------------------
    def __bool__(self) -> bool:
        return bool(_RT.force(self, "truth test (if/while/and/or/not)"))

    def __len__(self) -> int:
        return len(_RT.force(self, "len()"))

    def __iter__(self) -> Any:
        return _RT.iterate(self)

    def __reversed__(self) -> Any:
        return reversed(_RT.force(self, "reversed()"))

    def __contains__(self, item: Any) -> bool:
        return item in _RT.force(self, "'in' test")

    def __hash__(self) -> int:
        return hash(_RT.force(self, "hash() (dict key or set member)"))

    def __str__(self) -> str:
        return str(_RT.force(self, "str()"))

    def __repr__(self) -> str:
        return repr(_RT.force(self, "repr()"))

    def __format__(self, spec: str) -> str:
        return format(_RT.force(self, "formatting (f-string or format())"), spec)

    def __bytes__(self) -> bytes:
        return bytes(_RT.force(self, "bytes()"))

    def __int__(self) -> int:
        return int(_RT.force(self, "int()"))

    def __float__(self) -> float:
        return float(_RT.force(self, "float()"))

    def __complex__(self) -> complex:
        return complex(_RT.force(self, "complex()"))

    def __index__(self) -> int:
        return operator.index(_RT.force(self, "use as an integer index"))

    def __round__(self, ndigits: Any = None) -> Any:
        return round(_RT.force(self, "round()"), ndigits)

    def __enter__(self) -> Any:
        return _RT.force(self, "with statement").__enter__()

    def __exit__(self, *exc: Any) -> Any:
        return _RT.force(self, "with statement").__exit__(*exc)

    def __await__(self) -> Any:
        """``await`` does not wait: inside a jitted coroutine ``await fetch(url)``
        gives the value if it is there, else this stand-in, which is waited for
        where Python needs the value, as everywhere else."""
        yield from ()
        return _RT.await_value(self)

    def __dir__(self) -> Any:
        return dir(_RT.force(self, "dir()"))

    def __reduce_ex__(self, protocol: Any) -> Any:
        return (_identity, (_RT.force(self, "pickling"),))

    def __copy__(self) -> Any:
        import copy

        return copy.copy(_RT.force(self, "copy.copy()"))

    def __deepcopy__(self, memo: Any) -> Any:
        import copy

        return copy.deepcopy(_RT.force(self, "copy.deepcopy()"), memo)

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # noqa: D105 - isinstance() support
        return type(_RT.force(self, "isinstance() / __class__"))


def _identity(value: Any) -> Any:
    return value


_BINARY_OPS = {
    "add": (operator.add, "+"), "sub": (operator.sub, "-"), "mul": (operator.mul, "*"),
    "truediv": (operator.truediv, "/"), "floordiv": (operator.floordiv, "//"),
    "mod": (operator.mod, "%"), "pow": (operator.pow, "**"), "matmul": (operator.matmul, "@"),
    "and": (operator.and_, "&"), "or": (operator.or_, "|"), "xor": (operator.xor, "^"),
    "lshift": (operator.lshift, "<<"), "rshift": (operator.rshift, ">>"),
}
_INPLACE_OPS = {
    "add": operator.iadd, "sub": operator.isub, "mul": operator.imul,
    "truediv": operator.itruediv, "floordiv": operator.ifloordiv, "mod": operator.imod,
    "pow": operator.ipow, "matmul": operator.imatmul, "and": operator.iand,
    "or": operator.ior, "xor": operator.ixor, "lshift": operator.ilshift,
    "rshift": operator.irshift,
}
_COMPARE_OPS = {"lt": (operator.lt, "<"), "le": (operator.le, "<="), "eq": (operator.eq, "=="),
                "ne": (operator.ne, "!="), "gt": (operator.gt, ">"), "ge": (operator.ge, ">=")}
_UNARY_OPS = {"neg": (operator.neg, "-x"), "pos": (operator.pos, "+x"),
              "abs": (operator.abs, "abs()"), "invert": (operator.invert, "~x")}


def _forward(fn: Any, label: str, reflected: bool = False) -> Any:
    def method(self: Traced, *other: Any) -> Any:
        args = (other[0], self) if reflected else (self, *other)
        return _RT.glue(fn, label, args, True)

    return method


def _inplace(fn: Any, label: str) -> Any:
    def method(self: Traced, other: Any) -> Any:
        return _RT.mutate(fn, label, (self, other))

    return method


for _name, (_fn, _label) in _BINARY_OPS.items():
    setattr(Traced, f"__{_name}__", _forward(_fn, _label))
    setattr(Traced, f"__r{_name}__", _forward(_fn, _label, reflected=True))
    setattr(Traced, f"__i{_name}__", _inplace(_INPLACE_OPS[_name], _label + "="))
for _name, (_fn, _label) in _COMPARE_OPS.items():
    setattr(Traced, f"__{_name}__", _forward(_fn, _label))
for _name, (_fn, _label) in _UNARY_OPS.items():
    setattr(Traced, f"__{_name}__", _forward(_fn, _label))
del _name, _fn, _label


class Ready:
    """An awaitable that yields a value already computed (a synchronous call's
    result, when the caller wrote ``await call(...)``)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __await__(self) -> Any:
        yield from ()
        return self.value


class Pending(Ready):
    """What a dispatched async call gives in a coroutine: its stand-in, whose failure
    belongs to whoever awaits it (as a coroutine's exception does in plain Python).
    Awaiting it is ``Runtime.await_pending``.  It is a coroutine to asyncio
    (``create_task``, ``TaskGroup``, ``iscoroutine``), as the call's coroutine would be;
    a task driving it (``send``) waits for the call and ends with its exception, so
    whoever awaits the task gets it, as in plain Python.  One dropped without ever being
    awaited (a coroutine plain Python would never have run: ``op(x)`` as a statement) is
    handed to the runtime (``Runtime.abandoned``): its call is cancelled when the jitted
    code returns, as is one the finished function still holds unawaited (in a local list:
    a pending call's node holds its frame, for its traceback) and does not return; either
    gives plain Python's "never awaited" warning, unless plain Python never made it."""

    __slots__ = ("_steps", "awaited")

    def __init__(self, value: Any) -> None:
        self.value, self._steps, self.awaited = value, None, False

    def __await__(self) -> Any:  # compiled code's ``await`` is ``intrinsics.awaited``
        self.awaited = True
        return _RT.await_pending(self.value, exactly=True)

    def send(self, value: Any) -> Any:
        if self._steps is None:
            self._steps, self.awaited = _RT.await_pending(self.value, exactly=True), True
        return self._steps.send(value)

    def throw(self, *exc: Any) -> Any:
        if self._steps is None:  # a task cancelled before its first step: so is the call
            self._steps, self.awaited = _RT.await_pending(self.value, exactly=True), True
            _RT.cancel_pending(self.value, exc[1] if len(exc) > 1 and exc[1] else exc[0])
        return self._steps.throw(*exc)

    def close(self) -> None:
        if self._steps is not None:
            self._steps.close()

    def __del__(self) -> None:
        # may run anywhere (a collection inside a locked section): only hand it over
        if not self.awaited and _RT is not None:  # (None: the interpreter is exiting)
            _RT.abandoned(self.value)



collections.abc.Coroutine.register(Pending)
