"""Random orchestration programs built from small templates over shared variables.

A program is a list of statements; each statement is one template instance (a few lines in
the program body, plus any module-level helpers it needs) that reads variables defined
earlier and defines new ones.  ``generate(seed)`` is deterministic: the same seed always gives
the same program, and ``Program.source()`` prints it.

Variables have kinds, so templates compose: ``text`` (a str), ``texts`` (a list of str),
``num`` (an int), ``nums`` (a list of int), ``flag`` (a bool), ``opt`` (a str or None),
``opts`` (a list of str or None), ``doc`` (a dict from ``fetch``), ``record`` (a ``Record``),
``any`` (anything worth returning).  The program's parameters seed the pool:
``q`` (text), ``n`` (num), ``models`` (texts), ``history`` (chat messages), ``cfg`` (a dict).

Helpers are module-level functions and classes (``HELPERS``), compiled by xcs when the program
calls them: some call themselves or each other by name, or name their own class, so that a
helper the engine cannot compile (and runs as plain Python) is seen by the harness.
``PENDING_TEMPLATES`` (and ``ASYNC_PENDING_TEMPLATES``, for async programs) expose a known
engine difference and join the rotation only with ``XCS_DIFF_PENDING=1``.

Async templates exercise what asyncio does with an op call (a coroutine to it): failures that
belong to whoever awaits them (``gather(..., return_exceptions=True)``, ``try`` around
``await``), ``create_task``/``ensure_future``/``wait_for``/``as_completed``/``TaskGroup`` (guarded
inside the program: Python 3.10 has none), calls awaited later, a task awaited twice, and pure
calls never awaited (``aspare``; never an effect: plain Python never runs those, xcs does).
``except*`` is syntax 3.10 cannot compile, so templates write it only when the generating
interpreter is 3.11 or later (the same seed then prints another variant on 3.10).
"""

from __future__ import annotations

import os
import random
import sys
from dataclasses import dataclass, field, replace
from string import Template

from tests.differential.prelude import PRELUDE

PARAMS = "q, n, models, history, cfg"
PARAM_NAMES = frozenset(PARAMS.split(", "))


@dataclass(frozen=True)
class Stmt:
    """One template instance: body lines (unindented), helpers and the variables it defines."""

    template: str
    lines: tuple[str, ...]
    defines: tuple[tuple[str, str], ...] = ()
    helpers: tuple[str, ...] = ()
    globals_: tuple[str, ...] = ()


@dataclass(frozen=True)
class Program:
    seed: int
    is_async: bool
    stmts: tuple[Stmt, ...]
    returns: tuple[str, ...]
    args: dict = field(default_factory=dict, compare=False)
    raw: str | None = None  # a stored program body (a shrunk regression), used as is

    @property
    def features(self) -> list[str]:
        return sorted({s.template for s in self.stmts})

    def body(self) -> str:
        """The program without the prelude: helpers and the ``program`` function."""
        if self.raw is not None:
            return self.raw
        out: list[str] = []
        seen: set[str] = set()
        for stmt in self.stmts:
            for name in stmt.helpers:
                if name not in seen:
                    seen.add(name)
                    out.append(HELPERS[name].strip("\n") + "\n\n")
        out.append("@xcs.jit\n")
        out.append(f"{'async ' if self.is_async else ''}def program({PARAMS}):\n")
        glob = sorted({g for s in self.stmts for g in s.globals_})
        if glob:
            out.append(f"    global {', '.join(glob)}\n")
        for stmt in self.stmts:
            out.append(f"    # {stmt.template}\n")
            out.extend(f"    {line}\n" if line else "\n" for line in stmt.lines)
        defined = {name for s in self.stmts for name, _ in s.defines}
        items = [f'"{v}": {v}' for v in self.returns if v in defined or v in PARAM_NAMES]
        out.append(f"    return {{{', '.join(items)}}}\n")
        return "".join(out)

    def source(self, jit: bool = True) -> str:
        """The whole module.  The plain twin differs only in the decorator line, which
        becomes a comment so that line numbers match."""
        text = PRELUDE + "\n\n" + self.body()
        if not jit:
            text = text.replace("\n@xcs.jit\n", "\n# plain Python: no @xcs.jit\n")
        return text

    @classmethod
    def from_body(cls, body: str, args: dict, name: str = "stored") -> Program:
        """A program from its printed body (what a failure report shows)."""
        import textwrap
        body = textwrap.dedent(body).lstrip("\n")
        return cls(0, "async def program(" in body, (Stmt(name, ()),), (), args, body)

    def without(self, index: int) -> Program:
        return replace(self, stmts=self.stmts[:index] + self.stmts[index + 1:])


# -- module-level helpers that templates may need -----------------------------------------
HELPERS = {
    "lookup": '''
def lookup(text):
    return maybe(text)
''',
    "lookup_or": '''
def lookup_or(text, default):
    found = maybe(text)
    return default if found is None else found
''',
    "describe": '''
def describe(value):
    if value is None:
        return "none"
    if type(value) == str:
        return "str:" + value
    return type(value).__name__
''',
    "cached_llm": '''
def cached_llm(prompt):
    hit = MEMO.get(prompt)
    if hit is None:
        hit = llm(prompt)
        MEMO[prompt] = hit
    return hit
''',
    "Agent": '''
class Agent:
    def __init__(self, name):
        self.name = name
        self.memory = []

    def ask(self, prompt):
        reply = llm(prompt, model=self.name)
        self.memory.append(reply)
        return reply


class Critic(Agent):
    def ask(self, prompt):
        reply = super().ask("critique: " + prompt)
        return reply.upper()
''',
    "make_asker": '''
def make_asker(prefix):
    return lambda text: llm(prefix + text)
''',
    "summarize_all": '''
def summarize_all(texts):
    parts = [llm("summarize: " + t) for t in texts]
    return " / ".join(parts)
''',
    "safe_parse": '''
def safe_parse(reply):
    try:
        return json.loads(reply)
    except json.JSONDecodeError as exc:
        LOG.append(("not json", exc.msg))
        return None
''',
    "run_llm": '''
async def run_llm(model, prompt):
    reply = await allm(prompt, model=model)
    return reply.upper()
''',
    "first_present": '''
async def first_present(items):
    for item in items:
        found = await amaybe(item)
        if found is not None:
            return found
    return None
''',
    "debate_round": '''
async def debate_round(model, transcript):
    said = await allm(transcript[-1]["content"], model=model)
    return {"role": model, "content": said}
''',
    # -- recursion, classes naming themselves, user protocols -------------------------
    "split_fanout": '''
def split_fanout(items):
    if len(items) <= 1:
        return [llm("part: " + x) for x in items]
    mid = len(items) // 2
    return split_fanout(items[:mid]) + split_fanout(items[mid:])
''',
    "best_of": '''
def best_of(items):
    if len(items) == 1:
        return items[0]
    rest = best_of(items[1:])
    return items[0] if score(items[0]) >= score(rest) else rest
''',
    "refine": '''
def refine(text, depth):
    if depth <= 0:
        return text
    return refine(llm("refine: " + text), depth - 1)
''',
    "tally_tree": '''
def tally_tree(items):
    if len(items) <= 1:
        return {classify(x): 1 for x in items}
    mid = len(items) // 2
    left, right = tally_tree(items[:mid]), tally_tree(items[mid:])
    for mood, count in right.items():
        left[mood] = left.get(mood, 0) + count
    return left
''',
    "walk_ab": '''
def walk_a(texts, acc):
    if not texts:
        return acc
    return walk_b(texts[1:], acc + [classify(texts[0])])


def walk_b(texts, acc):
    if not texts:
        return acc
    return walk_a(texts[1:], acc + [llm(texts[0])])
''',
    "expand_contract": '''
def expand(text, depth):
    if depth <= 0:
        return [text]
    reply = llm(text)
    return [reply] + contract(reply, depth - 1)


def contract(text, depth):
    if depth <= 0 or score(text) < 3:
        return []
    return expand(text.upper(), depth - 1)
''',
    "deep_count": '''
def deep_count(items):
    if not items:
        return 0
    return 1 + deep_count(items[1:])
''',
    "walk_emit": '''
def walk_emit(items, depth):
    if not items:
        return []
    head = llm(items[0])
    emit("level", depth)
    rest = walk_emit(items[1:], depth + 1)
    emit("back", head)
    return [head] + rest
''',
    "Panel": '''
class Panel:
    def __init__(self, models):
        self.models = list(models)
        self.asked = 0

    def ask(self, model, prompt):
        self.asked += 1
        return llm(prompt, model=model)

    def ask_all(self, prompt):
        return [Panel.ask(self, m, prompt) for m in self.models]

    def merged(self, other):
        if isinstance(other, Panel):
            return Panel(self.models + other.models)
        return Panel(self.models + [str(other)])

    @classmethod
    def of(cls, models):
        return cls(m + "-p" for m in models)

    @classmethod
    def poll(cls, prompt, models):
        return [cls.rate(llm(prompt, model=m)) for m in models]

    @staticmethod
    def rate(text):
        return score(text)


class Jury(Panel):
    def ask(self, model, prompt):
        verdict = Panel.ask(self, model, "judge: " + prompt)
        return verdict.upper() if isinstance(self, Jury) else verdict
''',
    "make_agent_class": '''
def make_agent_class(prefix):
    class Local:
        def __init__(self, name):
            self.name = name

        def ask(self, x):
            return llm(prefix + x, model=self.name)

        def clone(self):
            return Local(self.name + "'")

        @classmethod
        def make(cls, name):
            return cls(name)

    return Local


AgentP = make_agent_class("p: ")
''',
    "Outer": '''
class Outer:
    class Inner:
        def ask(self, x):
            return Outer.Inner.rate(llm(x))

        @staticmethod
        def rate(x):
            return score(x)
''',
    "_Hidden": '''
class _Hidden:
    def __init__(self):
        self.__secret = 1

    def ask(self, x):
        return llm(x + str(self.__secret)) + _Hidden.__tag()

    @staticmethod
    def __tag():
        return "!"
''',
    "count_words": '''
def count_words(text):
    global COUNT
    reply = llm(text)
    COUNT += len(reply.split())
    return reply
''',
    "bump_score": '''
def bump_score(text):
    global COUNT
    COUNT += score(text)
    return COUNT
''',
    "checked": '''
def checked(text):
    out = risky(text)
    LOG.append(("checked", text))
    return out.upper()
''',
    "relabel": '''
def relabel(text):
    try:
        return risky(text)
    except KeyError as exc:
        raise LookupError("relabel: " + text) from exc
''',
    "settle": '''
def settle(text):
    try:
        return risky(text)
    finally:
        LOG.append(("settle", text))
        if len(text) % 2:
            return "settled " + text
''',
    "Doc": '''
class Doc:
    def __init__(self, text):
        self.text = text

    @property
    def summary(self):
        return llm("summary: " + self.text)

    def __call__(self, prompt):
        return llm(prompt + " about " + self.text)
''',
    "Money": '''
class Money:
    def __init__(self, text):
        self.text = text

    def __add__(self, other):
        return Money(llm(self.text + other.text))

    def __lt__(self, other):
        return score(self.text) < score(other.text)
''',
    "cached_reply": '''
@functools.lru_cache(maxsize=None)
def cached_reply(text):
    return llm("cached: " + text)
''',
    "replies": '''
def replies(texts):
    for t in texts:
        yield llm(t)
''',
    "graded": '''
def logged(fn):
    @functools.wraps(fn)
    def wrapper(*args):
        LOG.append(("call", fn.__name__))
        return fn(*args)
    return wrapper


@logged
def graded(text):
    return score(text)
''',
    "stage": '''
@contextlib.contextmanager
def stage(name):
    LOG.append(("enter", name))
    try:
        yield llm(name)
    finally:
        LOG.append(("exit", name))
''',
    "Rejected": '''
class Rejected(Exception):
    pass
''',
    "tree_llm": '''
async def tree_llm(items, depth):
    if len(items) <= 1 or depth <= 0:
        return [await allm(x) for x in items]
    mid = len(items) // 2
    left, right = await asyncio.gather(tree_llm(items[:mid], depth - 1),
                                       tree_llm(items[mid:], depth - 1))
    return left + right
''',
    "shout_risky": '''
async def shout_risky(text):
    said = await arisky(text)
    return said.upper()
''',
    "guarded": '''
async def guarded(text):
    try:
        return await arisky(text)
    except ValueError as exc:  # not logged: plain Python runs these in completion order
        return f"guarded: {exc}"
''',
    "ping_pong": '''
async def ping(k, text):
    if k <= 0:
        return await allm(text)
    return await pong(k - 1, text + "!")


async def pong(k, text):
    if k <= 0:
        return await amaybe(text)
    return await ping(k - 1, text + "?")
''',
    # -- printing, context managers, stateful classes, async protocols ---------------
    "SINK": """
class Sink:
    \"\"\"A file-like object ``print`` writes to: each printed line is logged with the number
    of effects run before it, so its order relative to effect calls is compared (in the
    log: Python code after a failing call runs under xcs, docs/execution.md).\"\"\"

    def write(self, text):
        if text.strip():
            LOG.append(("print", text, len(EFFECTS)))
        return len(text)

    def flush(self):
        pass


SINK = Sink()
""",
    "Quiet": """
class Quiet:
    \"\"\"A user context manager that logs and swallows ValueError (and nothing else).\"\"\"

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        LOG.append(("enter", self.name))
        return self

    def __exit__(self, kind, exc, tb):
        LOG.append(("exit", self.name, None if kind is None else kind.__name__))
        return kind is not None and issubclass(kind, ValueError)
""",
    "Notebook": """
class Notebook:
    def __init__(self):
        self.last = None
        self.seen = []

    def note(self, text):
        self.last = llm("note: " + text)
        self.seen.append(self.last)
        return self

    def recall(self):
        if self.last is None:
            return "empty"
        return f"{len(self.seen)}: {self.last}"
""",
    "first_long": """
def first_long(texts):
    for t in texts:
        reply = llm(t)
        if len(reply) > 12:
            return reply
    return None
""",
    "numbered": """
def numbered(texts):
    for i, t in enumerate(texts):
        reply = llm(t)
        if reply.endswith(("1", "3", "5")):
            yield i, reply
    yield from (("score", score(t)) for t in texts[:1])
""",
    "ask_pair": """
async def ask_pair(x):
    a, b = await asyncio.gather(allm(x), amaybe(x))
    return a if b is None else a + " & " + b
""",
    "AStream": """
class AStream:
    \"\"\"``async for`` over op calls (a user async iterator).\"\"\"

    def __init__(self, items):
        self.items = list(items)

    def __aiter__(self):
        return self

    async def __anext__(self):
        if not self.items:
            raise StopAsyncIteration
        return await allm(self.items.pop(0))


async def astream(items):
    for x in items:
        reply = await amaybe(x)
        if reply is not None:
            yield reply
""",
    "ASession": """
class ASession:
    \"\"\"``async with`` a user class whose exit logs and swallows ValueError.\"\"\"

    def __init__(self, name):
        self.name = name

    async def __aenter__(self):
        LOG.append(("aenter", self.name))
        return await allm("open " + self.name)

    async def __aexit__(self, kind, exc, tb):
        LOG.append(("aexit", self.name, None if kind is None else kind.__name__))
        return kind is not None and issubclass(kind, ValueError)
""",
    # -- operators, records, nested jit, more of the standard library -------------------
    "imports": """
import builtins
import enum
import itertools
import operator
import sys
import textwrap
import typing
""",
    "Summarizer": """
class Summarizer(xcs.Operator):
    \"\"\"An operator (one leaf call per call) whose forward makes a leaf call itself.\"\"\"

    def __init__(self, style):
        self.style = style

    def forward(self, text, model="m0"):
        return llm(f"{self.style}: {text}", model=model).upper()


@xcs.jit
class Pick(xcs.Operator):
    \"\"\"A jitted operator: its forward is compiled, its calls join the caller's.\"\"\"

    def __init__(self, models):
        self.models = list(models)

    def forward(self, text):
        drafts = [llm(text, model=m) for m in self.models]
        return max(drafts, key=score)
""",
    "records": """
class Verdict(typing.NamedTuple):
    label: str
    score: int


@dataclass(frozen=True, order=True)
class Ranked:
    score: int
    text: str


class Mood(enum.Enum):
    HAPPY = "happy"
    SAD = "sad"
    NEUTRAL = "neutral"
""",
    "best_reply": """
@xcs.jit
def best_reply(text, models):
    drafts = [llm(text, model=m) for m in models]
    return max(drafts, key=score)


@xcs.jit
def checked_pair(text):
    first = risky(text)
    return first + " / " + llm(first)
""",
    "mood_of": """
@functools.lru_cache(maxsize=None)
def mood_of(text):
    return classify("mood: " + text)
""",
    "Stats": """
class Stats:
    total = 0
    last = None
    seen = []
""",
    # -- threads, event loops, serialisation, logging, user value classes ----------------
    "more_imports": """
import concurrent.futures
import logging
import pickle
import string
import warnings
""",
    "thread_helpers": """
def ask_into(out, i, text):
    out[i] = llm(text)


def rate_pair(text):
    return text, score(text)
""",
    "co_helpers": """
async def ask_both(text):
    a, b = await asyncio.gather(allm(text), amaybe(text))
    return [a, b]


async def ask_chain(text):
    first = await allm(text)
    return await allm(first + "?")
""",
    "LOGGER": """
class ToLog(logging.Handler):
    \"\"\"A logging handler that writes each formatted record to ``LOG``.\"\"\"

    def emit(self, record):
        LOG.append(("logging", record.levelname, record.getMessage()))


LOGGER = logging.getLogger(__name__)
LOGGER.propagate = False
LOGGER.setLevel(logging.INFO)
LOGGER.addHandler(ToLog())
""",
    "Answer": """
class Answer:
    \"\"\"A user value class holding results: equality, hashing, iteration, a property.\"\"\"

    def __init__(self, text, mood):
        self.text = text
        self.mood = mood

    def __eq__(self, other):
        return isinstance(other, Answer) and (self.text, self.mood) == (other.text, other.mood)

    def __hash__(self):
        return hash((self.text, self.mood))

    def __iter__(self):
        return iter((self.text, self.mood))

    def __len__(self):
        return len(self.text)

    @property
    def short(self):
        return self.text[:5] + "/" + self.mood


class Board:
    \"\"\"An orchestrator that keeps results on ``self`` (methods are compiled).\"\"\"

    def __init__(self, models):
        self.models = list(models)
        self.answers = {}

    def run(self, text):
        for m in self.models:
            self.answers[m] = llm(text, model=m)
        return self

    @property
    def best(self):
        return max(self.answers.values(), key=len, default="")

    def __len__(self):
        return len(self.answers)

    def __iter__(self):
        return iter(sorted(self.answers.items()))
""",
    "gen_helpers": """
def running_best():
    best = ""
    while True:
        text = yield best
        if text is None:
            return best
        reply = llm(text)
        if len(reply) > len(best) or score(reply) > 5:
            best = reply


def inner_replies(texts):
    for t in texts:
        yield classify(t)
    return len(texts)


def outer_replies(texts):
    count = yield from inner_replies(texts)
    yield llm(f"{count} done")
""",
    "late_async": """
async def late_ask(text):
    await asyncio.sleep(5)
    return await allm(text)


def sync_ask(text):
    return llm("sync: " + text)
""",
    "snapshot": """
def snapshot(text):
    reply = llm(text)
    size = len(reply)
    return json.dumps(locals(), sort_keys=True)


def names_of(text):
    reply = classify(text)
    table = {"reply": reply}
    table["again"] = kept = classify(text + "!")
    return dir() + sorted(vars())
""",
    "CALLER": """
class CallerLog(logging.Handler):
    \"\"\"Logs where each record says it was made (``%(funcName)s``, ``%(lineno)d``).\"\"\"

    def emit(self, record):
        LOG.append(("caller", record.funcName, record.lineno, record.getMessage()))


CALLER = logging.getLogger(__name__ + ".caller")
CALLER.propagate = False
CALLER.setLevel(logging.INFO)
CALLER.addHandler(CallerLog())


def warn_odd(text):
    reply = llm(text)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        warnings.warn(f"odd reply {reply}")
    return [(w.lineno, str(w.message)) for w in seen]
""",
    "late": """
async def late(text):
    await asyncio.sleep(5)
    return await allm(text)


async def plain_co(text):
    await asyncio.sleep(0)
    return text[::-1]
""",
}


class Gen:
    """Builds one program: a pool of typed variables and the statements so far."""

    def __init__(self, rng: random.Random, is_async: bool) -> None:
        self.rng = rng
        self.is_async = is_async
        self.pool: dict[str, list[str]] = {"text": ["q"], "texts": ["models"], "num": ["n"]}
        self.count = 0
        self.stmts: list[Stmt] = []

    # variables ----------------------------------------------------------------------
    def has(self, *kinds: str) -> bool:
        return all(self.pool.get(k) for k in kinds)

    def pick(self, kind: str) -> str:
        return self.rng.choice(self.pool[kind])

    def any_var(self) -> str:
        return self.rng.choice([v for vs in self.pool.values() for v in vs])

    def new(self, kind: str) -> str:
        self.count += 1
        return f"{kind}{self.count}"

    def text_expr(self) -> str:
        t = self.pick("text")
        return self.rng.choice([
            t, t, f'f"Summarize: {{{t}}}"', f'"Q: %s" % {t}', f'"{{}} / {{}}".format({t}, n)',
            f'{t} + " and more"', f"{t}.upper()", f'f"{{{t}!r}} in {{len({t})}} words"',
        ])

    # statements ---------------------------------------------------------------------
    def add(self, template: str, code: str, defines=(), helpers=(), globals_=(),
            **names: str) -> None:
        text = Template(code.strip("\n")).substitute(names)
        for name, kind in defines:
            self.pool.setdefault(kind, []).append(name)
            if kind not in ("any",):
                self.pool.setdefault("any", []).append(name)
        self.stmts.append(Stmt(template, tuple(text.split("\n")), tuple(defines),
                               tuple(helpers), tuple(globals_)))


