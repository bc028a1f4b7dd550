"""An ensemble of eight simulated models and a judge, written as plain Python.

Each model call waits ``LATENCY`` seconds, like a request to a model API.
Sequentially the ensemble costs 8 x LATENCY; xcs runs the eight calls at once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import xcs_core as xcs

LATENCY = 0.05


@dataclass(frozen=True)
class Answer:
    model: str
    text: str
    score: float


class Model(xcs.Operator):
    """One model behind an API: a leaf call."""

    def __init__(self, name: str, bias: float) -> None:
        self.name, self.bias = name, bias

    def forward(self, inputs: str) -> Answer:
        time.sleep(LATENCY)
        return Answer(self.name, f"{self.name} says {inputs[::-1]}", self.bias + len(inputs) / 100)


@xcs.op
def judge(answers: list[Answer]) -> str:
    """Pick the best answer (one more model call in a real system)."""
    time.sleep(LATENCY)
    return max(answers, key=lambda a: a.score).text


@xcs.jit
class Ensemble(xcs.Operator):
    """Ask every model, then let the judge choose."""

    def __init__(self, models: list[Model]) -> None:
        self.models = models

    def forward(self, inputs: str) -> str:
        answers = [model(inputs) for model in self.models]
        return judge(answers)


def build(n: int = 8) -> Ensemble:
    """An ensemble of ``n`` models."""
    return Ensemble([Model(f"model-{i}", bias=(i * 7 % 5) / 10) for i in range(n)])
