"""The fixed top of every generated program: leaf ops that record what they saw.

Every generated module starts with ``PRELUDE``, so each program run (plain or jitted) has its
own leaf ops, recorders and globals: a run that hangs in the background cannot touch the
next run's records.

Each leaf call first sleeps 0-2 ms (random jitter, so completion orders vary), then deep-copies
its arguments into ``CALLS`` (what it saw, read as late as possible, so a caller that mutates an
argument after the call is caught), then computes a result that depends only on what it saw.
Effect calls also append ``(tag, value)`` to ``EFFECTS`` in the order they ran.
``risky`` and ``arisky`` fail on some inputs (``ValueError`` or ``KeyError``, by a hash of what
they saw); ``aspare`` is for calls that are never awaited and records nothing; ``aslow``
is slower than any timeout a program gives it.
"""

PRELUDE = '''\
import asyncio
import contextlib
import contextvars
import copy
import dataclasses
import functools
import json
import random
import re
import statistics
import threading
import time
import zlib
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from types import SimpleNamespace

import xcs_core as xcs

CALLS = []      # (leaf, args, kwargs) as each leaf call saw them, deep-copied
EFFECTS = []    # (tag, value) in the order effect calls ran
LOG = []        # what the program itself logs (which except caught what, ...)
NOTES = []      # a module-level list the program appends to
TALLY = {}      # a module-level dict keyed by results
MEMO = {}       # a memoising helper's cache
COUNT = 0       # a module-level counter changed with `global`
BOARD = SimpleNamespace(last=None, best=None)   # attributes set from results
_LOCK = threading.Lock()
_RNG = random.Random()
REQUEST = contextvars.ContextVar("request", default="no request")  # read by ``tagged``


def _h(*parts):
    return zlib.crc32(repr(parts).encode()) % 1000


def _jitter():
    with _LOCK:
        delay = _RNG.random() * 0.002
    time.sleep(delay)


async def _ajitter():
    with _LOCK:
        delay = _RNG.random() * 0.002
    await asyncio.sleep(delay)


def _saw(name, args, kwargs):
    seen = (name, copy.deepcopy(args), copy.deepcopy(kwargs))
    with _LOCK:
        CALLS.append(seen)
    return seen[1], seen[2]


@dataclass
class Record:
    name: str
    score: int
    tags: list = field(default_factory=list)


@xcs.op
def llm(prompt, model="m0"):
    _jitter()
    (prompt, model), _ = _saw("llm", (prompt, model), {})
    return f"{model} says {_h(prompt, model)}"


@xcs.op
def llm_json(prompt):
    _jitter()
    (prompt,), _ = _saw("llm_json", (prompt,), {})
    k = _h(prompt)
    return json.dumps({"answer": f"a{k}", "score": k % 10, "tags": [f"t{k % 3}", f"t{k % 5}"]})


@xcs.op
def chat(messages, model="m0"):
    _jitter()
    (messages, model), _ = _saw("chat", (messages, model), {})
    k = _h(messages, model)
    return {"choices": [{"message": {"role": "assistant", "content": f"{model} replies {k}"}}],
            "usage": {"tokens": k % 97}}


@xcs.op
def score(text):
    _jitter()
    (text,), _ = _saw("score", (text,), {})
    return _h(text) % 10


@xcs.op
def classify(text):
    _jitter()
    (text,), _ = _saw("classify", (text,), {})
    return ("happy", "sad", "neutral")[_h(text) % 3]


@xcs.op
def fetch(key):
    _jitter()
    (key,), _ = _saw("fetch", (key,), {})
    k = _h(key)
    doc = {"id": k, "title": f"doc {k}"}
    if k % 2:
        doc["note"] = f"note {k}"
    return doc


@xcs.op
def maybe(text):
    _jitter()
    (text,), _ = _saw("maybe", (text,), {})
    return None if _h(text) % 3 == 0 else f"{text}".upper()


def _risky(name, text, missing):
    """What ``risky`` and ``arisky`` do with ``text``: fail on some inputs, else reverse it."""
    (text,), _ = _saw(name, (text,), {})
    k = _h(text) % 5
    if k == 0:
        raise ValueError(f"{name} rejected {text!r}")
    if k == 1:
        raise KeyError(f"{missing} {text!r}")
    return f"{text}"[::-1]


@xcs.op
def risky(text):
    _jitter()
    return _risky("risky", text, "no entry for")


@xcs.op
def extract(text):
    _jitter()
    (text,), _ = _saw("extract", (text,), {})
    k = _h(text)
    return Record(name=f"r{k}", score=k % 10, tags=[f"t{k % 4}"])


@xcs.op(effect=True)
def emit(tag, value):
    _jitter()
    (tag, value), _ = _saw("emit", (tag, value), {})
    with _LOCK:
        EFFECTS.append((tag, value))
        return len(EFFECTS)


@xcs.op(effect=True)
def publish(value):
    _jitter()
    (value,), _ = _saw("publish", (value,), {})
    if _h(value) % 7 == 0:
        raise RuntimeError(f"publish refused {value!r}")
    with _LOCK:
        EFFECTS.append(("publish", value))
    return True


@xcs.op
def tagged(text):
    """A leaf call that reads a context variable (a request id, a tracing span)."""
    _jitter()
    (text, request), _ = _saw("tagged", (text, REQUEST.get()), {})
    return f"{request}: {_h(text)}"


@xcs.op
async def atagged(text):
    await _ajitter()
    (text, request), _ = _saw("atagged", (text, REQUEST.get()), {})
    return f"{request}: {_h(text)}"


@xcs.op
async def allm(prompt, model="m0"):
    await _ajitter()
    (prompt, model), _ = _saw("allm", (prompt, model), {})
    return f"{model} async {_h(prompt, model)}"


@xcs.op
async def amaybe(text):
    await _ajitter()
    (text,), _ = _saw("amaybe", (text,), {})
    return None if _h(text) % 3 == 0 else f"{text}".lower()


@xcs.op
def lookup_strict(text):
    """Fails on some inputs with a ``LookupError`` raised from the ``KeyError`` behind it."""
    _jitter()
    (text,), _ = _saw("lookup_strict", (text,), {})
    try:
        if _h(text) % 3 == 0:
            raise KeyError(text)
        return f"{text}"[::-1]
    except KeyError as exc:
        raise LookupError(f"no entry for {text!r}") from exc


@xcs.op
def join_texts(texts):
    """Takes any iterable of strings (a generator of results, say)."""
    _jitter()
    texts = list(texts)
    _saw("join_texts", (texts,), {})
    return " | ".join(texts)


@xcs.op
def remember(notes, text):
    """Changes the list it is given, as an agent step that appends to its history."""
    _jitter()
    _saw("remember", (notes, text), {})  # records a copy; the list itself is changed
    notes.append(f"noted {_h(text)}")
    return len(notes)


@xcs.op
def tally_into(counts, text):
    """Changes the dict it is given."""
    _jitter()
    _saw("tally_into", (counts, text), {})
    key = f"k{_h(text) % 3}"
    counts[key] = counts.get(key, 0) + 1
    return key


@xcs.op
async def aremember(notes, text):
    await _ajitter()
    _saw("aremember", (notes, text), {})
    notes.append(f"anoted {_h(text)}")
    return len(notes)


@xcs.op
async def arisky(text):
    await _ajitter()
    return _risky("arisky", text, "arisky has no")


@xcs.op
async def aspare(text):
    # called and never awaited: plain Python never runs it, xcs does (a documented
    # difference), so it records nothing; it fails on some inputs, and nobody sees that
    await asyncio.sleep(0)
    if _h(text) % 2 == 0:
        raise ValueError(f"aspare rejected {text!r}")
    return f"{text}"


@xcs.op
async def aslow(text):
    """Slower than the timeouts programs give it: plain Python cancels its call (a timeout,
    ``task.cancel()``) while it sleeps, before it records anything."""
    await asyncio.sleep(0.3)
    (text,), _ = _saw("aslow", (text,), {})
    return f"slow {_h(text)}"


STATE = ("LOG", "NOTES", "TALLY", "MEMO", "COUNT", "BOARD", "EFFECTS")
# ---- end of prelude -------------------------------------------------------------------
'''
