"""``pytest-xcs compare A.json B.json --fail=speedup:10%``: compare two stored runs.

For CI steps that run after the tests.  Exit status: 0 no regression, 1 one
or more regressions, 2 bad usage or an unreadable file.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from pytest_xcs import baseline
from pytest_xcs.options import threshold
from pytest_xcs.tables import regression_table


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pytest-xcs", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    cmp = sub.add_parser("compare", help="compare a run (B) against a baseline (A)")
    cmp.add_argument("baseline", type=Path, help="the earlier run (e.g. .xcs/baseline.json)")
    cmp.add_argument("current", type=Path, help="the run to check (e.g. from --xcs-json)")
    cmp.add_argument("--fail", type=threshold, action="append", metavar="METRIC:PCT",
                     help="fail when METRIC drops more than PCT (repeatable; "
                     "default speedup:10%%)")
    args = parser.parse_args(argv)
    try:
        old, new = baseline.load(args.baseline), baseline.load(args.current)
    except baseline.BaselineError as exc:
        print(f"pytest-xcs: {exc}", file=sys.stderr)
        return 2
    regressions, notes = baseline.compare(old, new, args.fail or [threshold("speedup:10%")])
    for note in notes:
        print(f"note: {note}")
    if regressions:
        print(regression_table(regressions))
        print(f"{len(regressions)} regression(s)")
        return 1
    print(f"no regressions ({len(set(old['tests']) & set(new['tests']))} tests compared)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