# -- templates: each adds one statement, or returns False when it does not apply ----------
def t_llm(g: Gen) -> bool:
    v = g.new("text")
    model = g.rng.choice(["", ', model="m2"', ", model=models[0]"])
    g.add("llm call + string glue", f"$v = llm({g.text_expr()}{model})",
          [(v, "text")], v=v)
    return True


def t_fanout(g: Gen) -> bool:
    v, t, ts = g.new("texts"), g.pick("text"), g.pick("texts")
    code, name = g.rng.choice([
        ("$v = [llm($t, model=m) for m in models]", "fan-out list comprehension"),
        ("$v = list(map(lambda m: llm($t, model=m), models))", "fan-out map+lambda"),
        ('$v = [llm(f"{x}?") for x in $ts]', "fan-out over results"),
        ("$v = list(llm(x + $t) for x in $ts)", "fan-out generator expression"),
        ("$v = []\nfor m in models:\n    $v.append(llm($t, model=m))", "fan-out loop append"),
    ])
    g.add(name, code, [(v, "texts")], v=v, t=t, ts=ts)
    return True


def t_scores(g: Gen) -> bool:
    v, ts = g.new("nums"), g.pick("texts")
    code, name = g.rng.choice([
        ("$v = [score(x) for x in $ts]", "scores list"),
        ("$v = [score(x) for x in $ts if x]", "scores list filtered"),
    ])
    g.add(name, code, [(v, "nums")], v=v, ts=ts)
    return True


def t_json_loads(g: Gen) -> bool:
    d, a, s, tags = g.new("doc"), g.new("text"), g.new("num"), g.new("texts")
    g.add("json.loads(reply)",
          '$d = json.loads(llm_json($e))\n$a = $d["answer"]\n$s = $d["score"]\n$tags = $d["tags"]',
          [(d, "any"), (a, "text"), (s, "num"), (tags, "texts")],
          d=d, a=a, s=s, tags=tags, e=g.text_expr())
    return True


def t_json_dumps(g: Gen) -> bool:
    v = g.new("text")
    code, name = g.rng.choice([
        ('$v = json.dumps({"answer": $t, "score": $k})', "json.dumps dict"),
        ("$v = json.dumps($ts)", "json.dumps list"),
        ('$v = json.dumps({$t: $k}, sort_keys=True)', "json.dumps result as key"),
    ])
    g.add(name, code, [(v, "text")], v=v, t=g.pick("text"), k=g.pick("num"), ts=g.pick("texts"))
    return True


def t_safe_parse(g: Gen) -> bool:
    v, f = g.new("opt"), g.new("flag")
    g.add("helper try json.loads", "$v = safe_parse(llm($t))\n$f = $v is None",
          [(v, "opt"), (f, "flag")], ["safe_parse"], v=v, f=f, t=g.pick("text"))
    return True


def t_re(g: Gen) -> bool:
    m, v = g.new("match"), g.new("num")
    code, name = g.rng.choice([
        ('$m = re.search(r"(\\d+)", $t)\n$v = int($m.group(1)) if $m else -1', "re.search"),
        ('$m = re.findall(r"[a-z]+", $t)\n$v = len($m)', "re.findall"),
        ('$v = len(re.sub(r"\\s+", "_", $t))', "re.sub"),
    ])
    g.add(name, code, [(v, "num")], m=m, v=v, t=g.pick("text"))
    return True


def t_join(g: Gen) -> bool:
    v, ts = g.new("text"), g.pick("texts")
    code, name = g.rng.choice([
        ('$v = ", ".join($ts)', "str.join"),
        ('$v = " | ".join(x.upper() for x in $ts)', "str.join generator"),
        ('$v = "\\n".join(f"- {x}" for x in sorted($ts))', "str.join sorted"),
    ])
    g.add(name, code, [(v, "text")], v=v, ts=ts)
    return True


def t_format(g: Gen) -> bool:
    v, t, k = g.new("text"), g.pick("text"), g.pick("num")
    code, name = g.rng.choice([
        ('$v = f"{$t} scored {$k:03d}"', "f-string with spec"),
        ('$v = "%s scored %d" % ($t, $k)', "% formatting"),
        ('$v = "{}: {}".format($t, $k)', "str.format"),
        ('$v = f"{$t!r:>12}"', "f-string repr"),
        ("$v = str($k) + $t[:3]", "str() and slicing"),
    ])
    g.add(name, code, [(v, "text")], v=v, t=t, k=k)
    return True


def t_is_none(g: Gen) -> bool:
    v, t = g.new("text"), g.pick("text")
    code, name = g.rng.choice([
        ('$v = maybe($t)\nif $v is None:\n    $v = "nothing"', "is None right after call"),
        ('$v = maybe($t)\nif $v is not None:\n    LOG.append(("found", $t))\nelse:\n'
         '    $v = "absent"', "is not None right after call"),
        ('$v = "missing" if maybe($t) is None else "present"', "is None inline"),
        ('$v = maybe($t)\nif not $v is None:\n    $v = $v.lower()\nelse:\n    $v = "-"',
         "not x is None"),
        ('$v = maybe($t)\n$v = $v if $v != None else "null"', "!= None"),
        ('$v = maybe($t) or "falsy"', "or default"),
    ])
    g.add(name, code, [(v, "text")], v=v, t=t)
    return True


def t_get_none(g: Gen) -> bool:
    d, h = g.new("doc"), g.new("text")
    g.add("is None after d.get()",
          '$d = fetch($t)\n$h = $d.get("note")\nif $h is None:\n'
          '    $h = "no note for " + $d["title"]',
          [(d, "doc"), (h, "text")], d=d, h=h, t=g.pick("text"))
    return True


def t_filter_none(g: Gen) -> bool:
    f, v = g.new("opts"), g.new("texts")
    g.add("comprehension filter is not None",
          "$f = [maybe(x) for x in $ts]\n$v = [r for r in $f if r is not None]",
          [(f, "opts"), (v, "texts")], f=f, v=v, ts=g.pick("texts"))
    return True


def t_any_none(g: Gen) -> bool:
    if not g.has("opts"):
        return False
    v, f = g.new("flag"), g.pick("opts")
    code, name = g.rng.choice([
        ("$v = any(r is None for r in $f)", "any(r is None ...)"),
        ("$v = all(r is not None for r in $f)", "all(r is not None ...)"),
        ("$v = sum(1 for r in $f if r is None) > 0", "sum over is None"),
        ("$v = None in $f", "None in list"),
    ])
    g.add(name, code, [(v, "flag")], v=v, f=f)
    return True


def t_walrus(g: Gen) -> bool:
    x, v = g.new("opt"), g.new("text")
    g.add("walrus is not None",
          'if ($x := maybe($t)) is not None:\n    $v = $x\nelse:\n    $v = "absent"',
          [(x, "opt"), (v, "text")], x=x, v=v, t=g.pick("text"))
    return True


def t_helper_none(g: Gen) -> bool:
    v, t = g.new("text"), g.pick("text")
    choice = g.rng.randrange(3)
    if choice == 0:
        g.add("helper returns result, caller tests is None",
              '$v = lookup($t)\nif $v is None:\n    LOG.append(("lookup missed", $t))\n'
              '    $v = "default"', [(v, "text")], ["lookup"], v=v, t=t)
    elif choice == 1:
        g.add("helper tests is None on its own result", '$v = lookup_or($t, "fallback")',
              [(v, "text")], ["lookup_or"], v=v, t=t)
    else:
        g.add("helper tests is None / type() on its argument", "$v = describe(maybe($t))",
              [(v, "text")], ["describe"], v=v, t=t)
    return True


def t_memo(g: Gen) -> bool:
    a, b, f = g.new("text"), g.new("text"), g.new("flag")
    g.add("memoising helper (module dict)",
          "$a = cached_llm($t)\n$b = cached_llm($t)\n$f = $a is $b",
          [(a, "text"), (b, "text"), (f, "flag")], ["cached_llm"], a=a, b=b, f=f,
          t=g.pick("text"))
    return True


def t_type(g: Gen) -> bool:
    v, x = g.new("any"), g.any_var()
    code, name = g.rng.choice([
        ('$v = "str" if type($x) == str else "other"', "type(x) == str"),
        ("$v = isinstance($x, (list, dict))", "isinstance"),
        ("$v = type($x).__name__", "type(x).__name__"),
        ("$v = type($x) is int", "type(x) is int"),
    ])
    g.add(name, code, [(v, "any")], v=v, x=x)
    return True


def t_id(g: Gen) -> bool:
    al, v, x = g.new("alias"), g.new("flag"), g.any_var()
    code, name = g.rng.choice([
        ("$al = $x\n$v = id($al) == id($x)", "id() of alias"),
        ("$al = $x\n$v = $al is $x", "is on alias"),
        ("$al = [$x, $x]\n$v = len({id(o) for o in $al})", "id() set"),
    ])
    g.add(name, code, [(v, "flag")], al=al, v=v, x=x)
    return True


def t_closure(g: Gen) -> bool:
    c, fn, a, b = g.new("calls"), g.new("ask"), g.new("text"), g.new("text")
    if g.rng.random() < 0.6:
        g.add("nested function with nonlocal",
              '$c = 0\n\ndef $fn(x):\n    nonlocal $c\n    $c += 1\n'
              '    return llm(f"{x} #{$c}")\n\n'
              "$a = $fn($t1)\n$b = $fn($t2)",
              [(c, "num"), (a, "text"), (b, "text")], c=c, fn=fn, a=a, b=b,
              t1=g.pick("text"), t2=g.pick("text"))
    else:
        g.add("closure factory + lambda", '$fn = make_asker("ctx: ")\n$a = $fn($t1)\n$b = $fn($a)',
              [(a, "text"), (b, "text")], ["make_asker"], fn=fn, a=a, b=b, t1=g.pick("text"))
    return True


def t_lambda_max(g: Gen) -> bool:
    v, ts = g.new("text"), g.pick("texts")
    code, name = g.rng.choice([
        ('$v = max($ts, key=lambda s: (len(s), s)) if $ts else ""', "max(key=lambda)"),
        ('$v = sorted($ts, key=len)[0] if $ts else ""', "sorted(key=len)"),
        ('$v = max($ts, key=score) if $ts else ""', "max(key=leaf op)"),
        ('$v = sorted($ts, key=lambda s: -score(s))[0] if $ts else ""', "sorted(key=lambda leaf)"),
    ])
    g.add(name, code, [(v, "text")], v=v, ts=ts)
    return True


def t_class(g: Gen) -> bool:
    ag, v, mem = g.new("agent"), g.new("text"), g.new("texts")
    cls = g.rng.choice(["Agent", "Critic"])
    g.add(f"method on user class ({cls}{', super()' if cls == 'Critic' else ''})",
          f'$ag = {cls}("m3")\n$v = $ag.ask($t)\n$mem = $ag.memory',
          [(v, "text"), (mem, "texts")], ["Agent"], ag=ag, v=v, mem=mem, t=g.pick("text"))
    return True


def t_global(g: Gen) -> bool:
    t = g.pick("text")
    choice = g.rng.randrange(4)
    if choice == 0:
        g.add("global counter", "COUNT += len($t)", globals_=("COUNT",), t=t)
    elif choice == 1:
        g.add("module list append", "NOTES.append($t)", t=t)
    elif choice == 2:
        g.add("attribute from result", "BOARD.last = $t", t=t)
    else:
        m = g.new("text")
        g.add("module dict keyed by result",
              "$m = classify($t)\nTALLY[$m] = TALLY.get($m, 0) + 1", [(m, "text")], m=m, t=t)
    return True


def t_history(g: Gen) -> bool:
    note = g.new("text")
    if g.rng.random() < 0.5:
        g.add("chat history appended after call",
              '$note = llm(history)\nhistory.append({"role": "assistant", "content": $note})',
              [(note, "text")], note=note)
    else:
        r = g.new("resp")
        g.add("chat history + subscripted reply",
              '$r = chat(history)\n$note = $r["choices"][0]["message"]["content"]\n'
              'history.append({"role": "assistant", "content": $note})\n'
              'history.append({"role": "user", "content": f"Improve: {$note}"})',
              [(note, "text")], r=r, note=note)
    return True


def t_local_history(g: Gen) -> bool:
    h, reply = g.new("msgs"), g.new("text")
    g.add("local chat loop",
          '$h = [{"role": "user", "content": $t}]\n$reply = ""\nfor _ in range(2):\n'
          '    $reply = llm($h)\n    $h.append({"role": "assistant", "content": $reply})\n'
          '    $h.append({"role": "user", "content": "go on"})',
          [(h, "any"), (reply, "text")], h=h, reply=reply, t=g.pick("text"))
    return True


def t_mutate_after(g: Gen) -> bool:
    v = g.new("text")
    choice = g.rng.randrange(3)
    if choice == 0:
        ms = g.new("msgs")
        g.add("list mutated after pending call",
              '$ms = [$t1, $t2]\n$v = llm($ms)\n$ms.append("extra")',
              [(ms, "texts"), (v, "text")], ms=ms, v=v, t1=g.pick("text"), t2=g.pick("text"))
    elif choice == 1:
        p = g.new("params")
        g.add("dict mutated after pending call",
              '$p = {"q": $t, "style": cfg["style"]}\n$v = llm($p)\n$p["q"] = "changed"\n'
              '$p["extra"] = $v', [(p, "any"), (v, "text")], p=p, v=v, t=g.pick("text"))
    else:
        g.add("argument list mutated after pending call", '$v = llm(models)\nmodels.append("m9")',
              [(v, "text")], v=v)
    return True


def t_tally(g: Gen) -> bool:
    ts = g.pick("texts")
    choice = g.rng.randrange(3)
    if choice == 0:
        c = g.new("tally")
        g.add("defaultdict tally[mood] += 1",
              "$c = defaultdict(int)\nfor x in $ts:\n    mood = classify(x)\n    $c[mood] += 1",
              [(c, "any")], c=c, ts=ts)
    elif choice == 1:
        c = g.new("tally")
        g.add("Counter of results", "$c = Counter(classify(x) for x in $ts)", [(c, "any")],
              c=c, ts=ts)
    else:
        s, v = g.new("moods"), g.new("texts")
        g.add("set of results", "$s = {classify(x) for x in $ts}\n$v = sorted($s)",
              [(s, "any"), (v, "texts")], s=s, v=v, ts=ts)
    return True


def t_attr(g: Gen) -> bool:
    ns, t = g.new("state"), g.pick("text")
    g.add("attributes set from results",
          "$ns = SimpleNamespace(answer=$t)\n$ns.score = score($t)\n$ns.label = classify($t)",
          [(ns, "any")], ns=ns, t=t)
    return True


def t_subscript(g: Gen) -> bool:
    r, v, k = g.new("resp"), g.new("text"), g.new("num")
    g.add("subscripting results",
          '$r = chat([{"role": "user", "content": $t}])\n'
          '$v = $r["choices"][0]["message"]["content"]\n$k = $r["usage"]["tokens"]',
          [(v, "text"), (k, "num")], r=r, v=v, k=k, t=g.pick("text"))
    return True


def t_asdict(g: Gen) -> bool:
    rec, d, k = g.new("record"), g.new("fields"), g.new("num")
    g.add("dataclasses.asdict", "$rec = extract($t)\n$d = asdict($rec)\n$k = $rec.score + 1",
          [(rec, "record"), (d, "any"), (k, "num")], rec=rec, d=d, k=k, t=g.pick("text"))
    return True


def t_stats(g: Gen) -> bool:
    if not g.has("nums"):
        return False
    v, ns = g.new("stat"), g.pick("nums")
    code, name = g.rng.choice([
        ("$v = statistics.mean($ns) if $ns else 0", "statistics.mean"),
        ("$v = sum($ns)", "sum"),
        ("$v = max($ns, default=-1)", "max(default=)"),
        ("$v = sorted($ns, reverse=True)", "sorted"),
        ("$v = statistics.median($ns) if $ns else 0", "statistics.median"),
    ])
    g.add(name, code, [(v, "any")], v=v, ns=ns)
    return True


def t_zip_enum(g: Gen) -> bool:
    if not g.has("nums"):
        return False
    v, ns, ts = g.new("texts"), g.pick("nums"), g.pick("texts")
    code, name = g.rng.choice([
        ('$v = []\nfor i, (s, x) in enumerate(zip($ns, $ts)):\n    $v.append(f"{i}:{x}:{s}")',
         "enumerate(zip())"),
        ('$v = [x for s, x in sorted(zip($ns, $ts), reverse=True)]', "sorted(zip())"),
        ('$v = [f"{x}={s}" for x, s in dict(zip($ts, $ns)).items()]', "dict(zip())"),
    ])
    g.add(name, code, [(v, "texts")], v=v, ns=ns, ts=ts)
    return True


def t_try(g: Gen) -> bool:
    v, t = g.new("text"), g.pick("text")
    code, name = g.rng.choice([
        ('try:\n    $v = risky($t)\nexcept ValueError as exc:\n'
         '    LOG.append(("ValueError", str(exc)))\n'
         '    $v = "recovered"\nexcept KeyError as exc:\n    LOG.append(("KeyError", str(exc)))\n'
         '    $v = "missing"\nfinally:\n    LOG.append("finally")', "try/except/finally"),
        ('try:\n    $v = risky($t).upper()\nexcept (ValueError, KeyError) as exc:\n'
         '    LOG.append(type(exc).__name__)\n    $v = "either"', "try/except tuple"),
        ('$v = "unset"\ntry:\n    $v = risky(llm($t))\n    LOG.append("no error")\n'
         'except Exception as exc:\n    LOG.append(("caught", type(exc).__name__, str(exc)))',
         "try over dependent calls"),
        ('try:\n    $v = risky($t)\nfinally:\n    LOG.append(("finally only", $t))',
         "try/finally (propagates)"),
    ])
    g.add(name, code, [(v, "text")], v=v, t=t)
    return True


def t_suppress(g: Gen) -> bool:
    v = g.new("text")
    g.add("contextlib.suppress",
          '$v = "suppressed"\nwith contextlib.suppress(ValueError, KeyError):\n    $v = risky($t)',
          [(v, "text")], v=v, t=g.pick("text"))
    return True


def t_risky(g: Gen) -> bool:
    v = g.new("text")
    g.add("unguarded call that may raise", "$v = risky($t)", [(v, "text")], v=v,
          t=g.pick("text"))
    return True


def t_early_return(g: Gen) -> bool:
    t = g.pick("text")
    code, name = g.rng.choice([
        ('if score($t) > 7:\n    return {"early": $t}', "early return on score"),
        ('if maybe($t) is None:\n    return None', "early return on is None"),
        ('if $k % 5 == 0:\n    return [$t, $k]', "early return on number"),
    ])
    g.add(name, code, t=t, k=g.pick("num"))
    return True


def t_break(g: Gen) -> bool:
    best = g.new("text")
    g.add("loop with break",
          '$best = None\nfor m in models:\n    cand = llm($t, model=m)\n    if score(cand) >= 5:\n'
          '        $best = cand\n        break\nif $best is None:\n    $best = "none good"',
          [(best, "text")], best=best, t=g.pick("text"))
    return True


def t_while(g: Gen) -> bool:
    i = g.new("num")
    g.add("while loop on results",
          '$i = 0\nwhile $i < 3 and score(f"{$t}{$i}") < 5:\n    $i += 1', [(i, "num")],
          i=i, t=g.pick("text"))
    return True


def t_effect(g: Gen) -> bool:
    choice = g.rng.randrange(3)
    if choice == 0:
        g.add("effect emit", 'emit("step", $x)', x=g.any_var())
    elif choice == 1:
        v = g.new("num")
        g.add("effect result used", '$v = emit("note", $t)', [(v, "num")], v=v, t=g.pick("text"))
    else:
        g.add("effect that may raise", "publish($t)", t=g.pick("text"))
    return True


def t_dict_comp(g: Gen) -> bool:
    v, w = g.new("bymodel"), g.new("text")
    g.add("dict comprehension of calls",
          "$v = {m: llm($t, model=m) for m in models}\n$w = $v[models[0]]",
          [(v, "any"), (w, "text")], v=v, w=w, t=g.pick("text"))
    return True


def t_sum_gen(g: Gen) -> bool:
    v = g.new("num")
    g.add("sum over generator of calls", "$v = sum(score(x) for x in $ts)", [(v, "num")],
          v=v, ts=g.pick("texts"))
    return True


def t_helper_fanout(g: Gen) -> bool:
    v = g.new("text")
    g.add("helper function with fan-out", "$v = summarize_all($ts)", [(v, "text")],
          ["summarize_all"], v=v, ts=g.pick("texts"))
    return True


