"""Example tests for the pytest plugin: ``pytest --xcs-report --xcs-ab`` on this folder."""

import pytest

from xcs_core.examples import ensemble, pipelines


@pytest.mark.xcs_parallel(min_parallelism=4)
def test_ensemble():
    assert ensemble.build(8).forward("what is xcs?").startswith("model-")


@pytest.mark.xcs_parallel(min_parallelism=3)
def test_diamond():
    assert pipelines.diamond(stages=4, width=8) == 174


@pytest.mark.xcs_parallel
def test_chat_turn():
    assert pipelines.chat_turn("hello") == "answer(18)"
