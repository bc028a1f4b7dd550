"""Compound programs used as examples: a diamond of fan-outs and a chat pipeline.

Every leaf call sleeps for its latency, like a request to a model or service.
"""

from __future__ import annotations

import time

import xcs_core as xcs


@xcs.op
def expand(stage: int, item: int, context: int) -> int:
    """One call of a fan-out stage (5 ms)."""
    time.sleep(0.005)
    return (context * 31 + stage * 7 + item) % 1009


@xcs.op
def join(values: list[int]) -> int:
    """Merge a stage's results into the next stage's context."""
    return sum(values) % 1009


def diamond(stages: int = 4, width: int = 8) -> int:
    """``stages`` fan-outs of ``width`` calls, each joined before the next stage."""
    context = 1
    for stage in range(stages):
        context = join([expand(stage, i, context) for i in range(width)])
    return context


@xcs.op
def retrieve(query: str, source: str) -> str:
    time.sleep(0.02)
    return f"{source}:{query}"


@xcs.op
def generate(prompt: str) -> str:
    time.sleep(0.03)
    return f"answer({len(prompt)})"


@xcs.op
def moderate(text: str) -> bool:
    time.sleep(0.01)
    return "forbidden" not in text


def chat_turn(query: str) -> str:
    """Retrieve from three sources at once, generate, then check the answer."""
    docs = [retrieve(query, source) for source in ("web", "wiki", "notes")]
    draft = generate(" | ".join(xcs.value(docs)))
    if not moderate(draft):
        return "I cannot answer that."
    return generate(f"polish: {draft}")
