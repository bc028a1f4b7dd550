"""``pytest-xcs compare A.json B.json --fail=parallelism:10%``: compare two stored runs.

For CI steps that run after the tests.  Prints one line saying what was compared
and the verdict.  Exit status: 0 no regression, 1 one or more regressions or no
test in common, 2 bad usage, an unreadable file or a gated metric missing.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from pytest_xcs import baseline, gate
from pytest_xcs.options import threshold
from pytest_xcs.tables import regression_table


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pytest-xcs",
                                     description="Compare stored pytest-xcs runs.")
    sub = parser.add_subparsers(dest="command", required=True)
    cmp = sub.add_parser("compare", help="compare a run (B) against a baseline (A)")
    cmp.add_argument("baseline", type=Path, help="the earlier run (e.g. .xcs/baseline.json)")
    cmp.add_argument("current", type=Path, help="the run to check (e.g. from --xcs-json)")
    cmp.add_argument("--fail", type=threshold, action="append", metavar="METRIC:PCT",
                     help="fail when METRIC drops more than PCT (repeatable; "
                     f"default {str(gate.DEFAULT_GATE).replace('%', '%%')})")
    return parser


def _file_fix(path: Path):
    def fix(metric: str) -> str:
        flag = f"{gate.MEASURED[metric]} " if metric in gate.MEASURED else ""
        return f"write {path} again with pytest {flag}--xcs-json {path}"
    return fix


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        old, new = baseline.load(args.baseline), baseline.load(args.current)
        result = gate.compare(old, new, args.fail or [gate.DEFAULT_GATE],
                              f"baseline {args.baseline}",
                              (_file_fix(args.baseline), _file_fix(args.current)))
    except (baseline.BaselineError, gate.GateError) as exc:
        print(f"pytest-xcs: {exc}", file=sys.stderr)
        return 2
    for note in result.notes:
        print(f"note: {note}")
    if result.regressions:
        print(regression_table(result.regressions))
    print(result.verdict())
    return 1 if result.failed else 0


if __name__ == "__main__":
    sys.exit(main())
