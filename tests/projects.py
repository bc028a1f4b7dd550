"""Test files for pytester projects that several plugin test modules run."""


def ensemble(models: str, delay: float) -> str:
    """A marked test: one ``ask`` of ``delay`` seconds per model in ``models``, judged by
    ``max``, so the answers of its calls (``answers = [...]``) can run at once."""
    return f'''
import time, pytest, xcs_core as xcs

@xcs.op
def ask(model, q):
    time.sleep({delay})
    return f"{{model}}:{{q}}"

@xcs.op
def judge(answers):
    return max(answers)

@pytest.mark.xcs_parallel
def test_ensemble():
    answers = [ask(m, "why?") for m in "{models}"]
    assert judge(answers) == "{models[-1]}:why?"
'''
