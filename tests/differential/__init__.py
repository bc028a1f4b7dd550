"""Differential testing of ``@xcs.jit`` against plain Python.

``generator`` writes small random orchestration programs from templates (the constructs of
real compound-LLM code); ``harness`` runs each one plainly and jitted and compares every
observable; ``worker`` runs programs in a child process so that a hang is a reported failure,
never a stuck suite; ``shrink`` reduces a failing program to the statements that matter.

    python -m tests.differential --programs 500        # a census of differences
"""
