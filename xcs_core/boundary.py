"""What crosses the jit boundary on the way out: concrete values, or a failure raised at
its call site.

``runtime.run`` ends every jitted (and ``tracing`` every traced) call here:

* ``settle``: the returned value, every container a pending value was stored into
  (``Context.escapes``) and what the caller can reach (the call's arguments) hold
  concrete values only; nothing pending escapes.  After a failure
  (``settle_after_failure``) the values that were computed are put in place and a
  value whose call failed stays a stand-in: plain Python would never have stored it.
* ``at_call_site``: a failed call's exception, with the user's call-site frame in its
  traceback and, for a call made while an exception was handled, that one as its
  context, as plain Python gives it.
* ``explain_escape``: a ``TypeError`` from C code that got a stand-in names the line
  and the fix.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from xcs_core import sites, walk
from xcs_core.nodes import DONE, Node, fetch_values, resolve, value_of
from xcs_core.values import Traced

if TYPE_CHECKING:
    from xcs_core.runtime import Context

__all__ = ["at_call_site", "explain_escape", "fetch_inside", "settle", "settle_after_failure"]


def settle(ctx: Context, out: Any, reached: tuple = ()) -> Any:
    """At the boundary: ``out``, every container a pending value was stored into, and
    what the caller can reach (``reached``: the call's arguments), with concrete
    values only: nothing pending escapes a jitted or traced call."""
    if not ctx.made_pending:  # no stand-in was ever handed out: none can be anywhere
        return out
    if ctx.sched is not None and ctx.sched.starts_calls:
        fetch_inside((out, *ctx.escapes.values(), reached))
    _put_in_place(ctx, reached, resolve)
    return resolve(out)


def settle_after_failure(ctx: Context, reached: tuple) -> None:
    """``settle`` when the call raised: values that were computed are put in place; a
    value whose call failed stays a stand-in (plain Python would never have stored it)."""
    _put_in_place(ctx, reached, lambda container: walk.resolve(container, _value_if_done))


def _put_in_place(ctx: Context, reached: tuple, resolve_one: Callable[[Any], Any]) -> None:
    for container in (*ctx.escapes.values(), *reached):
        resolve_one(container)
    ctx.escapes.clear()


def _value_if_done(proxy: Traced) -> Any:
    node = proxy._xcs_node
    return value_of(node) if node.state == DONE else proxy


def fetch_inside(obj: Any) -> None:
    """Fetch the values kept remote of the finished stand-ins inside ``obj`` in one round
    trip per executor (``remote.fetch``), before they are read one by one."""
    found: dict[int, Node] = {}
    walk.collect(obj, found)
    if len(found) > 1:
        fetch_values(found.values())


def explain_escape(error: TypeError) -> None:
    """Tell the user which line handed a pending result to type-checking C code."""
    tb, site = error.__traceback__, "<unknown>"
    while tb is not None:
        if not sites._internal(tb.tb_frame.f_code.co_filename):
            site = f"{sites.short_path(tb.tb_frame.f_code.co_filename)}:{tb.tb_lineno}"
        tb = tb.tb_next
    note = (f"xcs: at {site} a result that was still being computed reached code that checks "
            "exact types (C code such as str.join or json cannot wait for it). Pass it "
            "through xcs.value(...) first, e.g. ', '.join(xcs.value(answers)), or do this "
            "step inside an @xcs.op.")
    if hasattr(error, "add_note"):
        error.add_note(note)
    else:  # Python 3.10
        error.args = (f"{error.args[0] if error.args else ''}\n{note}",) + error.args[1:]


def at_call_site(node: Node) -> BaseException:
    """The node's exception, with the user's call-site frame in its traceback.  A call
    made while an exception was being handled (in an ``except`` block) and that raised
    without one of its own has that exception as its context, as plain Python gives it
    ("During handling of the above exception, another exception occurred")."""
    exc = node.exc
    if node.frame is not None:
        frame, lasti, line, handling = node.frame
        exc = exc.with_traceback(types.TracebackType(exc.__traceback__, frame, lasti, line))
        if exc.__context__ is None and handling is not None and handling is not exc:
            exc.__context__ = handling
        node.frame = None
    return exc
