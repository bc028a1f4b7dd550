"""The warning and the internal signal that the rest of xcs shares."""

from __future__ import annotations

__all__ = ["DeferredFailure", "XcsWarning"]


class XcsWarning(UserWarning):
    """xcs runs some code as plain sequential Python, and says what that costs."""


class DeferredFailure(BaseException):
    """Carries a failed leaf call out of user code to the jit boundary.

    It derives from ``BaseException`` so that ``except Exception`` blocks that
    plain Python would never have entered (the call raised earlier, at its own
    line) do not swallow it.  The jit boundary re-raises the original error.
    """
