"""pytest wiring for xcs (entry point ``pytest11``: ``xcs``; ``-p no:xcs`` disables it).

Only hooks live here; running, measuring, tables, storage and settings each
have their own module.

Every pytest run of a project that installs the package loads this module, so
it imports neither ``xcs_core`` nor the modules that need it (``runner``,
``tables``), nor those that only marked tests, comparisons or output files need
(``asyncs``, ``gate``, ``stats``, ``results``, ``baseline``): they are imported when
a marked test runs, an xcs option is used or a result is reported
(``tests/test_plugin_lazy.py``).
"""

from __future__ import annotations

import inspect
import os
import sys

import pytest

from pytest_xcs import startup
from pytest_xcs import state as state_module
from pytest_xcs.options import (
    duration,
    executor_name,
    marker_args,
    marker_leaves,
    positive_int,
    threshold,
)

STATE = pytest.StashKey[state_module.XcsState]()
MARKER = "xcs_parallel"
MARKER_DOC = (f"{MARKER}(min_speedup=None, min_parallelism=None, rounds=None, workers=None, "
              "leaves=None): trace this test with xcs; report and check its parallelism; "
              "leaves=[...] makes calls of those callees leaf calls")


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from pytest_xcs import hooks

    pluginmanager.add_hookspecs(hooks)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("xcs", "xcs: parallelism of @pytest.mark.xcs_parallel tests")
    group.addoption("--xcs-report", action="store_true", default=None,
                    help="print the parallel opportunities of marked tests")
    group.addoption("--xcs-ab", action="store_true", default=None,
                    help="time marked tests sequentially (A) and in parallel (B)")
    group.addoption("--xcs-rounds", type=positive_int, default=None, metavar="N",
                    help="timed A/B rounds per side after one warm-up (default 10)")
    group.addoption("--xcs-noise-floor", type=duration, default=None, metavar="DURATION",
                    help="speedup gates fire only when the parallel side misses its target "
                    "time by more than this (default 1ms; e.g. 5ms, 0.01s)")
    group.addoption("--xcs-executor", type=executor_name, default=None, metavar="NAME",
                    help="executor of the parallel side (default threads)")
    group.addoption("--xcs-workers", type=positive_int, default=None, metavar="N",
                    help="max_workers of the parallel side")
    group.addoption("--xcs-dask-scheduler", default=None, metavar="ADDRESS",
                    help="Dask scheduler address for --xcs-executor dask (default: start a "
                    "LocalCluster; also XCS_DASK_SCHEDULER)")
    group.addoption("--xcs-profile", action="store_true", default=None,
                    help="write pyinstrument profiles of one sequential and one parallel run")
    group.addoption("--xcs-artifacts", default=None, metavar="DIR",
                    help="folder for profiles and timelines (default .xcs/artifacts)")
    group.addoption("--xcs-json", default=None, metavar="PATH",
                    help="write all xcs results as JSON to PATH")
    group.addoption("--xcs-markdown", default=None, metavar="PATH",
                    help="write a Markdown summary to PATH (also appended to "
                    "$GITHUB_STEP_SUMMARY when that is set)")
    group.addoption("--xcs-save-baseline", nargs="?", const="baseline", default=None,
                    metavar="NAME", help="store results as baseline NAME (default 'baseline')")
    group.addoption("--xcs-compare", nargs="?", const="baseline", default=None,
                    metavar="NAME", help="compare results with baseline NAME")
    group.addoption("--xcs-compare-fail", type=threshold, action="append", default=None,
                    metavar="METRIC:PCT", help="fail when METRIC drops more than PCT below "
                    "the baseline, e.g. parallelism:10%% (repeatable; default parallelism:10%%)")
    group.addoption("--xcs-baseline-dir", default=None, metavar="DIR",
                    help="folder of baselines (default .xcs)")
    for name, kind, doc in (
            ("xcs_report", "bool", "like --xcs-report"), ("xcs_ab", "bool", "like --xcs-ab"),
            ("xcs_rounds", "string", "like --xcs-rounds"),
            ("xcs_noise_floor", "string", "like --xcs-noise-floor"),
            ("xcs_executor", "string", "like --xcs-executor"),
            ("xcs_workers", "string", "like --xcs-workers"),
            ("xcs_profile", "bool", "like --xcs-profile"),
            ("xcs_artifacts", "string", "like --xcs-artifacts"),
            ("xcs_baseline_dir", "string", "like --xcs-baseline-dir"),
            ("xcs_compare_fail", "linelist", "like --xcs-compare-fail, one per line")):
        parser.addini(name, doc, type=kind, default=None)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_DOC)
    if config.getoption("xcs_dask_scheduler"):
        os.environ["XCS_DASK_SCHEDULER"] = config.getoption("xcs_dask_scheduler")
    state = config.stash[STATE] = state_module.from_config(config)
    if not hasattr(config, "workerinput"):
        startup.check(state)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A bad ``leaves=`` in the marker is a collection error of that test."""
    for item in list(items):
        marker = item.get_closest_marker(MARKER)
        if marker is None or "leaves" not in marker.kwargs:
            continue
        try:
            marker_leaves(marker.kwargs["leaves"])
        except ValueError as exc:
            items.remove(item)
            config.hook.pytest_collectreport(report=pytest.CollectReport(
                item.nodeid, "failed", f"{item.nodeid}: {exc}", []))


def pytest_runtest_setup(item: pytest.Item) -> None:
    marker = item.get_closest_marker(MARKER)
    if marker is not None:
        try:
            marker_args(marker.args, marker.kwargs)
        except ValueError as exc:
            pytest.fail(f"{item.nodeid}: {exc}", pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """An anyio test marked ``xcs_parallel`` is run by ``pytest_pyfunc_call`` below."""
    if item.get_closest_marker(MARKER) is None:
        return (yield)
    from pytest_xcs import asyncs

    with asyncs.hold_anyio(item):
        return (yield)


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    marker = pyfuncitem.get_closest_marker(MARKER)
    if marker is None:
        return None
    from pytest_xcs import asyncs

    aio = asyncs.async_test(pyfuncitem)
    fn = pyfuncitem.obj if aio is None else aio.fn
    if aio is None and inspect.iscoroutinefunction(fn):
        return None  # no async plugin runs it: pytest says so
    from pytest_xcs.runner import run_marked

    state = pyfuncitem.config.stash[STATE]
    args = marker_args(marker.args, marker.kwargs)
    params = inspect.signature(fn).parameters
    kwargs = {name: pyfuncitem.funcargs[name] for name in params if name in pyfuncitem.funcargs}
    result = run_marked(fn, kwargs, pyfuncitem.nodeid, state.settings_for(args), aio)
    state.results[pyfuncitem.nodeid] = result
    for key, value in result.metrics().items():
        pyfuncitem.user_properties.append((f"xcs_{key}", value))
    pyfuncitem.config.hook.pytest_xcs_result(item=pyfuncitem, result=result)
    failure = state.check(result, args)
    if failure:
        pytest.fail(failure, pytrace=False)
    return True


@pytest.hookimpl(wrapper=True)
def pytest_assertrepr_compare(config: pytest.Config, op: str, left: object, right: object):
    """Explain failed comparisons of pending xcs results with their concrete values.

    pytest's own explanation passes the operands to C code (``unicodedata``)
    that rejects stand-ins, so with stand-in operands the explanation is
    asked for again with the concrete values.  Without ``xcs_core.values`` loaded
    nothing is pending.
    """
    values = sys.modules.get("xcs_core.values")
    if values is None or not (values.is_traced(left) or values.is_traced(right)):
        return (yield)
    from xcs_core.api import value as xcs_value

    try:
        yield
    except Exception:  # noqa: BLE001 - replaced by the explanation below
        pass
    return config.hook.pytest_assertrepr_compare(
        config=config, op=op, left=xcs_value(left), right=xcs_value(right))


@pytest.hookimpl(wrapper=True)
def pytest_runtestloop(session: pytest.Session):
    outcome = yield
    state = session.config.stash[STATE]
    if hasattr(session.config, "workerinput"):  # xdist worker: the controller reports
        session.config.workeroutput["xcs_results"] = [
            r.to_dict() for r in state.results.values()]
        session.config.workeroutput["xcs_ab_skipped"] = state.ab_skipped
        return outcome
    if state.active and (state.results or state.compare_name):
        _finish(session, state)
    return outcome


def _finish(session: pytest.Session, state: state_module.XcsState) -> None:
    """Compare and write files; a failed comparison counts as a failure of the run."""
    from pytest_xcs import gate

    try:
        state.finish()
    except gate.GateError as exc:
        raise pytest.UsageError(f"--xcs-compare-fail: {exc}") from None
    except OSError as exc:
        raise pytest.UsageError(f"xcs: cannot write {exc.filename or 'an output file'} "
                                f"({exc.strerror or exc}); choose a writable path") from None
    if state.comparison is not None and state.comparison.failed:
        session.testsfailed += 1
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:  # the summary line counts them: "3 passed, 1 xcs regression"
            found = state.comparison.regressions
            key = "xcs regression" if len(found) == 1 else "xcs regressions"
            reporter.stats.setdefault(key if found else "xcs comparison failed",
                                      []).extend(found or [state.comparison])


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    output = getattr(node, "workeroutput", {}) or {}
    state = node.config.stash[STATE]
    state.ab_skipped = state.ab_skipped or bool(output.get("xcs_ab_skipped"))
    for data in output.get("xcs_results", []):
        state.results[data["nodeid"]] = state_module.result_from_dict(data)


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    state = config.stash[STATE]
    write = terminalreporter.write_line
    if state.results and (state.report or state.run.ab or state.run.profile):
        from pytest_xcs.tables import report_lines

        terminalreporter.section("xcs parallelism")
        for line in report_lines(list(state.results.values()), config.getoption("verbose")):
            write(line)
    if state.ab_skipped:
        write(state_module.XDIST_AB_OFF)
    comparison = state.comparison
    if comparison is not None and comparison.regressions:
        from pytest_xcs.tables import regression_table

        terminalreporter.section("xcs regressions", red=True)
        write(regression_table(comparison.regressions))
    for note in state.notes:
        write(note)
    if comparison is not None:
        write(comparison.verdict(), red=comparison.failed, green=not comparison.failed)
