"""xcs demo: trace the shipped ensemble, report its parallelism, run it both ways."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import textwrap
import time
from collections.abc import Sequence
from pathlib import Path

import xcs_core as xcs
from xcs_core.report import (
    display_path,
    format_seconds,
    pattern_lines,
    summary_row,
    summary_table,
    sync_table,
)


def _timed(fn, *args, rounds: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(rounds):
        start = time.perf_counter()
        out = fn(*args)
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def demo(models: int = 8, rounds: int = 3) -> int:
    """Trace, analyze and run the embedded ensemble example; print the report."""
    from xcs_core.examples import ensemble

    program = ensemble.build(models)
    result = xcs.trace(program.forward, "what is xcs?")
    analysis = xcs.analyze(result.graph)
    print("Embedded example: xcs_core/examples/ensemble.py "
          f"({models} model calls of {format_seconds(ensemble.LATENCY)}, then a judge)\n")
    print(result.graph, "\n")
    print(summary_table([summary_row("Ensemble.forward", analysis.summary())]))
    patterns = pattern_lines(analysis.summary())
    if patterns:
        print("\npatterns:\n" + "\n".join(patterns))
    blocking = sync_table(analysis)
    if blocking:
        print("\nserialization points:\n" + blocking)
    with xcs.execution(executor="sequential"):
        seq_time, seq_out = _timed(program, "what is xcs?", rounds=rounds)
    par_time, par_out = _timed(program, "what is xcs?", rounds=rounds)
    print(f"\nsequential: {format_seconds(seq_time)}   parallel (threads): "
          f"{format_seconds(par_time)}   (medians of {rounds})\n"
          f"measured speedup: {seq_time / par_time:.2f}x   "
          f"predicted: {analysis.speedup_bound:.2f}x")
    if seq_out != par_out:
        print(f"MISMATCH: sequential {seq_out!r} != parallel {par_out!r}", file=sys.stderr)
        return 1
    print(f"same result both ways: {par_out!r}")
    return 0


def plugin_demo(rounds: int = 3) -> int:
    """Run the shipped example tests under the pytest plugin (report + A/B timing)."""
    import pytest

    from xcs_core import examples

    folder = str(Path(examples.__file__).parent)
    # Installed as a package (not editable), pytest would warn that xcs_core was imported
    # before it could rewrite its asserts; xcs_core has none that need it.
    args = [folder, "--xcs-report", "--xcs-ab", "--xcs-rounds", str(rounds), "-q",
            "-p", "no:cacheprovider", "-o", "addopts=", "--rootdir", folder,
            "-W", "ignore::pytest.PytestAssertRewriteWarning",
            "--xcs-artifacts", str(Path(".xcs", "artifacts").resolve())]
    shown = " ".join(display_path(a) if a.startswith(os.sep) else a for a in args)
    print("\n$ pytest " + textwrap.fill(shown, width=90, subsequent_indent="    ",
                                         break_on_hyphens=False).replace("\n", " \\\n")
          + "\n", flush=True)
    return int(pytest.main(args))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="xcs", description="Automatic parallelism for ordinary Python code.",
        epilog="xcs demo traces the shipped ensemble example, reports its parallelism, runs "
        "it sequentially and in parallel, then runs the example tests under the pytest plugin.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("demo", help="trace, report and run the embedded ensemble example")
    run.add_argument("--models", type=int, default=8, help="number of model calls (default 8)")
    run.add_argument("--rounds", type=int, default=3, help="timed rounds per side (default 3)")
    run.add_argument("--no-plugin", action="store_true",
                     help="skip running the example tests under the pytest plugin")
    args = parser.parse_args(argv)
    status = demo(args.models, args.rounds)
    if status == 0 and not args.no_plugin:
        status = plugin_demo(args.rounds)
    return status


if __name__ == "__main__":
    sys.exit(main())