def t_user_raise(g: Gen) -> bool:
    g.add("user code raises on a result",
          'if len($t) > 14 and score($t) == 3:\n    raise RuntimeError(f"rejected {$t}")',
          t=g.pick("text"))
    return True


# -- recursion, own-class references, functools, match, ... ------------------------------
def t_recursive_helper(g: Gen) -> bool:
    t, ts = g.pick("text"), g.pick("texts")
    choice = g.rng.randrange(5)
    if choice == 0:
        v = g.new("texts")
        g.add("self-recursive helper: divide-and-conquer fan-out", "$v = split_fanout($ts)",
              [(v, "texts")], ["split_fanout"], v=v, ts=ts)
    elif choice == 1:
        v = g.new("text")
        g.add("self-recursive helper comparing scores", '$v = best_of($ts) if $ts else ""',
              [(v, "text")], ["best_of"], v=v, ts=ts)
    elif choice == 2:
        v = g.new("text")
        g.add("self-recursive helper chaining dependent calls",
              '$v = refine($t, min(cfg["k"], 3))', [(v, "text")], ["refine"], v=v, t=t)
    elif choice == 3:
        v = g.new("tally")
        g.add("self-recursive helper merging dicts keyed by results", "$v = tally_tree($ts)",
              [(v, "any")], ["tally_tree"], v=v, ts=ts)
    else:
        v = g.new("texts")
        g.add("self-recursive helper with effects on the way down and up",
              "$v = walk_emit($ts, 0)", [(v, "texts")], ["walk_emit"], v=v, ts=ts)
    return True


def t_mutual_recursion(g: Gen) -> bool:
    v = g.new("texts")
    if g.rng.random() < 0.5:
        g.add("mutually recursive helpers over a list", "$v = walk_a($ts, [])",
              [(v, "texts")], ["walk_ab"], v=v, ts=g.pick("texts"))
    else:
        g.add("mutually recursive helpers on results", "$v = expand($t, 3)",
              [(v, "texts")], ["expand_contract"], v=v, t=g.pick("text"))
    return True


def t_own_class(g: Gen) -> bool:
    p, v, t = g.new("panel"), g.new("texts"), g.pick("text")
    choice = g.rng.randrange(6)
    if choice == 0:
        g.add("method calls its own class by name (Panel.ask(self, ...))",
              "$p = Panel(models)\n$v = $p.ask_all($t)", [(v, "texts")], ["Panel"],
              p=p, v=v, t=t)
    elif choice == 1:
        f = g.new("flag")
        g.add("subclass method names its base class, isinstance(self, OwnClass)",
              "$p = Jury(models)\n$v = $p.ask_all($t)\n$f = isinstance($p, Panel)",
              [(v, "texts"), (f, "flag")], ["Panel"], p=p, v=v, f=f, t=t)
    elif choice == 2:
        k = g.new("num")
        g.add("method tests isinstance(other, OwnClass) and builds its class",
              '$p = Panel.of(models).merged(Jury(["m7"]))\n$v = $p.ask_all($t)\n$k = $p.asked',
              [(v, "texts"), (k, "num")], ["Panel"], p=p, v=v, k=k, t=t)
    elif choice == 3:
        w = g.new("text")
        g.add("class made by a factory function names itself (closure)",
              '$w = AgentP.make("m1").clone().ask($t)', [(w, "text")], ["make_agent_class"],
              w=w, t=t)
    elif choice == 4:
        k = g.new("num")
        g.add("nested class method names Outer.Inner", "$k = Outer.Inner().ask($t)",
              [(k, "num")], ["Outer"], k=k, t=t)
    else:
        w = g.new("text")
        g.add("private class names its mangled static method", "$w = _Hidden().ask($t)",
              [(w, "text")], ["_Hidden"], w=w, t=t)
    return True


def t_class_static(g: Gen) -> bool:
    t = g.pick("text")
    choice = g.rng.randrange(4)
    if choice == 0:
        v = g.new("nums")
        g.add("classmethod making leaf calls (cls.rate)", "$v = Panel.poll($t, models)",
              [(v, "nums")], ["Panel"], v=v, t=t)
    elif choice == 1:
        k = g.new("num")
        g.add("staticmethod making a leaf call", "$k = Panel.rate($t)", [(k, "num")],
              ["Panel"], k=k, t=t)
    elif choice == 2:
        k = g.new("num")
        g.add("staticmethod through a subclass on a result", "$k = Jury.rate(llm($t))",
              [(k, "num")], ["Panel"], k=k, t=t)
    else:
        v = g.new("texts")
        g.add("classmethod constructor on a subclass (cls(...))",
              "$v = Jury.of(models).ask_all($t)", [(v, "texts")], ["Panel"], v=v, t=t)
    return True


def t_recursive_closure(g: Gen) -> bool:
    fn = g.new("walk")
    choice = g.rng.randrange(3)
    if choice == 0:
        v = g.new("texts")
        g.add("nested function calls itself (recursive closure)",
              "def $fn(items, depth):\n    if not items:\n        return []\n"
              "    head = llm(items[0]) if depth % 2 == 0 else classify(items[0])\n"
              "    return [head] + $fn(items[1:], depth + 1)\n\n$v = $fn($ts, 0)",
              [(v, "texts")], fn=fn, v=v, ts=g.pick("texts"))
    elif choice == 1:
        c, v = g.new("num"), g.new("text")
        g.add("recursive closure with nonlocal counter",
              "$c = 0\n\ndef $fn(text, k):\n    nonlocal $c\n    $c += 1\n"
              "    if k <= 0 or score(text) < 2:\n        return text\n"
              "    return $fn(llm(text), k - 1)\n\n$v = $fn($t, 3)",
              [(c, "num"), (v, "text")], c=c, fn=fn, v=v, t=g.pick("text"))
    else:
        v = g.new("nums")
        g.add("recursive lambda",
              '$fn = lambda k: [] if k <= 0 else [score(f"{$t}{k}")] + $fn(k - 1)\n'
              "$v = $fn(3)", [(v, "nums")], fn=fn, v=v, t=g.pick("text"))
    return True


def t_functools(g: Gen) -> bool:
    ts = g.pick("texts")
    choice = g.rng.randrange(5)
    if choice == 0:
        v = g.new("num")
        g.add("functools.reduce with leaf calls in the lambda",
              "$v = functools.reduce(lambda acc, x: acc + score(x), $ts, 0)", [(v, "num")],
              v=v, ts=ts)
    elif choice == 1:
        v = g.new("text")
        g.add("functools.reduce over results",
              '$v = functools.reduce(lambda a, b: a + " | " + b, [llm(x) for x in $ts], "")',
              [(v, "text")], v=v, ts=ts)
    elif choice == 2:
        v = g.new("num")
        g.add("functools.reduce(max) over scores",
              "$v = functools.reduce(max, [score(x) for x in $ts], 0)", [(v, "num")],
              v=v, ts=ts)
    elif choice == 3:
        fn, v = g.new("ask"), g.new("texts")
        g.add("functools.partial of a leaf op",
              '$fn = functools.partial(llm, model="m2")\n$v = [$fn(x) for x in $ts]',
              [(v, "texts")], fn=fn, v=v, ts=ts)
    else:
        fn, v = g.new("ask"), g.new("texts")
        g.add("functools.partial of a helper",
              '$fn = functools.partial(lookup_or, default="dflt")\n$v = [$fn(x) for x in $ts]',
              [(v, "texts")], ["lookup_or"], fn=fn, v=v, ts=ts)
    return True


def t_gen_dict_set(g: Gen) -> bool:
    ts = g.pick("texts")
    choice = g.rng.randrange(5)
    if choice == 0:
        v = g.new("bytext")
        g.add("dict(generator) with results as values",
              "$v = dict((x, classify(x)) for x in $ts)", [(v, "any")], v=v, ts=ts)
    elif choice == 1:
        v = g.new("bymood")
        g.add("dict(generator) with results as keys",
              "$v = dict((classify(x), x) for x in $ts)", [(v, "any")], v=v, ts=ts)
    elif choice == 2:
        s, v = g.new("moods"), g.new("texts")
        g.add("set(generator) of results", "$s = set(classify(x) for x in $ts)\n$v = sorted($s)",
              [(s, "any"), (v, "texts")], s=s, v=v, ts=ts)
    elif choice == 3:
        v = g.new("scoreset")
        g.add("frozenset(generator) of results", "$v = frozenset(score(x) for x in $ts)",
              [(v, "any")], v=v, ts=ts)
    else:
        s, f = g.new("found"), g.new("flag")
        g.add("set(generator) with None among results",
              "$s = set(maybe(x) for x in $ts)\n$f = None in $s", [(s, "any"), (f, "flag")],
              s=s, f=f, ts=ts)
    return True


def t_sorted_results(g: Gen) -> bool:
    ts = g.pick("texts")
    choice = g.rng.randrange(5 if g.has("nums") else 4)
    if choice == 0:
        v = g.new("texts")
        g.add("sorted(results, key=lambda)",
              "$v = sorted([llm(x) for x in $ts], key=lambda r: (len(r), r))", [(v, "texts")],
              v=v, ts=ts)
    elif choice == 1:
        v = g.new("texts")
        g.add("sorted(key=lambda with a leaf call, reverse=True)",
              "$v = sorted($ts, key=lambda x: (score(x), x), reverse=True)", [(v, "texts")],
              v=v, ts=ts)
    elif choice == 2:
        v = g.new("texts")
        g.add("sorted(generator of pairs, key=lambda) (stable)",
              "$v = [x for _, x in sorted(((score(x), x) for x in $ts), key=lambda p: -p[0])]",
              [(v, "texts")], v=v, ts=ts)
    elif choice == 3:
        v = g.new("text")
        g.add("min(results, key=lambda, default=)",
              '$v = min([llm(x) for x in $ts], key=lambda r: r[-1], default="")',
              [(v, "text")], v=v, ts=ts)
    else:
        v = g.new("nums")
        g.add("sorted(scores, key=lambda)", "$v = sorted($ns, key=lambda s: (s % 3, s))",
              [(v, "nums")], v=v, ns=g.pick("nums"))
    return True


def t_walrus_comp(g: Gen) -> bool:
    ts, w = g.pick("texts"), g.new("w")
    choice = g.rng.randrange(4)
    if choice == 0:
        v = g.new("texts")
        g.add("walrus in comprehension condition (is not None)",
              "$v = [$w for x in $ts if ($w := maybe(x)) is not None]", [(v, "texts")],
              v=v, w=w, ts=ts)
    elif choice == 1:
        v = g.new("texts")
        g.add("walrus in comprehension condition (truthiness)",
              "$v = [$w.lower() for x in $ts if ($w := maybe(x))]", [(v, "texts")],
              v=v, w=w, ts=ts)
    elif choice == 2:
        v = g.new("nums")
        g.add("walrus in comprehension condition (comparison)",
              "$v = [$w for x in $ts if ($w := score(x)) > 4]", [(v, "nums")], v=v, w=w, ts=ts)
    else:
        v = g.new("bytext")
        g.add("walrus in dict comprehension condition",
              '$v = {x: $w for x in $ts if ($w := classify(x)) != "sad"}', [(v, "any")],
              v=v, w=w, ts=ts)
    return True


def t_match(g: Gen) -> bool:
    t, v = g.pick("text"), g.new("text")
    choice = g.rng.randrange(5)
    if choice == 0:
        m = g.new("mood")
        g.add("match on a result (literal, or-pattern)",
              'match classify($t):\n    case "happy":\n        $v = "yay"\n'
              '    case "sad" | "neutral" as $m:\n        $v = $m * 2\n    case _:\n'
              '        $v = "?"', [(v, "text")], v=v, m=m, t=t)
    elif choice == 1:
        m = g.new("note")
        g.add("match on a result (mapping pattern)",
              'match fetch($t):\n    case {"note": str() as $m}:\n        $v = $m\n'
              '    case {"title": title}:\n        $v = "t:" + title\n    case _:\n'
              '        $v = "?"', [(v, "text")], v=v, m=m, t=t)
    elif choice == 2:
        g.add("match on a result (class pattern, guard)",
              'match extract($t):\n    case Record(score=s) if s > 5:\n        $v = f"high {s}"\n'
              "    case Record(name=nm, tags=[tag]):\n        $v = nm + tag\n    case _:\n"
              '        $v = "other"', [(v, "text")], v=v, t=t)
    elif choice == 3:
        m = g.new("found")
        g.add("match on a result (None, capture with guard)",
              'match maybe($t):\n    case None:\n        $v = "none"\n'
              "    case str() as $m if len($m) > 12:\n        $v = $m[:12]\n    case $m:\n"
              "        $v = $m", [(v, "text")], v=v, m=m, t=t)
    else:
        k = g.new("num")
        g.add("match on a list of results (sequence patterns)",
              "match [score(x) for x in $ts]:\n    case []:\n        $k = -1\n"
              "    case [only]:\n        $k = only\n    case [first, *rest]:\n"
              "        $k = first + len(rest)", [(k, "num")], k=k, ts=g.pick("texts"))
    return True


def t_str_chain(g: Gen) -> bool:
    t = g.pick("text")
    choice = g.rng.randrange(5)
    if choice == 0:
        v = g.new("texts")
        g.add("string methods chained on a result (strip().split())",
              '$v = llm($t).strip().split(" ")', [(v, "texts")], v=v, t=t)
    elif choice == 1:
        v = g.new("texts")
        g.add("comprehension over split result",
              '$v = [p.strip() for p in llm($t).split("says")]', [(v, "texts")], v=v, t=t)
    elif choice == 2:
        v = g.new("text")
        g.add("replace().title().split()[0] on a result",
              '$v = llm($t).replace("says", ":").title().split(":")[0]', [(v, "text")],
              v=v, t=t)
    elif choice == 3:
        k = g.new("num")
        g.add("count() and partition() on results",
              '$k = llm($t).count("1") + len(llm($t).partition(" ")[2])', [(k, "num")],
              k=k, t=t)
    else:
        f = g.new("flag")
        g.add("startswith() on a result", "$f = llm($t, model=models[0]).startswith(models[0])",
              [(f, "flag")], f=f, t=t)
    return True


def t_get_default(g: Gen) -> bool:
    t, h = g.pick("text"), g.new("text")
    choice = g.rng.randrange(4)
    if choice == 0:
        d = g.new("doc")
        g.add("dict.get(k, None) on a result then is None",
              '$d = fetch($t)\n$h = $d.get("note", None)\nif $h is None:\n    $h = "no note"',
              [(d, "doc"), (h, "text")], d=d, h=h, t=t)
    elif choice == 1:
        g.add("dict.get with a result as default then is None",
              '$h = fetch($t).get("missing", maybe($t))\nif $h is None:\n    $h = "nothing"',
              [(h, "text")], h=h, t=t)
    elif choice == 2:
        g.add("dict.get keyed by a result then is None",
              '$h = MEMO.get(llm($t))\nif $h is None:\n    $h = "cold"', [(h, "text")],
              h=h, t=t)
    else:
        g.add("dict of results .get(k, default) then is None",
              '$h = {m: maybe(m) for m in models}.get($t, "dflt")\nif $h is None:\n'
              '    $h = "none"', [(h, "text")], h=h, t=t)
    return True


def t_aug_dict(g: Gen) -> bool:
    ts = g.pick("texts")
    choice = g.rng.randrange(4)
    if choice == 0:
        c = g.new("totals")
        g.add("augmented assignment into a local dict entry from a result",
              "$c = {}\nfor x in $ts:\n    mood = classify(x)\n    $c[mood] = $c.get(mood, 0)\n"
              "    $c[mood] += score(x)", [(c, "any")], c=c, ts=ts)
    elif choice == 1:
        c = g.new("joined")
        g.add("augmented string concatenation into a dict entry",
              '$c = {"all": ""}\nfor x in $ts:\n    $c["all"] += llm(x)', [(c, "any")],
              c=c, ts=ts)
    elif choice == 2:
        g.add("augmented assignment into an argument's dict entry",
              'cfg["k"] += score($t)', t=g.pick("text"))
    else:
        ns = g.new("state")
        g.add("augmented assignment into an attribute from results",
              "$ns = SimpleNamespace(total=0)\nfor x in $ts:\n    $ns.total += score(x)",
              [(ns, "any")], ns=ns, ts=ts)
    return True


def t_container_writes(g: Gen) -> bool:
    """Writes into a container that are not a plain ``c[k] = v``, into local containers and
    the program's arguments (see ``t_global_container_writes`` for module-level ones)."""
    t, v = g.pick("text"), g.new("text")
    choice = g.rng.randrange(7)
    if choice == 0:
        c = g.new("box")
        g.add("chained assignment into a local dict entry", "$c = {}\n$c[$t] = $v = llm($t)",
              [(c, "any"), (v, "text")], c=c, v=v, t=t)
    elif choice == 1:
        c = g.new("box")
        g.add("tuple target with a local dict entry",
              '$c = {}\n$v, $c["score"] = llm($t), score($t)', [(c, "any"), (v, "text")],
              c=c, v=v, t=t)
    elif choice == 2:
        c = g.new("texts")
        g.add("slice assignment of results into a local list",
              "$c = []\n$c[0:0] = [llm(x) for x in $ts]", [(c, "texts")], c=c,
              ts=g.pick("texts"))
    elif choice == 3:
        c = g.new("box")
        g.add("dict.update(key=result) on a local dict",
              "$c = {}\n$c.update(last=llm($t), mood=classify($t))", [(c, "any")], c=c, t=t)
    elif choice == 4:
        c, al = g.new("texts"), g.new("alias")
        g.add("+= of results through an alias of a local list",
              "$c = list($ts)\n$al = $c\n$al += [llm($t)]", [(c, "texts")], c=c, al=al, t=t,
              ts=g.pick("texts"))
    elif choice == 5:
        g.add("chained assignment into an argument's dict entry", 'cfg["reply"] = $v = llm($t)',
              [(v, "text")], v=v, t=t)
    else:
        g.add("dict.update(key=result) and tuple target on an argument",
              'cfg.update(last=llm($t))\n$v, cfg["score"] = classify($t), score($t)',
              [(v, "text")], v=v, t=t)
    return True


def t_global_container_writes(g: Gen) -> bool:
    """Writes of results into module-level containers (or one held by an object's attribute)
    that are not a plain ``c[k] = v``: a stand-in stays there after the jitted call."""
    t = g.pick("text")
    choice = g.rng.randrange(7)
    if choice == 0:
        m = g.new("text")
        g.add("augmented assignment into a module dict entry from a result",
              "$m = classify($t)\nTALLY[$m] = TALLY.get($m, 0)\nTALLY[$m] += score($t)",
              [(m, "text")], m=m, t=t)
    elif choice == 1:
        v = g.new("text")
        g.add("chained assignment into a module dict entry", "TALLY[$t] = $v = llm($t)",
              [(v, "text")], v=v, t=t)
    elif choice == 2:
        v = g.new("text")
        g.add("tuple target with a module dict entry", "$v, TALLY[$t] = llm($t), score($t)",
              [(v, "text")], v=v, t=t)
    elif choice == 3:
        g.add("slice assignment of results into a module list",
              "NOTES[len(NOTES):] = [llm(x) for x in $ts]", ts=g.pick("texts"))
    elif choice == 4:
        g.add("dict.update(key=result) on a module dict", "TALLY.update(last=llm($t))", t=t)
    elif choice == 5:
        al = g.new("alias")
        g.add("+= of a result through an alias of a module list", "$al = NOTES\n$al += [llm($t)]",
              al=al, t=t)
    else:
        ns, v = g.new("state"), g.new("text")
        g.add("chained assignment into a dict held by a returned object's attribute",
              "$ns = SimpleNamespace(d={})\n$ns.d[$t] = $v = llm($t)", [(ns, "any"), (v, "text")],
              ns=ns, v=v, t=t)
    return True


def t_global_helper(g: Gen) -> bool:
    t = g.pick("text")
    choice = g.rng.randrange(3)
    if choice == 0:
        v = g.new("text")
        g.add("helper increments a global counter from a result", "$v = count_words($t)",
              [(v, "text")], ["count_words"], v=v, t=t)
    elif choice == 1:
        g.add("helper increments a global counter by a leaf result, in a loop",
              "for x in $ts:\n    bump_score(x)", helpers=["bump_score"], ts=g.pick("texts"))
    else:
        k = g.new("num")
        g.add("helper returns the global counter it increments", "$k = bump_score($t)",
              [(k, "num")], ["bump_score"], k=k, t=t)
    return True


