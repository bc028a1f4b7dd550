"""A child process that checks programs, so that a hung jitted run cannot stall the suite.

The parent (``Runner``) sends ``(program, max_workers, tries, timeout)`` as a pickle; the child
runs ``harness.check`` and answers with the report (exceptions replaced by their text).  When
the jitted run hangs, its threads cannot be stopped, so the child answers and then exits; the
parent starts a fresh one for the next program.  If the child does not answer at all (it hung
outside the per-run timeout, or died), the parent kills it and reports a hang.
"""

from __future__ import annotations

import os
import pickle
import struct
import subprocess
import sys
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(os.path.abspath(__file__)).parents[2]  # not resolved: a linked copy tests its own tree


def _send(stream: Any, obj: Any) -> None:
    data = pickle.dumps(obj)
    stream.write(struct.pack("!I", len(data)) + data)
    stream.flush()


def _recv(stream: Any) -> Any:
    head = stream.read(4)
    if len(head) < 4:
        raise EOFError
    (size,) = struct.unpack("!I", head)
    return pickle.loads(stream.read(size))


def _portable(report: Any) -> Any:
    """The report without live exception objects (they may not pickle)."""
    for outcome in (report.plain, report.jit):
        exc = outcome.raw_error
        if exc is not None:
            outcome.raw_error = None
            outcome.traceback = "".join(
                traceback.format_exception(type(exc), exc, exc.__traceback__))[-4000:]
    return report


def main() -> None:
    from tests.differential import harness

    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # programs that print cannot corrupt the channel
    while True:
        try:
            prog, max_workers, tries, timeout, strict = _recv(stdin)
        except EOFError:
            return
        try:
            report = _portable(harness.check(prog, max_workers, tries, timeout, strict))
            answer = ("ok", report)
        except BaseException as exc:  # noqa: BLE001 - the harness itself failed
            answer = ("error", "".join(traceback.format_exception(type(exc), exc,
                                                                   exc.__traceback__)))
        _send(stdout, answer)
        if answer[0] == "ok" and answer[1].jit.hang:
            os._exit(0)  # its threads are stuck; the parent starts a fresh child


class Runner:
    """Checks programs in a child process, one at a time."""

    def __init__(self, python: str = sys.executable, cwd: Path = ROOT) -> None:
        self.python, self.cwd = python, cwd
        self.proc: subprocess.Popen | None = None

    def _start(self) -> subprocess.Popen:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            [str(self.cwd)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
        return subprocess.Popen([self.python, "-m", "tests.differential.worker"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                cwd=self.cwd, env=env)

    def check(self, prog: Any, max_workers: Any = ..., tries: int = 1,
              timeout: float | None = None, strict: bool | None = None) -> Any:
        from tests.differential import harness

        per_run = harness.TIMEOUT if timeout is None else timeout
        if self.proc is None or self.proc.poll() is not None:
            self.proc = self._start()
        proc = self.proc
        _send(proc.stdin, (prog, max_workers, tries, timeout, strict))
        answer = _read_with_timeout(proc, per_run * (tries + 2) + 30)
        if answer is None:
            self.close()
            return harness.Report(prog, harness.Difference("hang", "returns", "no answer"),
                                  harness.Outcome(), harness.Outcome(hang=True), None)
        kind, payload = answer
        if kind == "error":
            raise RuntimeError(f"the differential harness failed on seed {prog.seed}:\n"
                               f"{payload}")
        if payload.jit.hang:
            self.close()
        return payload

    def close(self) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()
            for stream in (self.proc.stdin, self.proc.stdout):
                stream.close()
            self.proc = None


def _read_with_timeout(proc: subprocess.Popen, timeout: float) -> Any:
    import selectors

    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout):
            return None
    try:
        return _recv(proc.stdout)
    except (EOFError, pickle.UnpicklingError):
        return None


if __name__ == "__main__":
    main()
