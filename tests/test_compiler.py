"""The compiling front end: what compiled code keeps of the source, and what it forces."""

import ast
import time
import traceback
import warnings

import pytest

import xcs_core as xcs
from tests.concurrency import InFlight
from xcs_core import compiler

flight = InFlight()


@xcs.op
def slow(x):
    flight.enter()
    time.sleep(0.02)
    flight.leave()
    if x == "boom":
        raise ValueError("boom")
    return x


def peak_of(fn, *args, expected=1):
    return flight.peak_of(expected, fn, *args)


def test_closures_nonlocal_defaults_and_kwdefaults_keep_working():
    count = 0

    def bump(x, step=1, *, scale=2):
        nonlocal count
        count += step
        return slow(x) * scale

    @xcs.jit
    def run(n):
        return [bump(i) for i in range(n)] + [bump(10, step=5, scale=1)]

    out, peak = peak_of(run, 4, expected=4)
    assert out == [0, 2, 4, 6, 10] and count == 9
    assert peak >= 4  # the helper's calls still run at once


class Base:
    def describe(self, x):
        return ("base", x)


class Child(Base):
    def __init__(self):
        self.__secret = "s"  # mangled to _Child__secret

    def describe(self, x):
        return super().describe(slow(x)) + (self.__secret,)

    @xcs.jit
    def run(self, items):
        return [self.describe(i) for i in items]


def test_methods_super_and_private_names_compile():
    out, peak = peak_of(Child().run, ["a", "b", "c"], expected=3)
    assert out == [("base", x, "s") for x in "abc"]
    assert peak == 3


def test_decorators_are_not_applied_twice():
    applied = []

    def tag(fn):
        applied.append(fn.__name__)
        return fn

    @xcs.jit
    @tag
    def run():
        return slow(1)

    assert run() == 1 and run() == 1
    assert applied == ["run"]


def test_lambdas_nested_functions_and_generators_are_compiled_too():
    @xcs.jit
    def run(n):
        double = lambda v: slow(v) * 2  # noqa: E731

        def gen():
            for i in range(n):
                yield slow(i)

        return [double(i) for i in range(n)], list(gen()), sorted(map(double, range(n)))

    out, peak = peak_of(run, 3, expected=3)
    assert out == ([0, 2, 4], [0, 1, 2], [0, 2, 4])
    assert peak >= 3


G = {}
STORE = []


def test_stores_into_globals_attributes_and_outside_containers_leave_concrete_values():
    class Box:
        pass

    box = Box()

    @xcs.jit
    def run():
        global G
        G = {"k": slow("v")}
        box.value = slow("attr")
        STORE.append(slow("appended"))
        return len(STORE)

    assert run() == 1
    assert type(G["k"]) is str and type(box.value) is str and type(STORE[0]) is str
    assert (G, box.value, STORE) == ({"k": "v"}, "attr", ["appended"])


def test_calls_inside_try_and_with_run_at_once_and_raise_where_python_raises():
    entered = []

    class Span:
        def __enter__(self):
            entered.append("enter")

        def __exit__(self, kind, exc, tb):
            entered.append(kind.__name__ if kind else "ok")
            return True  # suppresses, as contextlib.suppress does

    @xcs.jit
    def run():
        try:
            slow("boom")
            caught = "no"
        except ValueError:
            caught = "yes"
        with Span():
            slow("boom")
        return caught

    out, peak = peak_of(run)
    assert out == "yes" and entered == ["enter", "ValueError"]
    assert peak == 1


def test_tracebacks_point_at_the_users_lines():
    @xcs.jit
    def run():
        first = slow("ok")
        return slow("boom"), first

    with pytest.raises(ValueError) as info:
        run()
    text = "".join(traceback.format_exception(info.type, info.value, info.tb))
    line = run.fn.__code__.co_firstlineno + 3
    assert f'{__file__}", line {line}' in text


def test_code_without_source_runs_plainly_with_one_warning():
    namespace = {"slow": slow}
    exec(compile("def f(xs):\n    return [slow(x) for x in xs]\n", "<generated>", "exec"),
         namespace)
    jitted = xcs.jit(namespace["f"])
    with pytest.warns(xcs.XcsWarning,
                      match=r"f \(<generated>:1\) runs as plain Python.*source is not available"):
        out, peak = peak_of(jitted, [1, 2])
    assert out == [1, 2] and peak == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert jitted([3]) == [3]  # warned once


def test_library_code_is_not_user_code():
    import json

    assert not compiler.is_user_code(json.loads.__code__)
    assert not compiler.is_user_code(compiler.compile_code.__code__)
    assert compiler.is_user_code(test_library_code_is_not_user_code.__code__)


def test_a_source_file_changed_on_disk_is_read_again(tmp_path, monkeypatch):
    import importlib

    monkeypatch.syspath_prepend(str(tmp_path))
    source = tmp_path / "edited_module.py"
    source.write_text("import xcs_core as xcs\n\n\n@xcs.jit\ndef first():\n    return 1\n")
    module = importlib.import_module("edited_module")
    assert module.first() == 1
    source.write_text("import xcs_core as xcs\n\n\n@xcs.jit\ndef renamed():\n    return 2\n"
                      "# longer\n")
    module = importlib.reload(module)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # compiled, not run plainly with a warning
        assert module.renamed() == 2


def test_match_statements_see_concrete_subjects():
    @xcs.op
    def reply(kind):
        return {"none": None, "pair": [None, "x"], "map": {"a": 1}, "text": "t"}[kind]

    def classify(kind):
        match reply(kind):
            case None:
                return "none"
            case [None, second]:
                return f"pair {second}"
            case {"a": value}:
                return f"map {value}"
            case str():
                return "text"
        return "other"

    jitted = xcs.jit(classify)
    for kind in ("none", "pair", "map", "text"):
        assert jitted(kind) == classify(kind)


# -- finding a function's source: its own block, at its place in the file ------------------
def _decorated(fn):
    return fn


@_decorated
def _block_decorated(a,
                     b=(1,
                        2)):
    return (a,
            b)


class _BlockOwner:
    def method(self, x):
        def inner(y):
            total = y
            return total + x
        return inner(1)

    async def coroutine(self):
        return 1


def _block_signature_closed_at_its_level(
    a,
    b=1,
):
    text = """
a line at column 0 that is inside a string
"""
# a comment at column 0 inside the body
    return (a, b,
text)


def _block_on_one_line(x): return x + 1  # noqa: E704


def _block_ends_in_a_nested_def():
    x = 1

    def inner():
        a = x
        return a


@pytest.mark.parametrize("fn", [_block_decorated, _BlockOwner.method, _BlockOwner.coroutine,
                                _block_ends_in_a_nested_def, _decorated,
                                _block_signature_closed_at_its_level, _block_on_one_line])
def test_a_function_is_parsed_from_its_own_block_exactly_as_from_its_file(fn):
    code = fn.__code__
    own = compiler._own_block(code)
    assert own is not None  # the file was not parsed for it
    (from_file,) = [n for n in compiler._definitions(code.co_filename)[code.co_firstlineno]
                    if compiler._matches(n, code)]
    assert ast.dump(own, include_attributes=True) == ast.dump(from_file, include_attributes=True)


def test_a_lambda_is_found_through_its_file():
    double = lambda x: x * 2  # noqa: E731
    assert compiler._own_block(double.__code__) is None
    assert xcs.jit(lambda xs: [double(x) for x in xs])([1, 2]) == [2, 4]
