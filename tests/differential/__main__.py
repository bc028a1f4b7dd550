"""A census of differences between plain Python and ``@xcs.jit`` over many programs.

    python -m tests.differential --programs 1000 [--start 0] [--jobs 2] [--shrink]
        [--python /path/to/python] [--timeout 5] [--json out.json] [--async-only]
        [--only TEMPLATE] [--lenient]

Each difference is grouped by its cause (the first observable that differs, with the jit
side's exception normalised); with ``--shrink`` one program per cause is reduced to the
statements that still fail and printed.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import threading
import time

from tests.differential.generator import KNOWN_TEMPLATES, generate
from tests.differential.shrink import shrink
from tests.differential.worker import Runner

_DELEGATED = "XCS_DIFF_DELEGATED"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.differential")
    ap.add_argument("--programs", type=int, default=200)
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--shrink", action="store_true")
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--timeout", type=float, default=None, help="seconds per jitted run")
    ap.add_argument("--json", default=None)
    ap.add_argument("--async-only", action="store_true", help="only async programs")
    ap.add_argument("--only", default=None, help="force this template into every program")
    ap.add_argument("--lenient", action="store_true",
                    help="tolerate what the test tolerates after an uncaught failure "
                         "(default: report it, under its own cause)")
    args = ap.parse_args(argv)
    if args.only is not None and args.only not in KNOWN_TEMPLATES:
        ap.error(f"--only {args.only!r}: no such template (a census of it would test "
                 f"nothing); choose one of: {', '.join(KNOWN_TEMPLATES)}")
    if os.path.abspath(args.python) != sys.executable and not os.environ.get(_DELEGATED):
        # the generator writes what its own Python parses (``except*`` on 3.11+), so the
        # census runs under the Python it checks
        rest = sys.argv[1:] if argv is None else argv
        env = {**os.environ, _DELEGATED: "1"}
        return subprocess.call([args.python, "-m", "tests.differential", *rest], env=env)

    seeds = list(range(args.start, args.start + args.programs))
    reports: dict[int, object] = {}
    lock = threading.Lock()
    started = time.time()

    def work(runner: Runner) -> None:
        while True:
            with lock:
                if not seeds:
                    return
                seed = seeds.pop(0)
            prog = generate(seed, is_async=True if args.async_only else None, only=args.only)
            report = runner.check(prog, timeout=args.timeout, strict=not args.lenient)
            with lock:
                reports[seed] = report

    runners = [Runner(args.python) for _ in range(args.jobs)]
    threads = [threading.Thread(target=work, args=(r,)) for r in runners]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    groups: dict[str, list] = collections.defaultdict(list)
    for seed in sorted(reports):
        r = reports[seed]
        if r.diff is not None:
            groups[r.diff.key()].append(r)
    failing = sum(len(v) for v in groups.values())
    print(f"{failing} of {len(reports)} programs differ "
          f"({time.time() - started:.0f} s, python {args.python})")
    for key, rs in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        kinds = collections.Counter("async" if r.prog.is_async else "sync" for r in rs)
        print(f"  {len(rs):5d}  {key}   [{', '.join(f'{k} {v}' for k, v in kinds.items())}]"
              f"  seeds {[r.prog.seed for r in rs[:6]]}")

    out = {"programs": len(reports), "differ": failing,
           "groups": {k: [r.prog.seed for r in v] for k, v in groups.items()}, "shrunk": {}}
    if args.shrink:
        runner = runners[0]
        for key, rs in sorted(groups.items(), key=lambda kv: -len(kv[1])):
            smallest = min(rs[:8], key=lambda r: len(r.prog.stmts))
            small = shrink(smallest.prog, key, lambda p, tries: runner.check(
                p, tries=tries, timeout=min(args.timeout or 3, 3), strict=not args.lenient))
            final = runner.check(small, tries=3, strict=not args.lenient)
            print(f"\n=== {key}  (seed {small.seed}, {len(small.stmts)} statements, "
                  f"features: {', '.join(small.features)})")
            print(small.body().rstrip())
            if final.diff is not None:
                print(str(final.diff)[:1200])
            out["shrunk"][key] = {"seed": small.seed, "is_async": small.is_async,
                                  "args": small.args,
                                  "features": small.features, "body": small.body(),
                                  "diff": None if final.diff is None else str(final.diff)}
    for r in runners:
        r.close()
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
