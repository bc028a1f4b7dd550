"""The inline decision is stable: one noisy sample never flips a callable."""

from xcs_core import cost


def test_a_callable_runs_inline_only_after_enough_fast_samples():
    name = "test_cost.fresh"
    assert not cost.cheap(name)  # never measured: dispatched
    cost.learn(name, cost.INLINE_BELOW / 10)
    cost.learn(name, cost.INLINE_BELOW / 10)
    assert not cost.cheap(name)  # two samples are not enough
    cost.learn(name, cost.INLINE_BELOW / 10)
    assert cost.cheap(name)


def test_one_slow_sample_does_not_flip_an_inline_callable_back():
    name = "test_cost.noisy"
    for _ in range(5):
        cost.learn(name, cost.INLINE_BELOW / 10)
    cost.learn(name, cost.INLINE_BELOW * 3)  # one noisy sample: average below 2x threshold
    assert cost.cheap(name)
    for _ in range(5):
        cost.learn(name, cost.INLINE_BELOW * 10)  # really slow now
    assert not cost.cheap(name)
    assert cost.estimate(name) > cost.INLINE_BELOW


def test_a_bad_environment_value_is_an_error_naming_the_variable_where_it_is_used(
        monkeypatch):
    import pytest

    monkeypatch.setattr(cost, "_settings", {})
    monkeypatch.setenv("XCS_DISPATCH_COST", "fast")
    with pytest.raises(ValueError, match=r"XCS_DISPATCH_COST='fast' must be a duration"):
        assert cost.DISPATCH_COST is None
    monkeypatch.setenv("XCS_DISPATCH_COST", "2e-5")
    assert cost.DISPATCH_COST == 2e-5