def t_helper_try(g: Gen) -> bool:
    t, v = g.pick("text"), g.new("text")
    choice = g.rng.randrange(3)
    if choice == 0:
        g.add("leaf raises inside a helper, caught with try/except/else/finally",
              "try:\n    $v = checked($t)\nexcept ValueError as exc:\n"
              '    LOG.append(("helper ValueError", str(exc)))\n    $v = "bad"\n'
              'except KeyError:\n    $v = "nokey"\nelse:\n    LOG.append(("else", $v))\n'
              'finally:\n    LOG.append("helper finally")', [(v, "text")], ["checked"],
              v=v, t=t)
    elif choice == 1:
        vs = g.new("texts")
        g.add("leaf raises inside a helper, try/except in a loop",
              "$vs = []\nfor x in $ts:\n    try:\n        $vs.append(checked(x))\n"
              "    except (ValueError, KeyError) as exc:\n"
              '        LOG.append(("loop", type(exc).__name__))\n    else:\n'
              '        LOG.append(("ok", x))', [(vs, "texts")], ["checked"], vs=vs,
              ts=g.pick("texts"))
    else:
        g.add("helper re-raises as another exception (raise from), caller catches",
              "try:\n    $v = relabel($t)\nexcept LookupError as exc:\n"
              '    LOG.append(("lookup", str(exc), type(exc.__cause__).__name__))\n'
              '    $v = "relabelled"\nexcept ValueError as exc:\n'
              '    LOG.append(("value", str(exc)))\n    $v = "rejected"', [(v, "text")],
              ["relabel"], v=v, t=t)
    return True


def t_finally_return(g: Gen) -> bool:
    t = g.pick("text")
    choice = g.rng.randrange(4)
    if choice == 0:
        v = g.new("text")
        g.add("helper returns inside finally (swallows a leaf's exception)",
              "$v = settle($t)", [(v, "text")], ["settle"], v=v, t=t)
    elif choice == 1:
        v = g.new("text")
        g.add("program returns inside finally",
              "try:\n    $v = risky($t)\nfinally:\n    if score($t) > 6:\n"
              '        return {"finally": $t}', [(v, "text")], v=v, t=t)
    elif choice == 2:
        v = g.new("text")
        g.add("break inside finally (swallows a leaf's exception)",
              '$v = "none"\nfor x in $ts:\n    try:\n        $v = risky(x)\n    finally:\n'
              '        LOG.append(("tried", x))\n        break', [(v, "text")], v=v,
              ts=g.pick("texts"))
    else:
        vs = g.new("texts")
        g.add("continue inside finally (swallows a leaf's exception)",
              "$vs = []\nfor x in $ts:\n    try:\n        $vs.append(risky(x))\n    finally:\n"
              "        continue", [(vs, "texts")], vs=vs, ts=g.pick("texts"))
    return True


def t_short_circuit(g: Gen) -> bool:
    ts = g.pick("texts")
    choice = g.rng.randrange(4)
    if choice == 0:
        f = g.new("flag")
        g.add("any(generator of leaf calls) stops early", "$f = any(score(x) > 6 for x in $ts)",
              [(f, "flag")], f=f, ts=ts)
    elif choice == 1:
        f = g.new("flag")
        g.add("all(generator of leaf calls) stops early",
              '$f = all(classify(x) != "sad" for x in $ts)', [(f, "flag")], f=f, ts=ts)
    elif choice == 2:
        v = g.new("text")
        g.add("next(generator, default) over results",
              '$v = next((r for r in (maybe(x) for x in $ts) if r is not None), "none")',
              [(v, "text")], v=v, ts=ts)
    else:
        v = g.new("text")
        g.add("next(filter(None, map(leaf, ...)), default)",
              '$v = next(filter(None, map(maybe, $ts)), "none")', [(v, "text")], v=v, ts=ts)
    return True


def t_user_protocols(g: Gen) -> bool:
    t, ts = g.pick("text"), g.pick("texts")
    choice = g.rng.randrange(9)
    if choice == 0:
        d, v = g.new("docobj"), g.new("text")
        g.add("property making a leaf call", "$d = Doc($t)\n$v = $d.summary", [(v, "text")],
              ["Doc"], d=d, v=v, t=t)
    elif choice == 1:
        d, v = g.new("docobj"), g.new("texts")
        g.add("callable object (__call__) making leaf calls",
              "$d = Doc($t)\n$v = [$d(x) for x in $ts]", [(v, "texts")], ["Doc"], d=d, v=v,
              t=t, ts=ts)
    elif choice == 2:
        v = g.new("texts")
        g.add("functools.lru_cache helper making a leaf call",
              "$v = [cached_reply(x) for x in $ts + $ts]", [(v, "texts")], ["cached_reply"],
              v=v, ts=ts)
    elif choice == 3:
        v = g.new("texts")
        g.add("generator helper yielding leaf results", "$v = list(replies($ts))",
              [(v, "texts")], ["replies"], v=v, ts=ts)
    elif choice == 4:
        v = g.new("nums")
        g.add("decorated helper (functools.wraps)", "$v = [graded(x) for x in $ts]",
              [(v, "nums")], ["graded"], v=v, ts=ts)
    elif choice == 5:
        v, w = g.new("text"), g.new("staged")
        g.add("contextmanager helper yielding a leaf result",
              "with stage($t) as $w:\n    $v = $w.upper()", [(v, "text")], ["stage"],
              v=v, w=w, t=t)
    elif choice == 7:
        v = g.new("text")
        g.add("operator method (__add__) making a leaf call",
              "$v = (Money($t) + Money(models[0])).text", [(v, "text")], ["Money"], v=v, t=t)
    elif choice == 8:
        v = g.new("texts")
        g.add("sorted() calling back __lt__ that makes leaf calls",
              "$v = [x.text for x in sorted(Money(y) for y in $ts)]", [(v, "texts")],
              ["Money"], v=v, ts=ts)
    else:
        v = g.new("text")
        g.add("user exception raised with a result, caught by class",
              'try:\n    if score($t) > 4:\n        raise Rejected(llm($t))\n    $v = "accepted"\n'
              "except Rejected as exc:\n    $v = str(exc)", [(v, "text")], ["Rejected"],
              v=v, t=t)
    return True


def t_star_unpack(g: Gen) -> bool:
    a, r = g.new("text"), g.new("texts")
    g.add("star-unpacking results", "$a, *$r = [llm(x) for x in models]",
          [(a, "text"), (r, "texts")], a=a, r=r)
    return True


def t_deep_recursion(g: Gen) -> bool:
    """Recursion a few hundred levels deep (plain Python allows about 990)."""
    k, d = g.new("num"), g.rng.choice([200, 400, 800])
    if g.rng.random() < 0.5:
        g.add("self-recursive helper a few hundred levels deep",
              "$k = deep_count(list(range($d))) + score($t)", [(k, "num")], ["deep_count"],
              k=k, d=str(d), t=g.pick("text"))
    else:
        fn = g.new("depth")
        g.add("recursive closure a few hundred levels deep",
              "def $fn(j):\n    return 0 if j == 0 else 1 + $fn(j - 1)\n\n"
              "$k = $fn($d) + score($t)", [(k, "num")], fn=fn, k=k, d=str(d), t=g.pick("text"))
    return True

def t_context_var(g: Gen) -> bool:
    t, ts = g.pick("text"), g.pick("texts")
    choice = g.rng.randrange(3)
    if choice == 0:
        vs = g.new("texts")
        g.add("context variable set before a fan-out that reads it",
              'REQUEST.set(f"req {len($ts)}")\n$vs = [tagged(x) for x in $ts]',
              [(vs, "texts")], vs=vs, ts=ts)
    elif choice == 1:
        v, w = g.new("text"), g.new("text")
        g.add("context variable changed between two calls that read it",
              "$v = tagged($t)\ntoken = REQUEST.set($t)\n$w = tagged($t)\nREQUEST.reset(token)",
              [(v, "text"), (w, "text")], v=v, w=w, t=t)
    else:
        v = g.new("text")
        g.add("context variable read after calls",
              'REQUEST.set("r-" + $t)\n$v = REQUEST.get() + " " + tagged($t)',
              [(v, "text")], v=v, t=t)
    return True


def t_exception_chain(g: Gen) -> bool:
    v, t = g.new("text"), g.pick("text")
    if g.rng.randrange(2):
        g.add("leaf raises an exception from another", "$v = lookup_strict($t)", [(v, "text")],
              v=v, t=t)
    else:
        g.add("fallback call in an except block (may fail while handling)",
              'try:\n    $v = risky($t)\nexcept ValueError:\n    $v = risky($t + "?")',
              [(v, "text")], v=v, t=t)
    return True


def t_leaf_iterator(g: Gen) -> bool:
    v, ts = g.new("text"), g.pick("texts")
    code, name = g.rng.choice([
        ("$v = join_texts(x.upper() for x in $ts)", "leaf given a generator of results"),
        ("$v = join_texts(map(str, $ts))", "leaf given map() over results"),
        ("try:\n    $v = join_texts(x for x in $ts if x)\nexcept ValueError:\n    $v = ''",
         "leaf given a generator inside try"),
    ])
    g.add(name, code, [(v, "text")], v=v, ts=ts)
    return True


def t_leaf_mutates(g: Gen) -> bool:
    t, ts = g.pick("text"), g.pick("texts")
    v = g.new("text")
    if g.rng.randrange(2):
        g.add("leaf appends to the list it is given, read at once",
              '$v = [q]\nfor x in $ts:\n    remember($v, x)\n    $v.append(len($v))\n'
              '$v = " ".join(str(x) for x in $v)', [(v, "text")], v=v, ts=ts)
    else:
        g.add("leaf sets keys of the dict it is given",
              '$v = {}\nfor x in $ts + [$t]:\n    tally_into($v, x)\n'
              '$v = json.dumps($v, sort_keys=True)',
              [(v, "text")], v=v, ts=ts, t=t)
    return True


# -- conversions, membership, copies, printing, user protocols around calls ---------------
def t_convert(g: Gen) -> bool:
    """Builtins and str methods that look at a result: ``int``, ``float``, ``len``, slicing,
    ``split``, ``startswith``, ``bool``, ``hash``."""
    t = g.pick("text")
    choice = g.rng.randrange(8)
    if choice == 0:
        k = g.new("num")
        g.add("int() of a result's digits", '$k = int(llm($t).split()[-1]) % 7', [(k, "num")],
              k=k, t=t)
    elif choice == 1:
        k = g.new("num")
        g.add("float() of a score, rounded", "$k = round(float(score($t)) / 3, 2)",
              [(k, "any")], k=k, t=t)
    elif choice == 2:
        v = g.new("text")
        g.add("len() of a result in a branch",
              '$v = llm($t)\nif len($v) > 12:\n    $v = $v[:12] + "…"', [(v, "text")], v=v, t=t)
    elif choice == 3:
        v, w = g.new("text"), g.new("texts")
        g.add("slicing and split() of a result",
              '$v = llm($t)[-3:]\n$w = llm($t + "?").split()[1:]', [(v, "text"), (w, "texts")],
              v=v, w=w, t=t)
    elif choice == 4:
        v = g.new("text")
        g.add("startswith() branch on a result",
              '$v = llm($t, model=models[-1])\nif $v.startswith(models[0]):\n'
              '    $v = "first " + $v\nelif $v.endswith(("1", "2")):\n    $v = $v.upper()',
              [(v, "text")], v=v, t=t)
    elif choice == 5:
        f = g.new("flag")
        g.add("bool() of a result", "$f = bool(maybe($t)) and bool(score($t))", [(f, "any")],
              f=f, t=t)
    elif choice == 6:
        k = g.new("num")
        g.add("hash() of a result", "$k = hash(llm($t)) == hash(llm($t))", [(k, "any")],
              k=k, t=t)
    else:
        v, k = g.new("text"), g.new("num")
        g.add("+= on a pending string and number",
              '$v = llm($t)\n$k = score($t)\n$v += "!"\n$k += score($v)\n$v += str($k)',
              [(v, "text"), (k, "num")], v=v, k=k, t=t)
    return True


def t_membership(g: Gen) -> bool:
    """``in``, ``index``, ``count`` over a list of results."""
    ts, t = g.pick("texts"), g.pick("text")
    choice = g.rng.randrange(4)
    if choice == 0:
        f = g.new("flag")
        g.add("x in results", '$f = "happy" in [classify(x) for x in $ts]', [(f, "flag")],
              f=f, ts=ts)
    elif choice == 1:
        rs, k = g.new("moods"), g.new("num")
        g.add("results.index(x) guarded by in",
              '$rs = [classify(x) for x in $ts]\n$k = $rs.index("sad") if "sad" in $rs else -1',
              [(rs, "texts"), (k, "num")], rs=rs, k=k, ts=ts)
    elif choice == 2:
        rs, k = g.new("moods"), g.new("num")
        g.add("results.count(x)",
              '$rs = [classify(x) for x in $ts + [$t]]\n$k = $rs.count("neutral")',
              [(rs, "texts"), (k, "num")], rs=rs, k=k, ts=ts, t=t)
    else:
        v = g.new("texts")
        g.add("result not in seen (dedupe loop)",
              "$v = []\nfor x in $ts + $ts:\n    r = classify(x)\n    if r not in $v:\n"
              "        $v.append(r)", [(v, "texts")], v=v, ts=ts)
    return True


def t_key_max(g: Gen) -> bool:
    ts = g.pick("texts")
    choice = g.rng.randrange(3)
    v = g.new("text")
    if choice == 0:
        g.add("max(results, key=len)", '$v = max([llm(x) for x in $ts], key=len, default="")',
              [(v, "text")], v=v, ts=ts)
    elif choice == 1:
        g.add("sorted(results, key=str.lower)[-1]",
              '$v = sorted([llm(x) for x in $ts] + [$t], key=str.lower)[-1]', [(v, "text")],
              v=v, ts=ts, t=g.pick("text"))
    else:
        g.add("max of (score, result) pairs",
              '$v = max(((score(x), llm(x)) for x in $ts), default=(0, ""))[1]', [(v, "text")],
              v=v, ts=ts)
    return True


def t_print(g: Gen) -> bool:
    """``print`` to a file-like object between calls and effects: the printed lines join
    the effects, so their order is compared."""
    t = g.pick("text")
    choice = g.rng.randrange(3)
    if choice == 0:
        v = g.new("text")
        g.add("print a result between effects",
              '$v = llm($t)\nemit("before", $t)\nprint("got", $v, file=SINK)\nemit("after", $v)',
              [(v, "text")], ["SINK"], v=v, t=t)
    elif choice == 1:
        v = g.new("nums")
        g.add("print in a loop over results",
              '$v = [score(x) for x in $ts]\nfor i, s in enumerate($v):\n'
              '    print(f"{i}: {s}", file=SINK)', [(v, "nums")], ["SINK"], v=v,
              ts=g.pick("texts"))
    else:
        v = g.new("text")
        g.add("print a failing call's result, then an effect",
              '$v = risky($t)\nprint("risky said", $v, sep=": ", file=SINK)\npublish($v)',
              [(v, "text")], ["SINK"], v=v, t=t)
    return True


def t_copy(g: Gen) -> bool:
    t = g.pick("text")
    choice = g.rng.randrange(4)
    if choice == 0:
        d, c = g.new("box"), g.new("box")
        g.add("copy.deepcopy of a dict of results, then mutated",
              '$d = {"a": llm($t), "tags": [classify($t)]}\n$c = copy.deepcopy($d)\n'
              '$c["tags"].append("copied")', [(d, "any"), (c, "any")], d=d, c=c, t=t)
    elif choice == 1:
        d, c = g.new("texts"), g.new("texts")
        g.add("copy.copy of a list of results",
              "$d = [llm(x) for x in $ts]\n$c = copy.copy($d)\n$c.append(q)",
              [(d, "texts"), (c, "texts")], d=d, c=c, ts=g.pick("texts"))
    elif choice == 2:
        rec, r2 = g.new("record"), g.new("record")
        g.add("dataclasses.replace of a result with a result",
              "$rec = extract($t)\n$r2 = dataclasses.replace($rec, name=llm($t))",
              [(rec, "record"), (r2, "record")], rec=rec, r2=r2, t=t)
    else:
        ns, v = g.new("state"), g.new("text")
        g.add("getattr(obj, name, default) with a result as default",
              '$ns = SimpleNamespace(answer=llm($t))\n'
              '$v = getattr($ns, "label", None) or getattr($ns, "answer", classify($t))',
              [(ns, "any"), (v, "text")], ns=ns, v=v, t=t)
    return True


def t_formatting(g: Gen) -> bool:
    t, k = g.pick("text"), g.pick("num")
    v = g.new("text")
    code, name = g.rng.choice([
        ('$v = "%(a)s/%(s)03d" % {"a": llm($t), "s": score($t)}', "%-formatting with a dict"),
        ('$v = "{a} [{s:>3}]".format(a=llm($t), s=score($t))', "str.format with keywords"),
        ('$v = "{0[title]} #{0[id]}".format(fetch($t))', "str.format indexing a result"),
        ('$v = format(score($t), "03d") + format($k, "x")', "format() of results"),
        ('$v = "%s" % (maybe($t),)', "%-formatting a possibly-None result"),
        ('$v = "%s:%s%s" % llm($t).partition(" ")', "%-formatting with a pending tuple"),
        ('fmt = "%s=%s"\n$v = fmt % tuple(llm($t).split(" says "))',
         "%-formatting a pending tuple with a format in a variable"),
    ])
    g.add(name, code, [(v, "text")], v=v, t=t, k=k)
    return True


def t_kwargs(g: Gen) -> bool:
    t = g.pick("text")
    v = g.new("text")
    code, name = g.rng.choice([
        ('$v = llm(**{"prompt": llm($t), "model": models[0]})', "result passed in **kwargs"),
        ("$v = llm($t, model=classify($t))", "result as a keyword argument"),
        ("$v = llm(*[llm($t)], **dict(model=classify($t)))", "results in *args and **dict()"),
    ])
    g.add(name, code, [(v, "text")], v=v, t=t)
    return True


def t_loop_results(g: Gen) -> bool:
    ts = g.pick("texts")
    choice = g.rng.randrange(4)
    if choice == 0:
        v = g.new("texts")
        g.add("enumerate over results, then if",
              '$v = []\nfor i, r in enumerate([llm(x) for x in $ts]):\n    if r.endswith("7"):\n'
              '        $v.append(f"{i} lucky")\n    elif i % 2:\n        $v.append(r)',
              [(v, "texts")], v=v, ts=ts)
    elif choice == 1:
        v = g.new("texts")
        g.add("zip over two lists of results, then if",
              "$v = [a for a, b in zip([llm(x) for x in $ts], [score(x) for x in $ts]) "
              "if b % 2]", [(v, "texts")], v=v, ts=ts)
    elif choice == 2:
        v = g.new("texts")
        g.add("dict.items() loop over a dict of results",
              '$v = []\nfor m, r in {m: classify(m + $t) for m in models}.items():\n'
              '    if r != "sad":\n        $v.append(m + "=" + r)', [(v, "texts")], v=v,
              t=g.pick("text"))
    else:
        v = g.new("opt")
        g.add("helper returns early from a loop over results", "$v = first_long($ts)",
              [(v, "opt")], ["first_long"], v=v, ts=ts)
    return True


def t_partial_gen(g: Gen) -> bool:
    """A generator helper consumed only partly: plain Python never makes the later calls."""
    ts = g.pick("texts")
    gn = g.new("gen")
    choice = g.rng.randrange(3)
    if choice == 0:
        v = g.new("any")
        g.add("next() on a generator helper (partly consumed)",
              "$gn = numbered($ts)\n$v = next($gn, None)", [(v, "any")], ["numbered"],
              gn=gn, v=v, ts=ts)
    elif choice == 1:
        v = g.new("any")
        g.add("generator helper with yield from, fully consumed", "$v = list(numbered($ts))",
              [(v, "any")], ["numbered"], v=v, ts=ts)
    else:
        v = g.new("any")
        g.add("for-break over a generator helper",
              "$v = None\nfor i, r in numbered($ts):\n    $v = (i, r)\n    break", [(v, "any")],
              ["numbered"], v=v, ts=ts, gn=gn)
    return True


def t_user_with(g: Gen) -> bool:
    """A user context manager (class with ``__enter__``/``__exit__``) around calls."""
    t = g.pick("text")
    v = g.new("text")
    choice = g.rng.randrange(3)
    if choice == 0:
        g.add("user with-block swallowing ValueError around a failing call",
              '$v = "unset"\nwith Quiet($t):\n    $v = risky($t)', [(v, "text")], ["Quiet"],
              v=v, t=t)
    elif choice == 1:
        g.add("user with-block around dependent calls",
              'with Quiet("pair") as qt:\n    $v = llm(risky($t) + qt.name)\n'
              '$v = $v or "empty"', [(v, "text")], ["Quiet"], v=v, t=t)
    else:
        g.add("user with-block nested in try",
              'try:\n    with Quiet("inner"):\n        $v = risky($t).upper()\n'
              '        LOG.append(("inside", $v))\nexcept KeyError as exc:\n'
              '    $v = "key " + str(exc)', [(v, "text")], ["Quiet"], v=v, t=t)
    return True


def t_stateful(g: Gen) -> bool:
    """A method stores a result on ``self``; another method reads it (``is None``)."""
    nb, v = g.new("book"), g.new("text")
    if g.rng.randrange(2):
        g.add("method stores a result on self, another reads it",
              "$nb = Notebook()\n$v = $nb.note($t).note($t + \"!\").recall()",
              [(v, "text")], ["Notebook"], nb=nb, v=v, t=g.pick("text"))
    else:
        g.add("method state read before any store",
              "$nb = Notebook()\n$v = $nb.recall()\nfor x in $ts:\n    $nb.note(x)\n"
              "$v += \" then \" + $nb.recall()", [(v, "text")], ["Notebook"], nb=nb, v=v,
              ts=g.pick("texts"))
    return True


