"""Call-site questions, asked while the call runs (as the runtime does)."""

import sys

from xcs_core import sites


def guarded_here(levels=1):
    """Is a line in the ``levels`` frames above this call inside a try block?"""
    return sites.guarded(sys._getframe(1), sys._getframe(1 + levels))


def identity_here():
    """Will the caller compare this call's result with 'is'?"""
    return sites.identity_tested(sys._getframe(1))


def test_lines_inside_try_bodies_are_guarded_and_others_not():
    plain = guarded_here()
    try:
        inside = guarded_here()
    except ValueError:
        pass
    assert (plain, inside) == (False, True)


def test_try_without_handlers_does_not_guard():
    try:
        assert guarded_here() is False
    finally:
        pass


def test_a_lambda_called_inside_try_is_guarded_through_its_callers_frame():
    pair = (1, lambda: guarded_here(2))
    assert pair[1]() is False
    try:
        assert (lambda: guarded_here(2))() is True
        assert (lambda: guarded_here(1))() is False  # the lambda's own lines have no try
    except RuntimeError:
        raise


def test_code_without_source_counts_as_guarded():
    namespace: dict = {"guarded_here": guarded_here}
    exec(compile("def f():\n    return guarded_here()\n", "<generated>", "exec"), namespace)
    assert namespace["f"]() is True


def test_identity_tests_are_found_through_the_local_the_result_is_stored_in():
    a = identity_here()
    b = identity_here()
    if a is None:
        raise AssertionError("unreachable")
    assert (a, b) == (True, False)
    assert (identity_here() is not None) is True
