"""``import xcs_core`` is cheap: the public names are imported on first use
(``xcs_core.__getattr__``), so neither the engine nor the standard-library modules it
needs are loaded by the import itself.  Structural checks only: timings flake.

The subprocesses run without ``site`` (``-S``), so that what an installed package's
start-up hook imports (an editable install imports ``re`` and ``pathlib``) does not hide
what ``import xcs_core`` imports.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import xcs_core

ROOT = Path(__file__).resolve().parents[1]

#: Standard-library modules that ``import xcs_core`` loaded before they were deferred.
DEFERRED_STDLIB = ("ast", "copy", "dataclasses", "dis", "inspect", "json", "linecache", "queue",
                   "re", "sysconfig", "threading", "tokenize", "typing")


def _newly_imported(code: str, path: Path = ROOT) -> list[str]:
    """The modules that ``code`` imports in a fresh interpreter started without ``site``
    (``path`` and the repository on ``sys.path``)."""
    script = (f"import sys; sys.path[:0] = [{str(path)!r}, {str(ROOT)!r}]\n"
              f"before = set(sys.modules)\n{code}\n"
              "found = sorted(set(sys.modules) - before)\n"
              "import json; print(json.dumps(found))")
    done = subprocess.run([sys.executable, "-S", "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_import_xcs_core_loads_no_engine_and_no_heavy_stdlib_module():
    found = _newly_imported("import xcs_core")
    assert [m for m in found if m.startswith("xcs_core.")] == []
    assert [m for m in DEFERRED_STDLIB if m in found] == []


def test_formatting_helpers_load_no_engine():
    """The pytest plugin formats times and paths with ``xcs_core.report``."""
    found = _newly_imported("import xcs_core.report")
    assert [m for m in found if m.startswith("xcs_core.")] == ["xcs_core.report"]


def test_first_use_of_a_public_name_imports_its_module():
    found = _newly_imported("import xcs_core; xcs_core.jit")
    assert {"xcs_core.api", "xcs_core.runtime"} <= set(found)
    assert "xcs_core.analysis" not in found  # nor what only reports need


def test_every_public_name_is_an_attribute_and_importable():
    for name in xcs_core.__all__:
        found = getattr(xcs_core, name)
        assert getattr(importlib.import_module(found.__module__), name) is found, name
    assert set(xcs_core.__all__) <= set(dir(xcs_core))
    namespace: dict[str, object] = {}
    exec("from xcs_core import *", namespace)  # noqa: S102 - the star import itself
    assert set(xcs_core.__all__) <= set(namespace)


def test_unknown_names_raise_attribute_error_and_submodules_still_import():
    try:
        xcs_core.no_such_name  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("expected AttributeError")
    from xcs_core import cost, report

    assert cost.__name__ == "xcs_core.cost" and report.__name__ == "xcs_core.report"


def test_leaves_work_when_only_the_tracer_was_imported(tmp_path):
    """``leaves=`` turns callees into ``xcs.op`` calls: it imports ``xcs_core.ops`` itself."""
    (tmp_path / "asking.py").write_text("def ask(p):\n    return p * 2\n\n\n"
                                        "def both():\n    return [ask(1), ask(2)]\n")
    found = _newly_imported(
        "from asking import ask, both\n"
        "from xcs_core.leaves import Leaves\n"
        "from xcs_core.tracing import trace_call\n"
        "traced = trace_call(both, leaves=Leaves([ask]))\n"
        "assert traced.outputs == [2, 4], traced.outputs\n"
        "assert sum(op.kind.value == 'call' for op in traced.graph) == 2", tmp_path)
    assert "xcs_core.ops" in found