def t_accumulate(g: Gen) -> bool:
    ts = g.pick("texts")
    choice = g.rng.randrange(3)
    if choice == 0:
        g.add("global list appended with results in a loop",
              "for x in $ts:\n    NOTES.append(llm(x))\n    if len(NOTES) > 3:\n"
              "        NOTES.pop(0)", ts=ts)
    elif choice == 1:
        c, fn, v = g.new("num"), g.new("bump"), g.new("nums")
        g.add("nonlocal counter incremented by results",
              "$c = 0\n\ndef $fn(x):\n    nonlocal $c\n    $c += score(x)\n    return $c\n\n"
              "$v = [$fn(x) for x in $ts]", [(c, "num"), (v, "nums")], c=c, fn=fn, v=v, ts=ts)
    else:
        v = g.new("any")
        g.add("nested dicts and lists of results",
              '$v = {"by": {m: [llm(m + $t), {"s": score(m)}] for m in models}, '
              '"all": [[classify(x)] for x in $ts]}', [(v, "any")], v=v, ts=ts,
              t=g.pick("text"))
    return True


def t_inplace_grow(g: Gen) -> bool:
    """``xs += <pending list>``: the list itself grows, as every alias of it sees (the
    program's arguments, a list held twice)."""
    t = g.pick("text")
    choice = g.rng.randrange(3)
    if choice == 0:
        g.add("argument list += a pending list", "models += llm($t).split()[-1:]", t=t)
    elif choice == 1:
        w, al = g.new("texts"), g.new("texts")
        g.add("local list += a pending list, read through an alias",
              "$w = [$t]\n$al = $w\nfor x in models:\n    $w += classify(x + $t).split()\n"
              "$al = list($al)", [(w, "texts"), (al, "texts")], w=w, al=al, t=t)
    else:
        r = g.new("resp")
        g.add("chat history += messages sliced from a reply",
              "$r = chat(history)\nhistory += [c[\"message\"] for c in $r[\"choices\"]]\n"
              "history += chat(history)[\"choices\"][:1]", r=r)
    return True

def t_while_result(g: Gen) -> bool:
    v, k = g.new("text"), g.new("num")
    g.add("while loop whose condition reads a result",
          "$v = llm($t)\n$k = 0\nwhile not $v.endswith((\"0\", \"1\", \"2\")) and $k < 4:\n"
          "    $k += 1\n    $v = llm($v)", [(v, "text"), (k, "num")], v=v, k=k,
          t=g.pick("text"))
    return True


def t_later_try(g: Gen) -> bool:
    """A failing call made outside a ``try``, its result first used inside one: plain Python
    raised at the call, so no ``except``, ``finally`` or effect of the later ``try`` runs."""
    t, v, c = g.pick("text"), g.new("text"), g.new("text")
    choice = g.rng.randrange(3)
    if choice == 0:
        g.add("failing call's result used first inside a later try/except Exception",
              "$c = risky($t)\ntry:\n    $v = str(int(len($c) > 3)) + $c\n"
              'except Exception as exc:\n    LOG.append(("later", type(exc).__name__))\n'
              '    $v = "caught later"', [(c, "text"), (v, "text")], c=c, v=v, t=t)
    elif choice == 1:
        g.add("failing call's result used inside a later try whose finally has an effect",
              '$c = risky($t)\ntry:\n    $v = f"{$c}!"\nfinally:\n    emit("finally", $t)',
              [(c, "text"), (v, "text")], c=c, v=v, t=t)
    else:
        g.add("failing call's result used inside a later try, effect in the handler",
              '$c = risky($t)\ntry:\n    $v = json.dumps($c)\nexcept (TypeError, ValueError):\n'
              '    publish("fallback " + $t)\n    $v = "fallback"', [(c, "text"), (v, "text")],
              c=c, v=v, t=t)
    return True


# -- operators, records, assert, try/else, raise from, exception groups -------------------
def t_operator(g: Gen) -> bool:
    """``xcs.Operator`` subclasses: a plain one (each call one leaf call) and a jitted one."""
    t, ts = g.pick("text"), g.pick("texts")
    op = g.new("op")
    choice = g.rng.randrange(4)
    if choice == 0:
        v = g.new("texts")
        g.add("xcs.Operator called over a list (one leaf call each)",
              '$op = Summarizer("brief")\n$v = [$op(x) for x in $ts]', [(v, "texts")],
              ["Summarizer"], op=op, v=v, ts=ts)
    elif choice == 1:
        v = g.new("text")
        g.add("xcs.Operator given a result and a keyword argument",
              '$v = Summarizer("formal")(llm($t), model=models[0])', [(v, "text")],
              ["Summarizer"], v=v, t=t)
    elif choice == 2:
        v = g.new("text")
        g.add("jitted xcs.Operator class (forward compiled)",
              "$op = Pick(models)\n$v = $op($t) + \" / \" + $op(llm($t))", [(v, "text")],
              ["Summarizer"], op=op, v=v, t=t)
    else:
        v = g.new("texts")
        g.add("operators in a dict, chosen by a result",
              '$op = {"happy": Summarizer("cheer"), "sad": Summarizer("console")}\n'
              '$v = [$op.get(classify(x), Summarizer("plain"))(x) for x in $ts]',
              [(v, "texts")], ["Summarizer"], op=op, v=v, ts=ts)
    return True


def t_records(g: Gen) -> bool:
    """NamedTuple, ordered frozen dataclass and Enum records built from results, compared."""
    t, ts = g.pick("text"), g.pick("texts")
    choice = g.rng.randrange(5)
    if choice == 0:
        v, f = g.new("verdicts"), g.new("flag")
        g.add("NamedTuple records of results, sorted by a field, compared to tuples",
              "$v = sorted([Verdict(classify(x), score(x)) for x in $ts], "
              "key=lambda r: (r.score, r.label))\n"
              "$f = bool($v) and $v[0] == ($v[0].label, $v[0].score)", [(v, "any"), (f, "flag")],
              ["imports", "records"], v=v, f=f, ts=ts)
    elif choice == 1:
        v, w = g.new("ranked"), g.new("text")
        g.add("ordered dataclass records of results, max()",
              "$v = [Ranked(score(x), llm(x)) for x in $ts + [$t]]\n$w = max($v).text",
              [(v, "any"), (w, "text")], ["imports", "records"], v=v, w=w, ts=ts, t=t)
    elif choice == 2:
        v, w = g.new("flag"), g.new("text")
        g.add("Enum from a result, identity and membership",
              "m = Mood(classify($t))\n$v = m is Mood.HAPPY or m in (Mood.SAD,)\n"
              "$w = m.name.lower() + str(list(Mood).index(m))", [(v, "flag"), (w, "text")],
              ["imports", "records"], v=v, w=w, t=t)
    elif choice == 3:
        v, f = g.new("verdict"), g.new("flag")
        g.add("NamedTuple unpacked, _replace()d and compared",
              "label, s = Verdict(classify($t), score($t))\n"
              "$v = Verdict(label, s)._replace(score=s + 1)\n$f = $v == Verdict(label, s + 1)",
              [(v, "any"), (f, "flag")], ["imports", "records"], v=v, f=f, t=t)
    else:
        a, f = g.new("record"), g.new("flag")
        g.add("dataclass results compared for equality (== and is not)",
              "$a = extract($t)\nb = extract($t)\n$f = ($a == b, $a is not b, $a != extract(q))",
              [(a, "record"), (f, "any")], a=a, f=f, t=t)
    return True


def t_assert(g: Gen) -> bool:
    t = g.pick("text")
    choice = g.rng.randrange(3)
    if choice == 0:
        v = g.new("text")
        g.add("assert on a result (may fail, message from the result)",
              '$v = llm($t)\nassert not $v.endswith("7"), f"unlucky: {$v}"', [(v, "text")],
              v=v, t=t)
    elif choice == 1:
        v = g.new("text")
        g.add("assert on a result inside try/except AssertionError",
              "try:\n    $v = llm($t)\n    assert score($v) > 2, $v\n"
              'except AssertionError as exc:\n    LOG.append(("assert", str(exc)))\n'
              '    $v = "weak"', [(v, "text")], v=v, t=t)
    else:
        k = g.new("nums")
        g.add("assert over a list of results (all())",
              "$k = [score(x) for x in $ts]\nassert all(0 <= s < 10 for s in $k), $k",
              [(k, "nums")], k=k, ts=g.pick("texts"))
    return True


def t_try_else(g: Gen) -> bool:
    """``try/except/else``: a call in ``else`` is not the ``except``'s; ``continue`` and
    ``break`` inside nested ``try`` in loops."""
    t, ts = g.pick("text"), g.pick("texts")
    choice = g.rng.randrange(3)
    if choice == 0:
        v = g.new("text")
        g.add("try/else: a failing call in else escapes the except",
              'try:\n    $v = llm($t)\nexcept ValueError:\n    $v = "never"\nelse:\n'
              '    LOG.append(("else", $v))\n    $v = risky($v)', [(v, "text")], v=v, t=t)
    elif choice == 1:
        v = g.new("text")
        g.add("try/else in a loop: continue in except, break in else",
              '$v = "none"\nfor x in $ts + [$t]:\n    try:\n        r = risky(x)\n'
              "    except ValueError:\n        continue\n    except KeyError as exc:\n"
              '        LOG.append(("skip", str(exc)))\n        continue\n    else:\n'
              "        $v = r\n        break", [(v, "text")], v=v, ts=ts, t=t)
    else:
        v = g.new("texts")
        g.add("nested try in a loop: continue inside, break in the outer except",
              "$v = []\nfor x in $ts + [$t]:\n    try:\n        try:\n"
              "            $v.append(risky(x))\n        except ValueError:\n"
              '            $v.append("v")\n            continue\n'
              "        $v.append(llm(x))\n    except KeyError:\n"
              '        $v.append("k")\n        break\nelse:\n    $v.append("all done")',
              [(v, "texts")], v=v, ts=ts, t=t)
    return True


def t_raise_from(g: Gen) -> bool:
    t = g.pick("text")
    v = g.new("text")
    choice = g.rng.randrange(3)
    if choice == 0:
        g.add("raise ... from exc with a result in the message (uncaught)",
              "try:\n    $v = risky($t)\nexcept (ValueError, KeyError) as exc:\n"
              '    raise RuntimeError(f"{llm($t)} failed") from exc', [(v, "text")], v=v, t=t)
    elif choice == 1:
        g.add("raise ... from exc in a nested try, caught outside",
              "try:\n    try:\n        $v = risky($t)\n    except KeyError as exc:\n"
              "        raise LookupError(classify($t)) from exc\nexcept LookupError as exc:\n"
              '    $v = f"{exc} <- {type(exc.__cause__).__name__}"\nexcept ValueError as exc:\n'
              '    $v = "value: " + str(exc)', [(v, "text")], v=v, t=t)
    else:
        g.add("raise ... from None with a result, caught outside",
              "try:\n    try:\n        $v = risky($t)\n    except ValueError:\n"
              "        raise KeyError(llm($t)) from None\nexcept KeyError as exc:\n"
              '    LOG.append(("from None", exc.__suppress_context__, exc.__cause__ is None))\n'
              "    $v = str(exc)", [(v, "text")], v=v, t=t)
    return True


def t_exception_group(g: Gen) -> bool:
    """ExceptionGroup of leaf failures (3.11+, guarded inside the program); ``except*``
    only where the generating interpreter can compile it (3.10 cannot)."""
    ts, t = g.pick("texts"), g.pick("text")
    v = g.new("texts")
    star = sys.version_info >= (3, 11)
    choice = g.rng.randrange(3)
    if choice == 0 or not star:
        g.add("ExceptionGroup of caught leaf failures, split()",
              "errs = []\n$v = []\nfor x in $ts + [$t]:\n    try:\n        $v.append(risky(x))\n"
              "    except (ValueError, KeyError) as exc:\n        errs.append(exc)\n"
              'if errs and hasattr(builtins, "ExceptionGroup"):\n    try:\n'
              '        raise ExceptionGroup(f"{len(errs)} failed", errs)\n'
              "    except ExceptionGroup as eg:\n        vals, rest = eg.split(ValueError)\n"
              "        $v.append(f\"{vals and len(vals.exceptions)}/\"\n"
              "                  f\"{rest and len(rest.exceptions)}\")",
              [(v, "texts")], ["imports"], v=v, ts=ts, t=t)
    elif choice == 1:
        g.add("except* over an ExceptionGroup of leaf failures",
              "$v = []\ntry:\n    errs = []\n    for x in $ts + [$t]:\n        try:\n"
              "            $v.append(risky(x))\n        except Exception as exc:\n"
              "            errs.append(exc)\n    if errs:\n"
              '        raise ExceptionGroup("some failed", errs)\nexcept* ValueError as eg:\n'
              '    LOG.append(("values", len(eg.exceptions)))\nexcept* KeyError as eg:\n'
              '    LOG.append(("keys", [str(e) for e in eg.exceptions]))',
              [(v, "texts")], v=v, ts=ts, t=t)
    else:
        w = g.new("text")
        g.add("except* around a leaf call raising a bare exception",
              "try:\n    $w = risky($t)\nexcept* ValueError as eg:\n"
              "    $w = repr(eg.exceptions[0])", [(w, "text")], w=w, t=t)
    return True


# -- itertools, collections, text, numbers, partial/itemgetter over results ---------------
def t_iter_tools(g: Gen) -> bool:
    ts, t = g.pick("texts"), g.pick("text")
    choice = g.rng.randrange(7)
    if choice == 0:
        v = g.new("texts")
        g.add("itertools.chain over lists of results",
              "$v = list(itertools.chain([llm(x) for x in $ts], [classify($t)]))",
              [(v, "texts")], ["imports"], v=v, ts=ts, t=t)
    elif choice == 1:
        v = g.new("groups")
        g.add("itertools.groupby over sorted results",
              "$v = [(k, len(list(grp))) for k, grp in "
              "itertools.groupby(sorted(classify(x) for x in $ts + [$t]))]",
              [(v, "any")], ["imports"], v=v, ts=ts, t=t)
    elif choice == 2:
        v = g.new("texts")
        g.add("itertools.islice of a generator of calls (partly consumed)",
              "$v = list(itertools.islice((llm(x) for x in $ts + [$t]), 2))",
              [(v, "texts")], ["imports"], v=v, ts=ts, t=t)
    elif choice == 3:
        v, w = g.new("texts"), g.new("nums")
        g.add("zip(*results) to unzip pairs of results",
              "pairs = [(llm(x), score(x)) for x in $ts]\n"
              "$v, $w = (list(c) for c in zip(*pairs)) if pairs else ([], [])",
              [(v, "texts"), (w, "nums")], v=v, w=w, ts=ts)
    elif choice == 4:
        v = g.new("texts")
        g.add("map(op, xs) and map(op, xs, ys) with a leaf op as the function",
              "$v = list(map(classify, $ts)) + list(map(llm, $ts, models))",
              [(v, "texts")], v=v, ts=ts)
    elif choice == 5:
        v = g.new("texts")
        g.add("filter(None, results) and sorted(set(results))",
              "$v = list(filter(None, [maybe(x) for x in $ts]))\n"
              "$v = sorted(set($v + [classify(x) for x in $ts]))", [(v, "texts")], v=v, ts=ts)
    else:
        v = g.new("bymodel")
        g.add("dict(zip(keys, results)) and Counter(results).most_common()",
              "$v = dict(zip(models, [score($t + m) for m in models]))\n"
              "$v[\"top\"] = Counter(classify(x) for x in $ts + [$t]).most_common(1)",
              [(v, "any")], v=v, ts=ts, t=t)
    return True


def t_collect_text(g: Gen) -> bool:
    ts, t = g.pick("texts"), g.pick("text")
    choice = g.rng.randrange(6)
    if choice == 0:
        v = g.new("groups")
        g.add("defaultdict(list) appends of results keyed by results",
              "$v = defaultdict(list)\nfor x in $ts:\n    $v[classify(x)].append(llm(x))\n"
              "$v = dict($v)", [(v, "any")], v=v, ts=ts)
    elif choice == 1:
        v = g.new("text")
        g.add('"".join(f-strings of results)',
              '$v = "".join(f"{r}\\n" for r in [llm(x) for x in $ts])', [(v, "text")],
              v=v, ts=ts)
    elif choice == 2:
        v = g.new("texts")
        g.add("re.findall on results",
              '$v = [m for x in $ts for m in re.findall(r"\\d", llm(x))]', [(v, "texts")],
              v=v, ts=ts)
    elif choice == 3:
        v = g.new("text")
        g.add("re.sub with a function making leaf calls",
              '$v = re.sub(r"\\d+", lambda m: str(score(m.group())), llm($t))',
              [(v, "text")], v=v, t=t)
    elif choice == 4:
        v = g.new("text")
        g.add("textwrap.shorten of a result",
              '$v = textwrap.shorten(llm($t) + " " + llm($t + "!"), width=16, placeholder="...")',
              [(v, "text")], ["imports"], v=v, t=t)
    else:
        v = g.new("texts")
        g.add("operator.itemgetter over fetched docs",
              '$v = list(map(operator.itemgetter("title"), '
              'sorted([fetch(x) for x in $ts], key=operator.itemgetter("id"))))',
              [(v, "texts")], ["imports"], v=v, ts=ts)
    return True


def t_numbers(g: Gen) -> bool:
    ts, t = g.pick("texts"), g.pick("text")
    choice = g.rng.randrange(5)
    if choice == 0:
        v = g.new("stat")
        g.add("round(statistics.mean(results), 2)",
              "$v = round(statistics.mean([score(x) for x in $ts + [$t]]), 2)", [(v, "any")],
              v=v, ts=ts, t=t)
    elif choice == 1:
        a, b = g.new("num"), g.new("num")
        g.add("divmod() of a result unpacked", "$a, $b = divmod(score($t) + 7, 3)",
              [(a, "num"), (b, "num")], a=a, b=b, t=t)
    elif choice == 2:
        v = g.new("num")
        g.add("abs() of a difference of results",
              '$v = abs(score($t) - score($t + "!"))', [(v, "num")], v=v, t=t)
    elif choice == 3:
        v = g.new("num")
        g.add("min(generator of calls, default=) (empty and not)",
              "$v = min((score(x) for x in $ts if len(x) > 99), default=-1) + "
              "min([score(x) for x in $ts], default=0)", [(v, "num")], v=v, ts=ts)
    else:
        v = g.new("texts")
        g.add("sum(lists of results, start=[])",
              "$v = sum([[classify(x)] for x in $ts], start=[])\n"
              "$v.append(str(sum((score(x) for x in $ts), 10)))", [(v, "texts")], v=v, ts=ts)
    return True


def t_bound_calls(g: Gen) -> bool:
    """A result bound into ``functools.partial``, ``lru_cache`` keyed by results,
    ``operator.itemgetter``/``attrgetter`` applied to results."""
    ts, t = g.pick("texts"), g.pick("text")
    choice = g.rng.randrange(4)
    if choice == 0:
        v = g.new("texts")
        g.add("functools.partial(op, result)",
              "fn = functools.partial(llm, llm($t))\n$v = [fn(model=m) for m in models]",
              [(v, "texts")], v=v, t=t)
    elif choice == 1:
        v = g.new("texts")
        g.add("functools.lru_cache helper keyed by results",
              "$v = [mood_of(llm(x)) for x in $ts + $ts]", [(v, "texts")], ["mood_of"],
              v=v, ts=ts)
    elif choice == 2:
        v = g.new("pair")
        g.add("operator.itemgetter on a list of results",
              "$v = operator.itemgetter(0, -1)([llm(x) for x in $ts + [$t]])", [(v, "any")],
              ["imports"], v=v, ts=ts, t=t)
    else:
        v = g.new("num")
        g.add("operator.attrgetter on a record result",
              '$v = operator.attrgetter("score")(extract($t)) + len(extract($t).tags)',
              [(v, "num")], ["imports"], v=v, t=t)
    return True


def t_nested_jit(g: Gen) -> bool:
    t, _ = g.pick("text"), g.pick("texts")  # the second pick keeps the seeds' programs
    v = g.new("text")
    choice = g.rng.randrange(3)
    if choice == 0:
        g.add("jitted function calling another jitted function",
              "$v = best_reply($t, models)", [(v, "text")], ["best_reply"], v=v, t=t)
    elif choice == 1:
        g.add("jitted function given a result by the jitted caller",
              "$v = best_reply(llm($t), models[:2]) + best_reply($t, models[-1:])",
              [(v, "text")], ["best_reply"], v=v, t=t)
    else:
        g.add("failing jitted function called in try",
              "try:\n    $v = checked_pair($t)\nexcept ValueError as exc:\n"
              '    $v = "bad " + str(exc)\nexcept KeyError:\n    $v = "no key"', [(v, "text")],
              ["best_reply"], v=v, t=t)
    return True


