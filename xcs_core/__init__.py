"""xcs: automatic parallelism for ordinary Python code.

    import xcs_core as xcs

    @xcs.op
    def ask(model, prompt): ...

    @xcs.jit
    def ensemble(prompt):
        answers = [ask(m, prompt) for m in MODELS]   # run at once
        return judge(answers)                         # waits for them

Pipeline: compile (``compiler``) and trace (``tracing``) -> IR (``ir``) -> analyze (``analysis``) ->
patterns (``patterns``) -> optimize (``optimize``) -> execute
(``scheduler`` + ``executors``).

The public names are imported on first use (PEP 562 ``__getattr__``): ``import xcs_core``,
and importing one of its modules (``xcs_core.report``), does not load the engine.  Every
module that needs another imports it itself.
"""

import importlib

TYPE_CHECKING = False  # not ``typing.TYPE_CHECKING``: importing typing costs more than this module
if TYPE_CHECKING:
    from xcs_core.analysis import Analysis, analyze
    from xcs_core.api import JitFunction, XcsWarning, execution, jit, value
    from xcs_core.batching import BatchFailure, BatchResultError
    from xcs_core.ir import ComputationGraph, Operation, OpKind, ValueRef
    from xcs_core.ops import LeafOp, Operator, op
    from xcs_core.tracing import TraceResult, trace

#: The module that defines each public name.
_HOMES = {
    "Analysis": "analysis", "analyze": "analysis",
    "JitFunction": "api", "XcsWarning": "api", "execution": "api", "jit": "api", "value": "api",
    "LeafOp": "ops", "Operator": "ops", "op": "ops",
    "BatchFailure": "batching", "BatchResultError": "batching",
    "ComputationGraph": "ir", "Operation": "ir", "OpKind": "ir", "ValueRef": "ir",
    "TraceResult": "tracing", "trace": "tracing",
}

__all__ = [
    "Analysis", "BatchFailure", "BatchResultError", "ComputationGraph", "JitFunction", "LeafOp",
    "OpKind", "Operation", "Operator", "TraceResult", "ValueRef", "XcsWarning", "analyze",
    "execution", "jit", "op", "trace", "value",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    """A public name, imported from its module on first use and kept here after."""
    home = _HOMES.get(name)
    if home is None:  # also how ``from xcs_core import <submodule>`` finds a submodule
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    found = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = found
    return found


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
