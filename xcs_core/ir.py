"""The dataflow IR: frozen values and operations, and the graph that holds them.

Design
------
* ``ValueRef`` names one SSA value. Every value is defined by exactly one
  operation (its producer) and may be used by any number of later operations.
* ``Operation`` is one node: an id, a kind (``OpKind``), a human readable
  ``target`` (the callable's qualified name, or the glue operation), the
  values it reads and defines, control edges (ordering without data), the
  call site as ``file:line``, the effect flag and free-form ``meta``
  (measured duration, serialization reason, ...).
* ``ComputationGraph`` keeps operations in program order, which is always a
  topological order: an operation can only read values defined before it.
  ``lint()`` checks exactly that, plus SSA (one definition per value).
* The graph answers in its own vocabulary: ``dependencies(op)``, ``users(op)``,
  ``independent_sets()`` and ``topological_levels()`` return operations (their
  ids are one attribute away, ``op.id``), as torch.fx's nodes do.
* A call prints its arguments as written (``args``): ``%3`` for a value of the
  graph, a short ``repr`` for a constant, ``name=...`` for a keyword, so
  ``ask('a', %0)`` and ``ask('b', %0)`` read differently.  A graph whose
  arguments were not kept (a jitted run drops them as calls finish) prints
  the values it reads.

The graph is plain data: it prints one line per operation (``str(graph)``),
renders to Graphviz DOT, and round-trips through JSON.  Analyses live in
``xcs_core.analysis``; this module only answers structural questions.
"""

from __future__ import annotations

import enum
import gc
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from typing import Any

__all__ = ["ComputationGraph", "GraphError", "OpKind", "Operation", "ValueRef", "bulk",
           "call_levels", "calls_on_paths"]

SCHEMA_VERSION = 1


class GraphError(ValueError):
    """A graph violates an IR invariant (SSA, ordering, dangling reference)."""


class OpKind(str, enum.Enum):
    """What an operation is.

    INPUT   an argument of the traced function (defines one value, runs nothing)
    CALL    a leaf call (``@xcs.op`` function or ``Operator``): the unit of work
    GLUE    Python on traced values: attribute/item access, arithmetic, methods
    SYNC    a serialization point: Python needed a concrete value here; every
            later operation is ordered after it
    """

    INPUT = "input"
    CALL = "call"
    GLUE = "glue"
    SYNC = "sync"


@dataclass(frozen=True, slots=True)
class ValueRef:
    """One SSA value, identified by a graph-unique integer."""

    id: int

    def __str__(self) -> str:
        return f"%{self.id}"


class _NewDict:
    """The default of ``Operation.meta``: a new empty dict (shown as dataclasses shows one)."""

    def __repr__(self) -> str:
        return "<factory>"


_NEW_META: Any = _NewDict()


@dataclass(frozen=True, slots=True, init=False)
class Operation:
    """One node of the graph; immutable once built."""

    id: int
    kind: OpKind
    target: str
    inputs: tuple[ValueRef, ...] = ()
    outputs: tuple[ValueRef, ...] = ()
    control: tuple[int, ...] = ()
    site: str = ""
    effect: bool = False
    meta: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)
    #: the arguments as written, rendered (``None``: not recorded; ``inputs`` are printed)
    args: tuple[str, ...] | None = None

    def __init__(self, id: int, kind: OpKind, target: str,  # noqa: A002 - the field's name
                 inputs: tuple[ValueRef, ...] = (), outputs: tuple[ValueRef, ...] = (),
                 control: tuple[int, ...] = (), site: str = "", effect: bool = False,
                 meta: Mapping[str, Any] = _NEW_META, args: tuple[str, ...] | None = None
                 ) -> None:
        """The generated frozen ``__init__``, at half its cost: each field is stored by its
        slot's own setter rather than through ``object.__setattr__`` (a traced run of
        100,000 operations builds 100,000 of these in one pass)."""
        _set_id(self, id)
        _set_kind(self, kind)
        _set_target(self, target)
        _set_inputs(self, inputs)
        _set_outputs(self, outputs)
        _set_control(self, control)
        _set_site(self, site)
        _set_effect(self, effect)
        _set_meta(self, {} if meta is _NEW_META else meta)
        _set_args(self, args)

    @property
    def duration(self) -> float:
        """Measured wall time in seconds (0.0 when not measured)."""
        return float(self.meta.get("duration", 0.0))

    def __str__(self) -> str:
        outs = ", ".join(map(str, self.outputs)) or "_"
        args = ", ".join(map(str, self.inputs) if self.args is None else self.args)
        ctrl = f" after {list(self.control)}" if self.control else ""
        eff = " !effect" if self.effect else ""
        site = f"  # {self.site}" if self.site else ""
        return f"{outs} = {self.kind.value}[{self.id}] {self.target}({args}){ctrl}{eff}{site}"

    def __repr__(self) -> str:
        return f"<Operation {self}>"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind.value,
            "target": self.target,
            "inputs": [v.id for v in self.inputs],
            "outputs": [v.id for v in self.outputs],
            "control": list(self.control),
            "site": self.site,
            "effect": self.effect,
            "meta": dict(self.meta),
            **({} if self.args is None else {"args": list(self.args)}),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Operation:
        return cls(
            id=int(data["id"]),
            kind=OpKind(data["kind"]),
            target=str(data["target"]),
            inputs=tuple(ValueRef(int(i)) for i in data.get("inputs", ())),
            outputs=tuple(ValueRef(int(i)) for i in data.get("outputs", ())),
            control=tuple(int(i) for i in data.get("control", ())),
            site=str(data.get("site", "")),
            effect=bool(data.get("effect", False)),
            meta=dict(data.get("meta", {})),
            args=None if data.get("args") is None else tuple(map(str, data["args"])),
        )