def t_module_state(g: Gen) -> bool:
    """Module-level caches keyed by results, class attributes updated from results, ``del``."""
    ts, t = g.pick("texts"), g.pick("text")
    choice = g.rng.randrange(5)
    if choice == 0:
        g.add("module cache keyed by results (setdefault().append)",
              "for x in $ts:\n    MEMO.setdefault(classify(x), []).append(llm(x))", ts=ts)
    elif choice == 1:
        v = g.new("stats")
        g.add("class attributes updated from results",
              "for x in $ts:\n    Stats.total += score(x)\n    Stats.last = llm(x)\n"
              "    Stats.seen.append(Stats.last)\n$v = (Stats.total, Stats.last, list(Stats.seen))",
              [(v, "any")], ["Stats"], v=v, ts=ts)
    elif choice == 2:
        v = g.new("bytext")
        g.add("del of dict items chosen by results",
              "$v = {x: llm(x) for x in $ts}\nfor k in list($v):\n    if score($v[k]) % 2:\n"
              "        del $v[k]", [(v, "any")], v=v, ts=ts)
    elif choice == 3:
        v = g.new("box")
        g.add("del d[result] and del of list items and names",
              '$v = {"happy": 1, "sad": 2, "neutral": 3}\ndel $v[classify($t)]\n'
              "tmp = [llm(x) for x in $ts + [$t]]\ndel tmp[0]\n$v[\"rest\"] = tmp\ndel tmp",
              [(v, "any")], v=v, ts=ts, t=t)
    else:
        v = g.new("text")
        g.add("module dict keyed by a result read back, then deleted",
              "key = llm($t)\nTALLY[key] = score(key)\n$v = f\"{key}={TALLY[key]}\"\n"
              "del TALLY[key]", [(v, "text")], v=v, t=t)
    return True


def t_later_broad(g: Gen) -> bool:
    """A failing call's result first used inside a later ``try`` whose handler takes every
    exception (``except:``, ``except BaseException``): plain Python raised at the call,
    so the handler never runs (nor exits the program, nor retries)."""
    t, v, c = g.pick("text"), g.new("text"), g.new("text")
    choice = g.rng.randrange(4 if sys.version_info >= (3, 11) else 3)
    if choice == 0:
        g.add("failing call's result used first inside a later try/except BaseException",
              "$c = risky($t)\ntry:\n    $v = $c.upper()\nexcept BaseException as exc:\n"
              '    LOG.append(("broad", type(exc).__name__))\n    $v = "caught"',
              [(c, "text"), (v, "text")], c=c, v=v, t=t)
    elif choice == 1:
        g.add("failing call's result used first inside a later try, bare except exits",
              "$c = risky($t)\ntry:\n    $v = json.loads(json.dumps($c))\nexcept:\n"
              '    raise SystemExit("cannot read the reply")', [(c, "text"), (v, "text")],
              c=c, v=v, t=t)
    elif choice == 2:
        g.add("failing call's result used first inside a retry loop with a bare except",
              '$c = risky($t)\n$v = "none"\nfor attempt in range(3):\n    try:\n'
              "        $v = $c + str(attempt)\n        break\n    except:\n"
              '        LOG.append(("retry", attempt))', [(c, "text"), (v, "text")],
              c=c, v=v, t=t)
    else:
        g.add("failing call's result used first inside a later try/except* BaseException",
              "$c = risky($t)\ntry:\n    $v = $c.upper()\nexcept* BaseException as eg:\n"
              '    LOG.append(("star", len(eg.exceptions)))\n    $v = "caught"',
              [(c, "text"), (v, "text")], c=c, v=v, t=t)
    return True


# -- threads, event loops, serialisation, logging, user value classes, generators ----------
def t_threads(g: Gen) -> bool:
    """The program's own threads (``threading.Thread``, ``ThreadPoolExecutor``) calling ops."""
    t, ts = g.pick("text"), g.pick("texts")
    v = g.new("texts")
    choice = g.rng.randrange(4)
    if choice == 0:
        g.add("threading.Thread per model, each storing a leaf result",
              "$v = {}\nworkers = [threading.Thread(target=ask_into, args=($v, m, $t + m)) "
              "for m in models]\nfor w in workers:\n    w.start()\nfor w in workers:\n"
              "    w.join()\n$v = [$v[m] for m in models]", [(v, "texts")], ["thread_helpers"],
              v=v, t=t)
    elif choice == 1:
        g.add("ThreadPoolExecutor.map with a leaf op",
              "with concurrent.futures.ThreadPoolExecutor(2) as ex:\n"
              "    $v = list(ex.map(llm, $ts))", [(v, "texts")], ["more_imports"], v=v, ts=ts)
    elif choice == 2:
        g.add("ThreadPoolExecutor.submit of a helper given a pending result",
              "r = llm($t)\nwith concurrent.futures.ThreadPoolExecutor(2) as ex:\n"
              "    futs = [ex.submit(rate_pair, r + x) for x in $ts]\n"
              "$v = [f.result() for f in futs]", [(v, "any")],
              ["more_imports", "thread_helpers"], v=v, t=t, ts=ts)
    else:
        g.add("ThreadPoolExecutor.submit of a failing op, result() in try",
              "with concurrent.futures.ThreadPoolExecutor(2) as ex:\n"
              "    futs = [ex.submit(risky, x) for x in $ts + [$t]]\n$v = []\nfor f in futs:\n"
              "    try:\n        $v.append(f.result())\n"
              "    except (ValueError, KeyError) as exc:\n        $v.append(type(exc).__name__)",
              [(v, "texts")], ["more_imports"], v=v, t=t, ts=ts)
    return True


def t_asyncio_run(g: Gen) -> bool:
    """``asyncio.run`` of the program's coroutine that awaits async ops (sync programs only:
    in a running event loop plain Python refuses it)."""
    if g.is_async:
        return False
    t = g.pick("text")
    choice = g.rng.randrange(3)
    if choice == 0:
        v = g.new("opts")
        g.add("asyncio.run of a coroutine gathering async ops", "$v = asyncio.run(ask_both($t))",
              [(v, "opts")], ["co_helpers"], v=v, t=t)
    elif choice == 1:
        v = g.new("text")
        g.add("asyncio.run of a coroutine chaining awaits, then a sync op",
              "$v = asyncio.run(ask_chain($t)) + llm($t)", [(v, "text")], ["co_helpers"],
              v=v, t=t)
    else:
        v = g.new("texts")
        g.add("asyncio.run in a loop, given a pending result",
              "$v = [asyncio.run(ask_chain(llm(x))) for x in models]", [(v, "texts")],
              ["co_helpers"], v=v)
    return True


def t_serialize(g: Gen) -> bool:
    """pickle, ``json.dumps(default=str)``, ``repr``/``str`` and ``print`` of containers of
    results."""
    t, ts = g.pick("text"), g.pick("texts")
    choice = g.rng.randrange(6)
    v = g.new("text")
    if choice == 0:
        v = g.new("texts")
        g.add("pickle round trip of a list of results",
              "$v = pickle.loads(pickle.dumps([llm(x) for x in $ts]))", [(v, "texts")],
              ["more_imports"], v=v, ts=ts)
    elif choice == 1:
        g.add("json.dumps(default=str) of a dict holding a record result",
              '$v = json.dumps({"r": extract($t), "n": score($t)}, default=str)', [(v, "text")],
              v=v, t=t)
    elif choice == 2:
        g.add("repr() of a list of results", "$v = repr([maybe(x) for x in $ts])",
              [(v, "text")], v=v, ts=ts)
    elif choice == 3:
        g.add("str() of a dict of results", "$v = str({m: classify(m + $t) for m in models})",
              [(v, "text")], v=v, t=t)
    elif choice == 4:
        g.add("print() of a list and a dict of results",
              '$v = llm($t)\nprint([llm(x) for x in $ts], {"s": score($v)}, file=SINK)',
              [(v, "text")], ["SINK"], v=v, t=t, ts=ts)
    else:
        g.add("!r conversion of a list of results in an f-string",
              '$v = f"{[fetch(x) for x in $ts]!r} / {(score($t), maybe($t))}"', [(v, "text")],
              v=v, t=t, ts=ts)
    return True


def t_logging(g: Gen) -> bool:
    """``logging`` calls given results as ``%s`` arguments (formatted by the handler)."""
    t, ts = g.pick("text"), g.pick("texts")
    choice = g.rng.randrange(4)
    if choice == 0:
        g.add("logging.info with results as %-arguments",
              'LOGGER.info("reply %s scored %d", llm($t), score($t))', (), ["more_imports",
                                                                              "LOGGER"], t=t)
    elif choice == 1:
        g.add("logging.warning in a loop over leaf results",
              'for x in $ts:\n    LOGGER.warning("%s -> %r", x, classify(x))', (),
              ["more_imports", "LOGGER"], ts=ts)
    elif choice == 2:
        v = g.new("text")
        g.add("logging a failing call's result",
              '$v = risky($t)\nLOGGER.info("risky gave %s", $v)', [(v, "text")],
              ["more_imports", "LOGGER"], v=v, t=t)
    else:
        g.add("logging with a dict of results as the one argument",
              'LOGGER.info("%(a)s/%(b)s", {"a": llm($t), "b": score($t)})', (),
              ["more_imports", "LOGGER"], t=t)
    return True


def t_value_class(g: Gen) -> bool:
    """User classes holding results: ``__eq__``/``__hash__``, ``__iter__``/``__len__``,
    ``@property``; an orchestrator class keeping results on ``self``."""
    t, ts = g.pick("text"), g.pick("texts")
    choice = g.rng.randrange(6)
    if choice == 0:
        f = g.new("flags")
        g.add("user __eq__/__hash__ over results, set of objects, property",
              "a = Answer(llm($t), classify($t))\nb = Answer(llm($t), classify($t))\n"
              "$f = (a == b, len({a, b}), a.short, len(a))", [(f, "any")], ["Answer"], f=f, t=t)
    elif choice == 1:
        v = g.new("texts")
        g.add("user __iter__ unpacking objects built from results",
              "$v = [text for text, mood in (Answer(llm(x), classify(x)) for x in $ts) "
              'if mood != "sad"]', [(v, "texts")], ["Answer"], v=v, ts=ts)
    elif choice == 2:
        v = g.new("board")
        g.add("orchestrator class: results on self, property, __len__, __iter__",
              "bd = Board(models).run($t)\n$v = (len(bd), bd.best, list(bd))", [(v, "any")],
              ["Answer"], v=v, t=t)
    elif choice == 3:
        v = g.new("texts")
        g.add("user objects holding results as dict keys",
              '$v = {Answer(llm(x), "k"): x for x in $ts + $ts}\n$v = sorted(a.short for a in $v)',
              [(v, "texts")], ["Answer"], v=v, ts=ts)
    elif choice == 4:
        f = g.new("flag")
        g.add("user __eq__ in list membership over results",
              "$f = Answer(llm($t), classify($t)) in [Answer(llm(x), classify(x)) for x in $ts]",
              [(f, "flag")], ["Answer"], f=f, t=t, ts=ts)
    else:
        v = g.new("text")
        g.add("branch on an orchestrator's property reading results",
              'bd = Board(models).run($t)\nif bd.best.endswith(("1", "2", "3")):\n'
              '    $v = "low " + bd.best\nelse:\n    $v = llm(bd.best)', [(v, "text")],
              ["Answer"], v=v, t=t)
    return True


def t_key_op(g: Gen) -> bool:
    """A leaf op itself as the ``key`` of ``sorted``, ``list.sort``, ``max``, ``min``."""
    t, ts = g.pick("text"), g.pick("texts")
    choice = g.rng.randrange(5)
    if choice == 0:
        v = g.new("texts")
        g.add("sorted(xs, key=op)", "$v = sorted($ts + [$t], key=score)", [(v, "texts")],
              v=v, ts=ts, t=t)
    elif choice == 1:
        v = g.new("texts")
        g.add("list.sort(key=op) in place", "$v = sorted($ts + [$t])\n$v.sort(key=classify)",
              [(v, "texts")], v=v, ts=ts, t=t)
    elif choice == 2:
        v = g.new("text")
        g.add("max(xs, key=op, default=)", '$v = max($ts, key=score, default="")',
              [(v, "text")], v=v, ts=ts)
    elif choice == 3:
        v = g.new("texts")
        g.add("list of results sorted in place with key=op",
              "$v = [llm(x) for x in $ts]\n$v.sort(key=score, reverse=True)", [(v, "texts")],
              v=v, ts=ts)
    else:
        v = g.new("text")
        g.add("min(map(op, xs), key=len)", '$v = min(map(llm, $ts), key=len, default="")',
              [(v, "text")], v=v, ts=ts)
    return True


def t_text_template(g: Gen) -> bool:
    t, ts = g.pick("text"), g.pick("texts")
    choice = g.rng.randrange(5)
    if choice == 0:
        v = g.new("text")
        g.add("str.format_map with results",
              '$v = "{a} ({m})".format_map({"a": llm($t), "m": classify($t)})', [(v, "text")],
              v=v, t=t)
    elif choice == 1:
        v = g.new("text")
        g.add("string.Template.substitute with a result",
              '$v = string.Template("$$who said $$what").substitute(who=models[0], what=llm($t))',
              [(v, "text")], ["more_imports"], v=v, t=t)
    elif choice == 2:
        v = g.new("text")
        g.add("string.Template.safe_substitute with a dict of results",
              '$v = string.Template("$$a/$$b").safe_substitute({"a": llm($t)})', [(v, "text")],
              ["more_imports"], v=v, t=t)
    elif choice == 3:
        v = g.new("bymood")
        g.add("dict.fromkeys(results, result)",
              "$v = dict.fromkeys([classify(x) for x in $ts], llm($t))", [(v, "any")],
              v=v, ts=ts, t=t)
    else:
        v = g.new("bytext")
        g.add("dict.fromkeys(xs), then filled with results",
              "$v = dict.fromkeys($ts)\nfor k in $v:\n    $v[k] = score(k)", [(v, "any")],
              v=v, ts=ts)
    return True


def t_slices(g: Gen) -> bool:
    """Slice assignment and deletion with results, ``enumerate(start=)``."""
    t, ts = g.pick("text"), g.pick("texts")
    choice = g.rng.randrange(5)
    if choice == 0:
        v = g.new("texts")
        g.add("xs[1:2] = [result] on a list of results",
              "$v = [llm(x) for x in $ts + [$t]]\n$v[1:2] = [classify($t)]", [(v, "texts")],
              v=v, ts=ts, t=t)
    elif choice == 1:
        v = g.new("texts")
        g.add("enumerate(generator of calls, start=1)",
              '$v = [f"{i}. {r}" for i, r in enumerate((llm(x) for x in $ts), start=1)]',
              [(v, "texts")], v=v, ts=ts)
    elif choice == 2:
        v = g.new("any")
        g.add("slice insert, slice replace and slice delete with results",
              "$v = list(models)\n$v[:0] = [llm($t)]\n$v[-1:] = [score(x) for x in $ts][:1]\n"
              "del $v[1:2]", [(v, "any")], v=v, ts=ts, t=t)
    elif choice == 3:
        v = g.new("texts")
        g.add("extended slice assignment of results",
              "$v = [$t] * 3\n$v[::2] = [llm($t), classify($t)]", [(v, "texts")], v=v, t=t)
    else:
        v = g.new("byindex")
        g.add("dict(enumerate(results, start=10))",
              "$v = dict(enumerate([score(x) for x in $ts], start=10))", [(v, "any")],
              v=v, ts=ts)
    return True


def t_gen_send(g: Gen) -> bool:
    """Generators driven with ``send()``, finished with ``StopIteration.value``; ``yield from``
    a sub-generator's return value."""
    ts = g.pick("texts")
    v = g.new("text")
    choice = g.rng.randrange(4)
    if choice == 0:
        g.add("generator driven with send(), then closed",
              '$v = ""\ngen = running_best()\nnext(gen)\nfor x in $ts:\n    $v = gen.send(x)\n'
              "gen.close()", [(v, "text")], ["gen_helpers"], v=v, ts=ts)
    elif choice == 1:
        g.add("generator sent None: StopIteration.value",
              '$v = "none"\ngen = running_best()\nnext(gen)\nfor x in $ts:\n    gen.send(x)\n'
              "try:\n    gen.send(None)\nexcept StopIteration as stop:\n    $v = stop.value",
              [(v, "text")], ["gen_helpers"], v=v, ts=ts)
    elif choice == 2:
        v = g.new("texts")
        g.add("yield from a sub-generator's return value", "$v = list(outer_replies($ts))",
              [(v, "texts")], ["gen_helpers"], v=v, ts=ts)
    else:
        g.add("next() on a yield-from generator (partly consumed)",
              '$v = next(outer_replies($ts), "none")', [(v, "text")], ["gen_helpers"],
              v=v, ts=ts)
    return True


def t_late_binding(g: Gen) -> bool:
    """Closures capturing results in loops: late binding and default-argument binding;
    helpers changing a global counter, called from comprehensions."""
    ts = g.pick("texts")
    choice = g.rng.randrange(5)
    if choice == 0:
        v = g.new("texts")
        g.add("lambdas capturing a comprehension's result (late binding)",
              "fns = [lambda: r for r in [llm(x) for x in $ts]]\n$v = [f() for f in fns]",
              [(v, "texts")], v=v, ts=ts)
    elif choice == 1:
        v = g.new("texts")
        g.add("lambdas binding a loop's result as a default argument",
              "fns = []\nfor x in $ts:\n    r = llm(x)\n    fns.append(lambda r=r: r.upper())\n"
              "$v = [f() for f in fns]", [(v, "texts")], v=v, ts=ts)
    elif choice == 2:
        v = g.new("texts")
        g.add("closures in a dict capturing a loop variable (late binding)",
              'fns = {}\nfor x in $ts:\n    r = classify(x)\n    fns[x] = lambda: r + "!"\n'
              "$v = [fns[x]() for x in $ts]", [(v, "texts")], v=v, ts=ts)
    elif choice == 3:
        v = g.new("nums")
        g.add("helper bumping a global counter, in a list comprehension",
              "$v = [bump_score(x) for x in $ts]", [(v, "nums")], ["bump_score"], v=v, ts=ts)
    else:
        v = g.new("bytext")
        g.add("helper bumping a global counter, in a dict comprehension, then read",
              "$v = {x: count_words(x) for x in $ts}\n$v[\"count\"] = COUNT", [(v, "any")],
              ["count_words"], v=v, ts=ts)
    return True


def t_gen_break(g: Gen) -> bool:
    """Short-circuits over lazy iterators of leaf calls: plain Python never makes the later
    calls."""
    t, ts = g.pick("text"), g.pick("texts")
    choice = g.rng.randrange(4)
    if choice == 0:
        v = g.new("text")
        g.add("for-break over a generator expression of calls",
              '$v = "none"\nfor r in (llm(x) for x in $ts + [$t]):\n    if score(r) > 4:\n'
              "        $v = r\n        break", [(v, "text")], v=v, ts=ts, t=t)
    elif choice == 1:
        f = g.new("flag")
        g.add("any(map(lambda with a leaf call, xs))",
              "$f = any(map(lambda x: score(x) > 6, $ts + [$t]))", [(f, "flag")], f=f,
              ts=ts, t=t)
    elif choice == 2:
        v = g.new("text")
        g.add("next(llm(x) for x in xs if score(x) > 3), default)",
              '$v = next((llm(x) for x in $ts + [$t] if score(x) > 3), "none")', [(v, "text")],
              v=v, ts=ts, t=t)
    else:
        v = g.new("texts")
        g.add("itertools.takewhile over a generator of calls",
              '$v = list(itertools.takewhile(lambda r: r != "sad", '
              "(classify(x) for x in $ts + [$t])))", [(v, "texts")], ["imports"], v=v,
              ts=ts, t=t)
    return True


def t_frame_readers(g: Gen) -> bool:
    """``locals()``, ``vars()``, ``dir()`` read in the program and in helpers."""
    t = g.pick("text")
    choice = g.rng.randrange(3)
    if choice == 0:
        v = g.new("text")
        g.add("json.dumps(locals()) in a helper holding a result",
              "$v = snapshot($t)", [(v, "text")], ["snapshot"], v=v, t=t)
    elif choice == 1:
        v = g.new("texts")
        g.add("dir() and vars() in a helper that stores results",
              "$v = names_of($t)", [(v, "texts")], ["snapshot"], v=v, t=t)
    else:
        v = g.new("num")
        g.add("len(locals()) in the program after calls",
              "$v = llm($t)\n$v = len(locals()) + len(dir())", [(v, "num")], v=v, t=t)
    return True


def t_caller_frames(g: Gen) -> bool:
    """Where ``logging`` and ``warnings`` say a record or a warning was made (the caller's
    function and line).  PENDING: a call from compiled code to library code goes through
    ``calls.call``, so they name a frame of xcs (``_foreign`` in calls.py), not the user's."""
    t = g.pick("text")
    if g.rng.randrange(2):
        g.add("logging record's funcName and lineno, given a result",
              'CALLER.info("reply %s", llm($t))', (), ["more_imports", "CALLER"], t=t)
    else:
        v = g.new("warned")
        g.add("warnings.warn in a helper: the warning's line", "$v = warn_odd($t)",
              [(v, "any")], ["more_imports", "CALLER"], v=v, t=t)
    return True


# -- async-only templates -----------------------------------------------------------------
def a_await(g: Gen) -> bool:
    v = g.new("text")
    g.add("await async op", f"$v = await allm({g.text_expr()})", [(v, "text")], v=v)
    return True


def a_gather_helpers(g: Gen) -> bool:
    v = g.new("texts")
    g.add("gather over user coroutines",
          "$v = await asyncio.gather(*[run_llm(m, $t) for m in models])",
          [(v, "texts")], ["run_llm"], v=v, t=g.pick("text"))
    return True


