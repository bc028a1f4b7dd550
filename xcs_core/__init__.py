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
"""

from xcs_core.analysis import Analysis, analyze
from xcs_core.api import JitFunction, LeafOp, Operator, XcsWarning, execution, jit, op, value
from xcs_core.batching import BatchFailure, BatchResultError
from xcs_core.ir import ComputationGraph, Operation, OpKind, ValueRef
from xcs_core.tracing import TraceResult, trace

__all__ = [
    "Analysis", "BatchFailure", "BatchResultError", "ComputationGraph", "JitFunction", "LeafOp",
    "OpKind", "Operation", "Operator", "TraceResult", "ValueRef", "XcsWarning", "analyze",
    "execution", "jit", "op", "trace", "value",
]
__version__ = "0.1.0"