(_set_id, _set_kind, _set_target, _set_inputs, _set_outputs, _set_control, _set_site, _set_effect,
 _set_meta, _set_args) = (vars(Operation)[f.name].__set__ for f in fields(Operation))


@contextmanager
def bulk() -> Iterator[None]:
    """Build or walk a big graph without the cyclic garbage collector.

    Freezing or analyzing a graph allocates many small acyclic objects; the collector
    would rescan the whole, growing graph again and again and make the pass
    superlinear.  Nothing made here forms a cycle, so nothing is left to collect."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class ComputationGraph:
    """Operations in program order, with producer and user indexes.

    Construction validates the invariants (see ``lint``), so every graph
    object in the program is well formed.
    """

    def __init__(self, operations: Iterable[Operation], outputs: Sequence[ValueRef] = ()):
        self._ops: tuple[Operation, ...] = tuple(operations)
        self.outputs: tuple[ValueRef, ...] = tuple(outputs)
        self._by_id: dict[int, Operation] = {}
        self._producer: dict[int, int] = {}
        self._deps: dict[int, tuple[Operation, ...]] = {}
        # who waits for whom, inverted only when ``users`` is first asked (nothing on the
        # path of a trace or an analysis asks: one list per operation would be waste)
        self._users: dict[int, list[Operation]] | None = None
        self._index()

    # -- construction -------------------------------------------------------
    def _index(self) -> None:
        by_id, producers, deps_of = self._by_id, self._producer, self._deps
        alone: dict[int, tuple[Operation]] = {}  # ``(op,)``, shared by all that wait for it only
        for op in self._ops:
            if op.id in by_id:
                raise GraphError(f"operation id {op.id} appears twice")
            deps: dict[int, None] | tuple = ()
            if op.inputs or op.control:
                deps = {}
                for ref in op.inputs:
                    producer = producers.get(ref.id)
                    if producer is None:
                        raise GraphError(f"{op}: reads {ref} before any operation defines it")
                    deps[producer] = None
                for cid in op.control:
                    if cid not in by_id:
                        raise GraphError(f"{op}: control edge to unknown or later operation "
                                         f"{cid}")
                    deps[cid] = None
            for ref in op.outputs:
                if ref.id in producers:
                    raise GraphError(f"{op}: redefines {ref} (SSA: one definition per value)")
                producers[ref.id] = op.id
            by_id[op.id] = op
            if len(deps) == 1:
                (dep,) = deps
                shared = alone.get(dep)
                if shared is None:
                    shared = alone[dep] = (by_id[dep],)
                deps_of[op.id] = shared
            else:
                deps_of[op.id] = tuple(map(by_id.__getitem__, deps))
        for ref in self.outputs:
            if ref.id not in self._producer:
                raise GraphError(f"graph output {ref} is not defined by any operation")

    def lint(self) -> None:
        """Re-check the invariants; raises ``GraphError`` naming the bad operation."""
        ComputationGraph(self._ops, self.outputs)

    # -- queries ------------------------------------------------------------
    def __iter__(self) -> Iterator[Operation]:
        return iter(self._ops)

    def __len__(self) -> int:
        return len(self._ops)

    def __getitem__(self, op_id: int) -> Operation:
        return self._by_id[op_id]

    @property
    def operations(self) -> tuple[Operation, ...]:
        return self._ops

    def calls(self) -> list[Operation]:
        """The leaf calls, in program order."""
        return [op for op in self._ops if op.kind is OpKind.CALL]

    def producer(self, ref: ValueRef) -> Operation:
        return self._by_id[self._producer[ref.id]]

    def dependencies(self, op: Operation | int) -> tuple[Operation, ...]:
        """The operations ``op`` must wait for (data and control edges), in program order
        of first use.  ``op`` may be given as an operation or its id."""
        return self._deps[op if isinstance(op, int) else op.id]

    def users(self, op: Operation | int) -> tuple[Operation, ...]:
        """The operations that wait for ``op``, in program order."""
        users = self._users
        if users is None:
            users = {op_id: [] for op_id in self._by_id}
            for user in self._ops:
                for dep in self._deps[user.id]:
                    users[dep.id].append(user)
            self._users = users
        return tuple(users[op if isinstance(op, int) else op.id])

    def topological_levels(self) -> list[list[Operation]]:
        """ASAP levels over all operations: level(op) = 1 + max(level(deps))."""
        level: dict[int, int] = {}
        levels: list[list[Operation]] = []
        for op in self._ops:
            lv = 1 + max((level[d.id] for d in self._deps[op.id]), default=-1)
            level[op.id] = lv
            if lv == len(levels):
                levels.append([])
            levels[lv].append(op)
        return levels

    def independent_sets(self) -> list[list[Operation]]:
        """Groups of two or more leaf calls that may run at the same time.

        Calls are levelled by the number of calls on the longest path that
        reaches them (glue, inputs and serialization points cost nothing), so
        two calls in one group never depend on each other.
        """
        return [[self._by_id[i] for i in ids] for ids in call_levels(self) if len(ids) > 1]

    # -- rendering ----------------------------------------------------------
    def __str__(self) -> str:
        lines = [str(op) for op in self._ops]
        if self.outputs:
            lines.append("return " + ", ".join(map(str, self.outputs)))
        return "\n".join(lines)

    def to_dot(self) -> str:
        """Graphviz DOT source: calls as boxes, effects red, sync points as diamonds."""
        import json  # deferred (here and below): only DOT and JSON text need it

        shape = {OpKind.CALL: "box", OpKind.GLUE: "ellipse", OpKind.SYNC: "diamond",
                 OpKind.INPUT: "invhouse"}
        out = ["digraph xcs {", "  rankdir=TB;"]
        for op in self._ops:
            label = json.dumps(f"{op.target}\n{op.site}" if op.site else op.target)
            color = ', color="red"' if op.effect else ""
            out.append(f"  n{op.id} [label={label}, shape={shape[op.kind]}{color}];")
        for op in self._ops:
            data = {self._producer[r.id] for r in op.inputs}
            for d in self._deps[op.id]:
                style = "" if d.id in data else " [style=dashed]"
                out.append(f"  n{d.id} -> n{op.id}{style};")
        out.append("}")
        return "\n".join(out)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_VERSION,
            "operations": [op.to_dict() for op in self._ops],
            "outputs": [v.id for v in self.outputs],
        }

    def to_json(self, **kwargs: Any) -> str:
        import json

        return json.dumps(self.to_dict(), **kwargs)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ComputationGraph:
        if data.get("schema") != SCHEMA_VERSION:
            raise GraphError(
                f"graph schema {data.get('schema')!r} is not supported (expected {SCHEMA_VERSION})"
            )
        ops = [Operation.from_dict(d) for d in data["operations"]]
        return cls(ops, [ValueRef(int(i)) for i in data.get("outputs", ())])

    @classmethod
    def from_json(cls, text: str) -> ComputationGraph:
        import json

        return cls.from_dict(json.loads(text))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ComputationGraph):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]


def call_levels(graph: ComputationGraph) -> list[list[int]]:
    """Leaf-call ids grouped by call level: the number of calls on the longest path
    that reaches a call (glue, inputs and serialization points cost nothing)."""
    return calls_on_paths(graph)[0]


def calls_on_paths(graph: ComputationGraph) -> tuple[list[list[int]], dict[int, int]]:
    """``call_levels``, and for every operation the number of leaf calls on the longest
    path that ends at it (itself included)."""
    level: dict[int, int] = {}
    groups: list[list[int]] = []
    deps_of, call = graph._deps, OpKind.CALL
    for op in graph._ops:
        base = 0
        for dep in deps_of[op.id]:
            if level[dep.id] > base:
                base = level[dep.id]
        if op.kind is call:
            if len(groups) <= base:
                groups.append([])
            groups[base].append(op.id)
            base += 1
        level[op.id] = base
    return groups, level