def a_context_var(g: Gen) -> bool:
    t, ts = g.pick("text"), g.pick("texts")
    if g.rng.randrange(2):
        vs = g.new("texts")
        g.add("context variable set before gathered async calls that read it",
              'REQUEST.set(f"areq {len($ts)}")\n'
              "$vs = list(await asyncio.gather(*[atagged(x) for x in $ts]))",
              [(vs, "texts")], vs=vs, ts=ts)
    else:
        v, w = g.new("text"), g.new("text")
        g.add("context variable changed between two awaits that read it",
              "$v = await atagged($t)\nREQUEST.set($t + \"!\")\n"
              "$w = await atagged($t) + tagged($t)",
              [(v, "text"), (w, "text")], v=v, w=w, t=t)
    return True


def a_exception_chain(g: Gen) -> bool:
    v, t = g.new("text"), g.pick("text")
    g.add("fallback await in an except block (may fail while handling)",
          'try:\n    $v = await arisky($t)\nexcept ValueError:\n    $v = await arisky($t + "?")\n'
          "$v = $v + lookup_strict($v)", [(v, "text")], v=v, t=t)
    return True


def a_leaf_mutates(g: Gen) -> bool:
    v = g.new("text")
    g.add("awaited leaf appends to the list it is given",
          '$v = [q]\nfor x in $ts:\n    n = await aremember($v, x)\n    $v.append(n == len($v))\n'
          '$v = " ".join(str(x) for x in $v)', [(v, "text")], v=v, ts=g.pick("texts"))
    return True


def a_gather_ops(g: Gen) -> bool:
    v = g.new("texts")
    g.add("gather over async ops",
          "$v = list(await asyncio.gather(*(allm($t, model=m) for m in models)))",
          [(v, "texts")], v=v, t=g.pick("text"))
    return True


def a_gather_future(g: Gen) -> bool:
    """What ``gather`` returns used as the future it is: asked ``done()``, awaited twice,
    given a done callback, handed to ``asyncio.wait``, its failure read from it."""
    v, t = g.new("texts"), g.pick("text")
    calls = "*(allm($t, model=m) for m in models)"
    variants = [
        ("asked done(), awaited twice",
         f"fut = asyncio.gather({calls})\n"
         'LOG.append(("gather future", isinstance(fut, asyncio.Future), fut.done()))\n'
         "$v = list(await fut)\n"
         'LOG.append(("awaited again", list(await fut) == $v, fut.done()))'),
        ("done callback",
         f"fut = asyncio.gather({calls})\nseen = []\n"
         "fut.add_done_callback(lambda f: seen.append((f is fut, f.done())))\n"
         "$v = list(await fut)\nawait asyncio.sleep(0)\n"
         'LOG.append(("callback", seen))'),
        ("asyncio.wait",
         f"fut = asyncio.gather({calls})\n"
         "done, pending = await asyncio.wait([fut])\n"
         '$v = list(fut.result())\nLOG.append(("waited", fut in done, len(pending)))'),
        ("its failure read from it",  # one call: which of several fails first is timing
         "fut = asyncio.gather(arisky($t))\n"
         "await asyncio.wait([fut])\n"
         "$v = [type(fut.exception()).__name__ if fut.exception() else "
         "'none', str(fut.exception() or '')]"),
    ]
    name, code = g.rng.choice(variants)
    g.add(f"gather's future {name}", code, [(v, "texts")], v=v, t=t)
    return True


def a_await_none(g: Gen) -> bool:
    v = g.new("text")
    g.add("is None after await", '$v = await amaybe($t)\nif $v is None:\n    $v = "none"',
          [(v, "text")], v=v, t=g.pick("text"))
    return True


def a_first_present(g: Gen) -> bool:
    v = g.new("opt")
    g.add("async helper loop is not None", "$v = await first_present($ts)", [(v, "opt")],
          ["first_present"], v=v, ts=g.pick("texts"))
    return True


def a_try_await(g: Gen) -> bool:
    v = g.new("text")
    g.add("try around await",
          'try:\n    $v = await allm(risky($t))\nexcept ValueError as exc:\n'
          '    LOG.append(("async ValueError", str(exc)))\n    $v = "recovered"\n'
          'except KeyError:\n    $v = "key"', [(v, "text")], v=v, t=g.pick("text"))
    return True


def a_debate(g: Gen) -> bool:
    tr = g.new("transcript")
    g.add("debate rounds (gather + history)",
          '$tr = [{"role": "user", "content": $t}]\nfor _ in range(2):\n'
          "    said = await asyncio.gather(*[debate_round(m, $tr) for m in models])\n"
          "    $tr.extend(said)", [(tr, "any")], ["debate_round"], tr=tr, t=g.pick("text"))
    return True


def a_gather_recursive(g: Gen) -> bool:
    choice = g.rng.randrange(3)
    if choice == 0:
        v = g.new("trees")
        g.add("gather over self-recursive coroutines",
              "$v = await asyncio.gather(*[tree_llm([m, $t, m + $t], 2) for m in models])",
              [(v, "any")], ["tree_llm"], v=v, t=g.pick("text"))
    elif choice == 1:
        v = g.new("opts")
        g.add("gather over mutually recursive coroutines",
              "$v = list(await asyncio.gather(*[ping(k, $t) for k in range(3)]))",
              [(v, "opts")], ["ping_pong"], v=v, t=g.pick("text"))
    else:
        v = g.new("texts")
        g.add("await a self-recursive coroutine that gathers", "$v = await tree_llm($ts, 3)",
              [(v, "texts")], ["tree_llm"], v=v, ts=g.pick("texts"))
    return True


# -- async: failures that belong to whoever awaits, asyncio APIs over op calls ------------
def a_gather_return_exceptions(g: Gen) -> bool:
    """``gather(..., return_exceptions=True)``: each failed call's exception in its place."""
    v, w, t = g.new("results"), g.new("texts"), g.pick("text")
    choice = g.rng.randrange(4)
    if choice == 0:
        code, name, helpers = ("$v = await asyncio.gather(*[arisky(m + $t) for m in models], "
                               "return_exceptions=True)"), "gather(return_exceptions) over ops", ()
    elif choice == 1:
        code, name, helpers = ("$v = await asyncio.gather(*(shout_risky(m + $t) for m in models),"
                               " return_exceptions=True)",
                               "gather(return_exceptions) over coroutines awaiting failing ops",
                               ("shout_risky",))
    elif choice == 2:
        code, name, helpers = ("$v = await asyncio.gather(allm($t), arisky($t), "
                               'shout_risky($t + "!"), amaybe($t), arisky(models[-1]), '
                               "return_exceptions=True)",
                               "gather(return_exceptions) over ops and coroutines mixed",
                               ("shout_risky",))
    else:
        code, name, helpers = ("$v = await asyncio.gather(*[guarded(m + $t) for m in models], "
                               "arisky($t), return_exceptions=True)",
                               "gather(return_exceptions) over coroutines catching ValueError",
                               ("guarded",))
    code += ('\n$w = [r if isinstance(r, str) else f"{type(r).__name__}: {r}" if '
             'isinstance(r, Exception) else repr(r) for r in $v]')
    g.add(name, code, [(v, "any"), (w, "texts")], helpers, v=v, w=w, t=t)
    return True


def a_gather_fail_caught(g: Gen) -> bool:
    """``gather`` without return_exceptions, a call fails, the caller's try catches it.  The
    siblings of a failed call go on running in plain Python: the sleep lets them finish."""
    v, t = g.new("texts"), g.pick("text")
    choice = g.rng.randrange(3)
    if choice == 0:  # one call may fail: which exception is deterministic
        g.add("gather with one failing op in try/except",
              "try:\n    $v = list(await asyncio.gather(allm($t), arisky($t + \"?\"), "
              "allm($t, model=\"m2\")))\nexcept ValueError as exc:\n"
              '    LOG.append(("gather ValueError", str(exc)))\n    $v = ["recovered"]\n'
              'except KeyError as exc:\n    LOG.append(("gather KeyError", str(exc)))\n'
              '    $v = ["missing"]\nawait asyncio.sleep(0.01)', [(v, "texts")], v=v, t=t)
    elif choice == 1:  # several may fail: which one plain Python raises depends on timing
        g.add("gather with several failing ops in try/except",
              "try:\n    $v = list(await asyncio.gather(*[arisky(m + $t) for m in models]))\n"
              'except (ValueError, KeyError):\n    LOG.append("gather failed")\n    $v = []\n'
              "else:\n    LOG.append(\"gather ok\")\nawait asyncio.sleep(0.01)",
              [(v, "texts")], v=v, t=t)
    else:
        g.add("gather over coroutines, one awaiting a failing op, in try/except",
              "try:\n    $v = list(await asyncio.gather(allm($t), shout_risky($t)))\n"
              "except (ValueError, KeyError) as exc:\n"
              '    LOG.append(("helper failed", type(exc).__name__, str(exc)))\n'
              '    $v = [type(exc).__name__]\nawait asyncio.sleep(0.01)', [(v, "texts")],
              ["shout_risky"], v=v, t=t)
    return True


def a_create_task(g: Gen) -> bool:
    """``create_task``/``ensure_future`` of op calls, awaited in order or reversed."""
    v, tk, t = g.new("texts"), g.new("tasks"), g.pick("text")
    make = g.rng.choice(["asyncio.create_task", "asyncio.ensure_future"])
    order = g.rng.choice(["$tk", "reversed($tk)"])
    if g.rng.random() < 0.6:
        g.add(f"{make} of op calls awaited {'reversed' if 'rev' in order else 'in order'}",
              f"$tk = [{make}(allm($t, model=m)) for m in models]\n"
              f"$v = [await x for x in {order}]", [(v, "texts")], v=v, tk=tk, t=t)
    else:  # tasks made inside the try body that awaits them
        g.add(f"{make} of a failing op call in the try that awaits it, in a loop",
              f"$v = []\nfor m in models:\n    try:\n        x = {make}(arisky(m + $t))\n"
              "        $v.append(await x)\n    except (ValueError, KeyError) as exc:\n"
              "        $v.append(f\"{type(exc).__name__}: {exc}\")", [(v, "texts")],
              v=v, tk=tk, t=t)
    return True


def a_task_fail_caught(g: Gen) -> bool:
    """Futures of failing op calls made outside the ``try`` (or ``gather(return_exceptions)``)
    that awaits them: ``create_task``, ``ensure_future``, ``as_completed``, ``asyncio.wait``
    (a task's await waits for its call, so the failure reaches the ``except``)."""
    v, w, tk, t = g.new("texts"), g.new("text"), g.new("tasks"), g.pick("text")
    make = g.rng.choice(["asyncio.create_task", "asyncio.ensure_future"])
    order = g.rng.choice(["$tk", "reversed($tk)"])
    choice = g.rng.randrange(5)
    if choice == 0:
        g.add(f"{make} of failing op calls, each await in try",
              f"$tk = [{make}(arisky(m + $t)) for m in models]\n$v = []\n"
              f"for x in {order}:\n    try:\n        $v.append(await x)\n"
              "    except (ValueError, KeyError) as exc:\n"
              "        $v.append(f\"{type(exc).__name__}: {exc}\")", [(v, "texts")],
              v=v, tk=tk, t=t)
    elif choice == 1:
        g.add("a failing task awaited twice",
              f"$tk = {make}(arisky($t))\n"
              "try:\n    $w = await $tk\nexcept (ValueError, KeyError) as exc:\n"
              '    $w = f"first {type(exc).__name__}: {exc}"\n'
              "try:\n    $w += await $tk\nexcept (ValueError, KeyError) as exc:\n"
              '    $w += f" again {type(exc).__name__}: {exc}"', [(w, "text")],
              w=w, tk=tk, t=t)
    elif choice == 2:
        g.add(f"gather(return_exceptions) over {make} of failing op calls",
              f"$tk = [{make}(arisky(m + $t)) for m in models]\n"
              "$v = [r if isinstance(r, str) else repr(r) for r in "
              "await asyncio.gather(*$tk, return_exceptions=True)]", [(v, "texts")],
              v=v, tk=tk, t=t)
    elif choice == 3:
        g.add("asyncio.as_completed over failing op calls, each await in try, sorted",
              "$v = []\nfor fut in asyncio.as_completed([arisky(m + $t) for m in models]):\n"
              "    try:\n        $v.append(await fut)\n"
              "    except (ValueError, KeyError) as exc:\n        $v.append(repr(exc))\n"
              "$v = sorted($v)", [(v, "texts")], v=v, t=t)
    else:
        g.add("asyncio.wait over tasks of failing op calls, then .exception()",
              f"$tk = [{make}(arisky(m + $t)) for m in models]\n"
              "await asyncio.wait($tk)\n"
              "$v = [repr(x.exception()) if x.exception() else x.result() for x in $tk]",
              [(v, "texts")], v=v, tk=tk, t=t)
    return True


def a_wait_for(g: Gen) -> bool:
    v, t = g.new("text"), g.pick("text")
    choice = g.rng.randrange(3)
    if choice == 0:
        g.add("asyncio.wait_for(op call)", "$v = await asyncio.wait_for(allm($t), timeout=5)",
              [(v, "text")], v=v, t=t)
    elif choice == 1:
        g.add("asyncio.wait_for(failing op call) in try",
              "try:\n    $v = await asyncio.wait_for(arisky($t), timeout=5)\n"
              'except ValueError as exc:\n    LOG.append(("wait_for", str(exc)))\n'
              '    $v = "timely"\nexcept KeyError:\n    $v = "keyless"', [(v, "text")],
              v=v, t=t)
    else:
        g.add("asyncio.wait_for(coroutine awaiting a failing op), uncaught",
              "$v = await asyncio.wait_for(shout_risky($t), 5)", [(v, "text")],
              ["shout_risky"], v=v, t=t)
    return True


def a_as_completed(g: Gen) -> bool:
    v, ts = g.new("texts"), g.pick("texts")
    if g.rng.random() < 0.5:
        g.add("asyncio.as_completed over op calls, sorted",
              "$v = []\nfor fut in asyncio.as_completed([allm(x) for x in $ts]):\n"
              "    $v.append(await fut)\n$v = sorted($v)", [(v, "texts")], v=v, ts=ts)
    else:
        v = g.new("opts")
        g.add("asyncio.as_completed over ops and coroutines, sorted",
              "$v = sorted([await fut for fut in asyncio.as_completed("
              "[amaybe(x) for x in $ts] + [run_llm(\"m1\", x) for x in $ts], timeout=5)], "
              "key=str)", [(v, "opts")], ["run_llm"], v=v, ts=ts)
    return True


def a_task_group(g: Gen) -> bool:
    """``TaskGroup.create_task`` of op calls (guarded: 3.10 has no TaskGroup)."""
    v, tk, t = g.new("texts"), g.new("tasks"), g.pick("text")
    call = g.rng.choice(["allm($t, model=m)", "run_llm(m, $t)"])
    g.add("TaskGroup.create_task of op calls" if "allm" in call else
          "TaskGroup.create_task of coroutines",
          'if hasattr(asyncio, "TaskGroup"):\n    async with asyncio.TaskGroup() as tg:\n'
          f"        $tk = [tg.create_task({call}) for m in models]\n"
          "    $v = [x.result() for x in $tk]\nelse:\n"
          f"    $v = list(await asyncio.gather(*[{call} for m in models]))",
          [(v, "texts")], ["run_llm"] if "run_llm" in call else [], v=v, tk=tk, t=t)
    return True


def a_await_later(g: Gen) -> bool:
    """An op call made first, awaited only after other calls were awaited."""
    c, v, a, t = g.new("call"), g.new("text"), g.new("text"), g.pick("text")
    if g.rng.random() < 0.5:
        g.add("op call awaited later",
              "$c = allm($t)\n"
              'LOG.append(("is coroutine", asyncio.iscoroutine($c)))\n'
              '$a = await allm($t + "!", model="m2")\n$v = (await $c) + " / " + $a',
              [(a, "text"), (v, "text")], c=c, v=v, a=a, t=t)
    else:
        g.add("failing op call awaited later, in try",
              "$c = arisky($t)\n$a = await allm($t + \"!\")\ntry:\n    $v = await $c\n"
              "except (ValueError, KeyError) as exc:\n"
              '    $v = f"later {type(exc).__name__}"', [(a, "text"), (v, "text")],
              c=c, v=v, a=a, t=t)
    return True


def a_never_awaited(g: Gen) -> bool:
    """A pure call that fails on some inputs, made and never awaited: its failure is nobody's.
    (No effect calls: plain Python never runs them, xcs does.)"""
    v, t = g.new("text"), g.pick("text")
    if g.rng.random() < 0.5:
        code = "aspare($t)\n$v = await allm($t)"
    else:
        code = "spare = [aspare(m + $t) for m in models]\n$v = await allm(f\"{len(spare)} {$t}\")"
    g.add("failing op call never awaited", code, [(v, "text")], v=v, t=t)
    return True


def a_try_loop(g: Gen) -> bool:
    """``try: await op(x) except ValueError`` in a loop (a KeyError may escape)."""
    v, ts = g.new("opts"), g.pick("texts")
    tail = g.rng.choice([
        ('    $v.append(None)', "append None"),
        ('    continue', "continue"),
        ('    break', "break"),
    ])
    caught = g.rng.choice(["ValueError", "ValueError", "(ValueError, KeyError)"])
    g.add(f"try/except {caught} around await in a loop ({tail[1]})",
          "$v = []\nfor x in $ts:\n    try:\n        r = await arisky(x)\n"
          f"    except {caught} as exc:\n"
          '        LOG.append(("loop ValueError", str(exc)))\n'
          f"    {tail[0]}\n    else:\n        $v.append(r)", [(v, "opts")], v=v, ts=ts)
    return True


def a_await_twice(g: Gen) -> bool:
    v, w, tk, t = g.new("text"), g.new("text"), g.new("task"), g.pick("text")
    if g.rng.random() < 0.5:
        g.add("a task awaited twice",
              "$tk = asyncio.create_task(allm($t))\n$v = await $tk\n$w = await $tk\n"
              'LOG.append(("same", $v == $w))', [(v, "text"), (w, "text")],
              v=v, w=w, tk=tk, t=t)
    else:  # made in the try body: the await waits there
        g.add("a failing task made in a try, awaited twice",
              "try:\n    $tk = asyncio.create_task(arisky($t))\n    $v = await $tk\n"
              "except (ValueError, KeyError) as exc:\n"
              '    $v = f"first {type(exc).__name__}: {exc}"\n'
              "try:\n    $w = await $tk\nexcept (ValueError, KeyError) as exc:\n"
              '    $w = f"again {type(exc).__name__}: {exc}"', [(v, "text"), (w, "text")],
              v=v, w=w, tk=tk, t=t)
    return True


# -- async: shield, async comprehensions, async for / async with over user classes --------
def a_shield(g: Gen) -> bool:
    t, v = g.pick("text"), g.new("text")
    if g.rng.randrange(2):
        g.add("asyncio.shield(op call)", "$v = await asyncio.shield(allm($t))", [(v, "text")],
              v=v, t=t)
    else:
        g.add("asyncio.shield(failing op call) in try",
              "try:\n    $v = await asyncio.shield(arisky($t))\n"
              "except (ValueError, KeyError) as exc:\n    $v = type(exc).__name__",
              [(v, "text")], v=v, t=t)
    return True


def a_async_comp(g: Gen) -> bool:
    ts = g.pick("texts")
    choice = g.rng.randrange(3)
    if choice == 0:
        v = g.new("texts")
        g.add("async for over a user async generator (comprehension)",
              "$v = [x async for x in astream($ts)]", [(v, "texts")], ["AStream"], v=v, ts=ts)
    elif choice == 1:
        v = g.new("texts")
        g.add("async for over a user async iterator class, with break",
              "$v = []\nasync for r in AStream($ts + [q]):\n    $v.append(r)\n"
              "    if r.endswith(\"3\"):\n        break", [(v, "texts")], ["AStream"], v=v,
              ts=ts)
    else:
        v = g.new("texts")
        g.add("await in a comprehension over a gathering helper",
              "$v = [await ask_pair(x) for x in $ts if x]", [(v, "texts")], ["ask_pair"],
              v=v, ts=ts)
    return True


def a_async_with(g: Gen) -> bool:
    t, v = g.pick("text"), g.new("text")
    if g.rng.randrange(2):
        g.add("async with a user class around a failing await",
              '$v = "unset"\nasync with ASession($t) as opened:\n'
              '    $v = opened + " " + await arisky($t)', [(v, "text")], ["ASession"],
              v=v, t=t)
    else:
        g.add("async with a user class, gather inside",
              "async with ASession(\"g\") as opened:\n"
              "    $v = \" \".join(await asyncio.gather(allm(opened), allm($t)))",
              [(v, "text")], ["ASession"], v=v, t=t)
    return True


def a_later_try(g: Gen) -> bool:
    """A failing call made outside a ``try``, its result first used inside one: the failure
    is the program's (plain Python raised it at the call), not the ``except``'s."""
    t, v, c = g.pick("text"), g.new("text"), g.new("text")
    g.add("failing await used first inside a later try",
          "$c = await arisky($t)\ntry:\n    $v = $c.upper() + str(len($c))\n"
          'except Exception as exc:\n    LOG.append(("later", type(exc).__name__))\n'
          '    $v = "caught later"', [(c, "text"), (v, "text")], c=c, v=v, t=t)
    return True


