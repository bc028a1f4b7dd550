"""The cost model: what a call is expected to cost, and what dispatching one costs.

One place for every number that decides how work runs or what the analysis
predicts:

Both settings are read from the environment on first use; a bad value is an error
naming the variable, raised there (never at import).

* ``INLINE_BELOW`` (``XCS_INLINE_BELOW``, seconds): a leaf call known to take
  less runs inline on the calling thread; handing it to a worker would cost
  more than running it.
* ``DISPATCH_COST`` (``XCS_DISPATCH_COST``, seconds): the serial cost of
  dispatching one call, used by the predicted speedup.
* Running averages of each callable's measured duration (``learn``), which
  drive priorities (``estimate``) and the inline decision (``cheap``).  The
  decision is stable: a callable becomes inline only after ``_SAMPLES``
  measurements averaging below the threshold, and returns to dispatch only
  when its average rises above twice the threshold, so one noisy sample never
  flips it.  Ops with a batch form are never inlined (``always_dispatch``):
  for them a batched request, not an inline call, is the fast path.
"""

from __future__ import annotations

from xcs_core import env

__all__ = ["DISPATCH_COST", "INLINE_BELOW", "always_dispatch", "cheap", "estimate",  # noqa: F822
           "learn"]


_settings: dict[str, float] = {}


def _setting(name: str) -> float:
    """``INLINE_BELOW`` / ``DISPATCH_COST``, read from the environment on first use (so a
    bad value stops the first jitted call or analysis, never an import)."""
    found = _settings.get(name)
    if found is None:
        found = _settings[name] = env.duration(*_DEFAULTS[name])
    return found


_DEFAULTS = {"INLINE_BELOW": ("XCS_INLINE_BELOW", 50e-6,
                              "calls known to be faster run inline"),
             "DISPATCH_COST": ("XCS_DISPATCH_COST", 40e-6,
                               "the serial cost of one dispatch in predictions")}


def __getattr__(name: str) -> float:
    if name in _DEFAULTS:
        return _setting(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


DEFAULT_ESTIMATE = 1e-3  # a callable never measured is assumed slow: it is dispatched
_SAMPLES = 3
#: each callable's running-average duration (``estimate``; read directly where hot)
AVERAGES: dict[str, float] = {}
_counts: dict[str, int] = {}
#: the callables known to run faster than a dispatch (``cheap``; read directly where hot)
INLINE: set[str] = set()
_never_inline: set[str] = set()


def always_dispatch(target: str) -> None:
    """Never run calls of ``target`` inline (an op with a batch form)."""
    _never_inline.add(target)
    INLINE.discard(target)


def learn(target: str, seconds: float) -> None:
    """Fold one measured duration into the running average for ``target``."""
    old = AVERAGES.get(target)
    average = seconds if old is None else 0.7 * old + 0.3 * seconds
    AVERAGES[target] = average
    count = _counts.get(target, 0)
    if count < _SAMPLES:  # only "enough samples yet?" is asked of it
        count = _counts[target] = count + 1
    threshold = _settings.get("INLINE_BELOW") or _setting("INLINE_BELOW")
    if target in INLINE:
        if average > 2 * threshold:
            INLINE.discard(target)
    elif count >= _SAMPLES and average < threshold and target not in _never_inline:
        INLINE.add(target)


def cheap(target: str) -> bool:
    """True when ``target`` is known to run faster than a dispatch to a worker costs."""
    return target in INLINE


def estimate(target: str) -> float:
    """Expected duration of one call of ``target`` (seconds)."""
    return AVERAGES.get(target, DEFAULT_ESTIMATE)