def a_later_broad(g: Gen) -> bool:
    """A failing await, its result first used inside a later ``try/except BaseException``
    that exits: plain Python raised at the await, before the ``try``."""
    t, v, c = g.pick("text"), g.new("text"), g.new("text")
    g.add("failing await used first inside a later try/except BaseException",
          "$c = await arisky($t)\ntry:\n    $v = $c.upper() + str(len($c))\n"
          "except BaseException as exc:\n"
          '    raise SystemExit(f"giving up: {type(exc).__name__}")', [(c, "text"), (v, "text")],
          c=c, v=v, t=t)
    return True


# -- async: mixed gather, timeouts, queues, semaphores, failing task groups ----------------
def a_gather_mixed(g: Gen) -> bool:
    v, t = g.new("results"), g.pick("text")
    g.add("gather mixing op calls, plain coroutines and asyncio.sleep(result=)",
          "$v = list(await asyncio.gather(allm($t), plain_co($t), "
          "asyncio.sleep(0, result=$t), amaybe($t), run_llm(\"m1\", $t)))",
          [(v, "any")], ["late", "run_llm"], v=v, t=t)
    return True


def a_timeouts(g: Gen) -> bool:
    """``wait_for`` and ``asyncio.timeout`` (3.11+, guarded) that time out or do not."""
    v, t = g.new("text"), g.pick("text")
    choice = g.rng.randrange(4)
    if choice == 0:
        g.add("asyncio.wait_for of a coroutine that times out",
              "try:\n    $v = await asyncio.wait_for(late($t), timeout=0.01)\n"
              'except asyncio.TimeoutError:\n    $v = "timed out"', [(v, "text")], ["late"],
              v=v, t=t)
    elif choice == 1:
        g.add("asyncio.wait_for of a coroutine awaiting op calls, in time",
              "$v = await asyncio.wait_for(run_llm(\"m2\", await allm($t)), timeout=5)",
              [(v, "text")], ["run_llm"], v=v, t=t)
    elif choice == 2:
        g.add("asyncio.timeout around a coroutine that times out",
              'if hasattr(asyncio, "timeout"):\n    try:\n'
              "        async with asyncio.timeout(0.01):\n            $v = await late($t)\n"
              '    except TimeoutError:\n        $v = "late"\nelse:\n    $v = "late"',
              [(v, "text")], ["late"], v=v, t=t)
    else:
        g.add("asyncio.timeout around op calls, in time",
              'if hasattr(asyncio, "timeout"):\n    async with asyncio.timeout(5):\n'
              "        $v = await allm($t) + await allm($t + \"?\")\nelse:\n"
              "    $v = await allm($t) + await allm($t + \"?\")", [(v, "text")], v=v, t=t)
    return True


def a_queue(g: Gen) -> bool:
    v, qu, ts = g.new("texts"), g.new("queue"), g.pick("texts")
    fn = g.new("producer")
    g.add("asyncio.Queue producer/consumer around op calls",
          "$qu = asyncio.Queue()\n$v = []\n\nasync def $fn():\n    for x in $ts:\n"
          "        await $qu.put(await allm(x))\n    await $qu.put(None)\n\n"
          "async def consume_$fn():\n    while (item := await $qu.get()) is not None:\n"
          "        $v.append(item.upper() + str(score(item)))\n\n"
          "await asyncio.gather($fn(), consume_$fn())", [(v, "texts")], qu=qu, v=v, fn=fn, ts=ts)
    return True


def a_semaphore(g: Gen) -> bool:
    v, sem, fn, ts = g.new("texts"), g.new("sem"), g.new("bounded"), g.pick("texts")
    g.add("asyncio.Semaphore around op calls, gathered",
          "$sem = asyncio.Semaphore(2)\n\nasync def $fn(x):\n    async with $sem:\n"
          "        return await allm(x)\n\n"
          "$v = list(await asyncio.gather(*[$fn(x) for x in $ts + [q]]))", [(v, "texts")],
          v=v, sem=sem, fn=fn, ts=ts)
    return True


def a_task_group_fail(g: Gen) -> bool:
    """A TaskGroup whose one op task may fail (the others finish first): ExceptionGroup,
    caught with ``except ExceptionGroup`` (guarded) or ``except*`` (3.11+ only)."""
    v, tk, t = g.new("texts"), g.new("tasks"), g.pick("text")
    handler = ("except* (ValueError, KeyError) as eg:\n"
               "        $v = sorted(type(e).__name__ for e in eg.exceptions)"
               if sys.version_info >= (3, 11) and g.rng.randrange(2) else
               "except ExceptionGroup as eg:\n"
               "        $v = sorted(type(e).__name__ for e in eg.exceptions)")
    g.add("TaskGroup whose op task fails, ExceptionGroup caught",
          'if hasattr(asyncio, "TaskGroup"):\n    $v = []\n    try:\n'
          "        async with asyncio.TaskGroup() as tg:\n"
          "            $tk = [tg.create_task(asyncio.sleep(0, result=m)) for m in models]\n"
          "            $tk.append(tg.create_task(arisky($t)))\n"
          "        $v = [x.result() for x in $tk]\n    " + handler + "\nelse:\n"
          "    $v = [type(exc).__name__ for exc in await asyncio.gather(arisky($t), "
          "return_exceptions=True) if isinstance(exc, Exception)]",
          [(v, "texts")], v=v, tk=tk, t=t)
    return True


def a_stream_break(g: Gen) -> bool:
    v, ts = g.new("texts"), g.pick("texts")
    g.add("async for over an async generator of op results, break early",
          "$v = []\nasync for r in astream($ts + [q, q + \"!\"]):\n    $v.append(r)\n"
          "    if len($v) >= 2:\n        break", [(v, "texts")], ["AStream"], v=v, ts=ts)
    return True


# -- async: wait(FIRST_COMPLETED), executors, locks, cancellation, exit stacks -------------
def a_wait_first(g: Gen) -> bool:
    t, ts = g.pick("text"), g.pick("texts")
    v = g.new("texts")
    if g.rng.randrange(2):
        g.add("asyncio.wait(FIRST_COMPLETED) over an op task and a slow one, rest cancelled",
              "tk = [asyncio.create_task(allm($t)), asyncio.create_task(late_ask($t))]\n"
              "done, pending = await asyncio.wait(tk, return_when=asyncio.FIRST_COMPLETED)\n"
              "for p in pending:\n    p.cancel()\n"
              "await asyncio.gather(*pending, return_exceptions=True)\n"
              "$v = [d.result() for d in done] + [str(p.cancelled()) for p in pending]",
              [(v, "texts")], ["late_async"], v=v, t=t)
    else:
        g.add("asyncio.wait(ALL_COMPLETED) over op tasks, results sorted",
              "done, _ = await asyncio.wait([asyncio.create_task(allm(x)) for x in $ts + [$t]])\n"
              "$v = sorted(d.result() for d in done)", [(v, "texts")], v=v, t=t, ts=ts)
    return True


def a_run_in_executor(g: Gen) -> bool:
    """A sync helper that calls an op, run by the event loop's executor."""
    t, ts = g.pick("text"), g.pick("texts")
    choice = g.rng.randrange(3)
    if choice == 0:
        v = g.new("text")
        g.add("loop.run_in_executor of a sync helper calling an op",
              "$v = await asyncio.get_running_loop().run_in_executor(None, sync_ask, $t)",
              [(v, "text")], ["late_async"], v=v, t=t)
    elif choice == 1:
        v = g.new("texts")
        g.add("gather over run_in_executor of a sync helper, given results",
              "loop = asyncio.get_running_loop()\n"
              "$v = list(await asyncio.gather(*[loop.run_in_executor(None, sync_ask, await "
              "allm(x)) for x in $ts]))", [(v, "texts")], ["late_async"], v=v, ts=ts)
    else:
        v = g.new("text")
        g.add("asyncio.to_thread of a sync helper calling an op",
              "$v = await asyncio.to_thread(sync_ask, $t) + await allm($t)", [(v, "text")],
              ["late_async"], v=v, t=t)
    return True


def a_lock(g: Gen) -> bool:
    v, fn, ts = g.new("texts"), g.new("locked"), g.pick("texts")
    g.add("async with asyncio.Lock around op calls, gathered",
          "lock = asyncio.Lock()\n$v = []\n\nasync def $fn(x):\n    async with lock:\n"
          "        $v.append(await allm(x))\n        $v.append(str(len($v)))\n\n"
          "await asyncio.gather(*[$fn(x) for x in $ts + [q]])", [(v, "texts")],
          v=v, fn=fn, ts=ts)
    return True


def a_cancel(g: Gen) -> bool:
    """``task.cancel()`` of a task awaiting an op (or not started yet), then ``await``."""
    t = g.pick("text")
    v = g.new("text")
    choice = g.rng.randrange(3)
    if choice == 0:
        g.add("a task of a slow coroutine cancelled, then awaited",
              "tk = asyncio.create_task(late_ask($t))\nawait asyncio.sleep(0)\ntk.cancel()\n"
              'try:\n    $v = await tk\nexcept asyncio.CancelledError:\n    $v = "cancelled"\n'
              '$v += " " + str(tk.cancelled())', [(v, "text")], ["late_async"], v=v, t=t)
    elif choice == 1:
        g.add("a task of an op call cancelled before it started, then awaited",
              "tk = asyncio.create_task(aspare($t))\ntk.cancel()\n"
              'try:\n    $v = await tk\nexcept asyncio.CancelledError:\n    $v = "cancelled"\n'
              '$v += " " + str(tk.cancelled())', [(v, "text")], v=v, t=t)
    else:
        g.add("an op task cancelled after it finished",
              "tk = asyncio.create_task(allm($t))\n$v = await tk\n"
              'LOG.append(("cancel after done", tk.cancel(), tk.cancelled(), tk.done()))',
              [(v, "text")], v=v, t=t)
    return True


def a_exit_stack(g: Gen) -> bool:
    t = g.pick("text")
    v = g.new("text")
    if g.rng.randrange(2):
        g.add("contextlib.AsyncExitStack entering sessions, callbacks, op calls",
              "async with contextlib.AsyncExitStack() as stack:\n"
              "    opened = [await stack.enter_async_context(ASession(m)) for m in models]\n"
              "    stack.push_async_callback(asyncio.sleep, 0)\n"
              '    stack.callback(LOG.append, ("stack", len(opened)))\n'
              '    $v = " ".join(opened) + await allm($t)', [(v, "text")], ["ASession"],
              v=v, t=t)
    else:
        g.add("contextlib.AsyncExitStack whose session swallows a failing await",
              '$v = "unset"\nasync with contextlib.AsyncExitStack() as stack:\n'
              "    await stack.enter_async_context(ASession($t))\n    $v = await arisky($t)",
              [(v, "text")], ["ASession"], v=v, t=t)
    return True


def a_as_completed_timeout(g: Gen) -> bool:
    t = g.pick("text")
    v = g.new("texts")
    g.add("asyncio.as_completed with a timeout over an op and a slow coroutine",
          "$v = []\ntry:\n    for fut in asyncio.as_completed([allm($t), late_ask($t)], "
          "timeout=0.3):\n        $v.append(await fut)\nexcept asyncio.TimeoutError:\n"
          '    $v.append("timed out")', [(v, "texts")], ["late_async"], v=v, t=t)
    return True


def a_cancel_op(g: Gen) -> bool:
    """An async op call cancelled while it runs: a timeout (``wait_for``, ``asyncio.timeout``),
    ``task.cancel()``, the tasks ``asyncio.wait(FIRST_COMPLETED)`` leaves, a gather that times
    out, and an uncaught timeout (on 3.12+ ``wait_for`` awaits the call in the caller's own
    task).  Plain Python cancels the call's coroutine, so it never finishes."""
    t = g.pick("text")
    choice = g.rng.randrange(6)
    if choice == 0:
        v = g.new("text")
        g.add("asyncio.wait_for of a slow op call that times out",
              "try:\n    $v = await asyncio.wait_for(aslow($t), timeout=0.01)\n"
              'except asyncio.TimeoutError:\n    $v = "timed out"', [(v, "text")], v=v, t=t)
    elif choice == 1:
        v = g.new("text")
        g.add("a task of a slow op call cancelled, then awaited",
              "tk = asyncio.create_task(aslow($t))\nawait asyncio.sleep(0.01)\ntk.cancel()\n"
              'try:\n    $v = await tk\nexcept asyncio.CancelledError:\n    $v = "cancelled"',
              [(v, "text")], v=v, t=t)
    elif choice == 2:
        v = g.new("texts")
        g.add("asyncio.wait(FIRST_COMPLETED) over op tasks, the slow one cancelled",
              "tk = [asyncio.create_task(allm($t)), asyncio.create_task(aslow($t))]\n"
              "done, pending = await asyncio.wait(tk, return_when=asyncio.FIRST_COMPLETED)\n"
              "for p in pending:\n    p.cancel()\n$v = [d.result() for d in done]",
              [(v, "texts")], v=v, t=t)
    elif choice == 4:
        v = g.new("texts")
        g.add("asyncio.wait_for of a gather of slow op calls that times out",
              "try:\n    $v = await asyncio.wait_for(asyncio.gather(aslow($t), aslow($t + \"!\")),"
              " timeout=0.01)\nexcept asyncio.TimeoutError:\n    $v = [\"timed out\"]",
              [(v, "texts")], v=v, t=t)
    elif choice == 5:
        v = g.new("text")
        g.add("asyncio.wait_for of a slow op call that times out, uncaught",
              "$v = await asyncio.wait_for(aslow($t), timeout=0.01)", [(v, "text")], v=v, t=t)
    else:
        v = g.new("text")
        g.add("asyncio.timeout around a slow op call",
              'if hasattr(asyncio, "timeout"):\n    try:\n'
              "        async with asyncio.timeout(0.01):\n            $v = await aslow($t)\n"
              '    except TimeoutError:\n        $v = "late"\nelse:\n    $v = "late"',
              [(v, "text")], v=v, t=t)
    return True


SYNC_TEMPLATES = [
    (t_llm, 4), (t_fanout, 4), (t_scores, 2), (t_json_loads, 2), (t_json_dumps, 2),
    (t_safe_parse, 1), (t_re, 2), (t_join, 2), (t_format, 2), (t_is_none, 3), (t_get_none, 2),
    (t_filter_none, 2), (t_any_none, 2), (t_walrus, 1), (t_helper_none, 2), (t_memo, 1),
    (t_type, 2), (t_id, 1), (t_closure, 1), (t_lambda_max, 2), (t_class, 1), (t_global, 2),
    (t_history, 2), (t_local_history, 1), (t_mutate_after, 2), (t_tally, 2), (t_attr, 1),
    (t_subscript, 2), (t_asdict, 1), (t_stats, 2), (t_zip_enum, 1), (t_try, 2),
    (t_suppress, 1), (t_risky, 1), (t_early_return, 1), (t_break, 1), (t_while, 1),
    (t_effect, 3), (t_dict_comp, 1), (t_sum_gen, 1), (t_helper_fanout, 1), (t_user_raise, 1),
    (t_recursive_helper, 2), (t_mutual_recursion, 1), (t_own_class, 1), (t_class_static, 1),
    (t_recursive_closure, 1), (t_functools, 1), (t_gen_dict_set, 1), (t_sorted_results, 1),
    (t_walrus_comp, 1), (t_match, 1), (t_str_chain, 1), (t_get_default, 1), (t_aug_dict, 1),
    (t_global_helper, 1), (t_helper_try, 1), (t_finally_return, 1), (t_short_circuit, 1),
    (t_user_protocols, 1), (t_star_unpack, 1), (t_container_writes, 1),
    (t_global_container_writes, 2), (t_deep_recursion, 1), (t_context_var, 2),
    (t_exception_chain, 2), (t_leaf_mutates, 2), (t_leaf_iterator, 2),
    (t_convert, 2), (t_membership, 1), (t_key_max, 1), (t_print, 1), (t_copy, 1),
    (t_formatting, 1), (t_kwargs, 1), (t_loop_results, 1), (t_partial_gen, 1),
    (t_user_with, 1), (t_stateful, 1), (t_accumulate, 1), (t_while_result, 1),
    (t_later_try, 1), (t_inplace_grow, 1), (t_operator, 1), (t_records, 1), (t_assert, 1),
    (t_try_else, 1), (t_raise_from, 1), (t_exception_group, 1), (t_iter_tools, 1),
    (t_collect_text, 1), (t_numbers, 1), (t_bound_calls, 1), (t_nested_jit, 1),
    (t_module_state, 1), (t_later_broad, 1), (t_threads, 1), (t_asyncio_run, 1),
    (t_serialize, 1), (t_logging, 1), (t_value_class, 1), (t_key_op, 1), (t_text_template, 1),
    (t_slices, 1), (t_gen_send, 1), (t_late_binding, 1), (t_gen_break, 1),
    (t_frame_readers, 1),
]
ASYNC_TEMPLATES = [
    (a_await, 4), (a_gather_helpers, 4), (a_gather_ops, 2), (a_await_none, 2),
    (a_first_present, 1), (a_try_await, 1), (a_debate, 1), (a_gather_recursive, 2),
    (a_gather_return_exceptions, 2), (a_gather_fail_caught, 2), (a_create_task, 2),
    (a_wait_for, 1), (a_as_completed, 1), (a_task_group, 1), (a_await_later, 1),
    (a_never_awaited, 1), (a_try_loop, 2), (a_await_twice, 1), (a_task_fail_caught, 2),
    (a_context_var, 2), (a_exception_chain, 2), (a_leaf_mutates, 2),
    (a_shield, 1), (a_async_comp, 1), (a_async_with, 1), (a_later_try, 1),
    (a_gather_mixed, 1), (a_timeouts, 1), (a_queue, 1), (a_semaphore, 1),
    (a_task_group_fail, 1), (a_stream_break, 1), (a_later_broad, 1), (a_wait_first, 1),
    (a_run_in_executor, 1), (a_lock, 1), (a_cancel, 1), (a_exit_stack, 1),
    (a_as_completed_timeout, 1), (a_cancel_op, 1), (a_gather_future, 1),
]
# Templates that expose a known difference of the engine stay out of the default rotation
# (so the suite stays green) until it is fixed; XCS_DIFF_PENDING=1 puts them in, for a
# census or to check a fix.  Move a template up into SYNC_TEMPLATES once it passes.
PENDING_TEMPLATES: list = [(t_caller_frames, 1)]
ASYNC_PENDING_TEMPLATES: list = []  # the same, for async programs
if os.environ.get("XCS_DIFF_PENDING", "") not in ("", "0"):
    SYNC_TEMPLATES = SYNC_TEMPLATES + PENDING_TEMPLATES
    ASYNC_TEMPLATES = ASYNC_TEMPLATES + ASYNC_PENDING_TEMPLATES
TEMPLATE_NAMES = sorted(t.__name__ for t, _ in SYNC_TEMPLATES + ASYNC_TEMPLATES)
#: every name ``generate(only=...)`` accepts (the pending templates too)
KNOWN_TEMPLATES = sorted(t.__name__ for t, _ in SYNC_TEMPLATES + ASYNC_TEMPLATES
                         + PENDING_TEMPLATES + ASYNC_PENDING_TEMPLATES)


def program_args(rng: random.Random) -> dict:
    models = [f"m{i}" for i in range(1, rng.randint(2, 4) + 1)]
    q = rng.choice(["why is the sky blue", "plan a trip", "fix the bug", "rate this poem"])
    return {"q": q, "n": rng.randint(0, 20), "models": models,
            "history": [{"role": "system", "content": "be brief"},
                        {"role": "user", "content": q}],
            "cfg": {"style": rng.choice(["short", "formal"]), "k": rng.randint(1, 3)}}


def generate(seed: int, is_async: bool | None = None, only: str | None = None) -> Program:
    """The program for ``seed``; ``only`` (a template function name) forces that template in."""
    rng = random.Random(seed)
    if is_async is None:
        is_async = rng.random() < 0.25
    g = Gen(rng, is_async)
    pool = SYNC_TEMPLATES + (ASYNC_TEMPLATES * 2 if is_async else [])
    funcs, weights = zip(*pool)
    size = rng.randint(3, 9)
    forced = [f for f, _ in SYNC_TEMPLATES + ASYNC_TEMPLATES + PENDING_TEMPLATES
              + ASYNC_PENDING_TEMPLATES
              if f.__name__ == only]
    if only is not None and not forced:  # a census of it would test nothing
        raise ValueError(f"generate(only={only!r}): no such template; "
                         f"one of {', '.join(KNOWN_TEMPLATES)}")
    attempts = 0
    while len(g.stmts) < size and attempts < 100:
        attempts += 1
        if forced and len(g.stmts) == size // 2:
            template = forced.pop()
        else:
            template = rng.choices(funcs, weights)[0]
        template(g)
    returns = [v for vs in g.pool.values() for v in vs if v not in ("q", "n", "models")]
    returns = sorted(set(returns), key=lambda v: int("".join(c for c in v if c.isdigit()) or 0))
    keep = [v for v in returns if rng.random() < 0.7] or returns[-1:]
    return Program(seed, is_async, tuple(g.stmts), tuple(keep), program_args(rng))
