"""The rewrite of one ``def`` or ``lambda``: where a pending value could be observed.

``compiler`` parses a function's source and compiles what ``Transformer``
returns.  Every place where plain Python could look at a value the rewritten
code holds gets a runtime helper (``intrinsics``; their cells are
``compiler.HELPERS``):

===================================  ==========================================================
written                              compiled to
===================================  ==========================================================
``f(a, *b, k=c)``                    ``__xcs_call__(f, a, *b, k=c)``
``a is b`` / ``a is not b``          ``__xcs_force__(a) is __xcs_force__(b)``
``d[k] = v``                         ``__xcs_store__(v, d, k)``
``d[k] = x = v``, ``x, d[k] = v``    each subscript through a temporary, then ``__xcs_store__``
``d[k] op= v``                       read, update, ``__xcs_store__`` back
``x op= v``                          ``x op= __xcs_grown__(x, v)`` (a mutable ``x`` gets a
                                     concrete ``v``; a list or dict is remembered)
``a % b``                            ``__xcs_mod__(a, b)`` (formatting gets a concrete ``b``)
``del d[k]``                         ``del d[__xcs_key__(k)]``
``xs[i:j] = v``                      ``xs[i:j] = __xcs_stored__(v)`` (forced deeply)
``{k: v}``, ``{k}``                  keys and members through ``__xcs_key__``
``obj.a = v``, ``global g = v``      ``obj.a = __xcs_stored__(v)`` (forced deeply)
``match v:``                         ``match __xcs_stored__(v):`` (forced deeply)
``try:``/``with`` bodies             run inside ``with __xcs_guard__():``
``try: ... except ...:``             a first handler ``except __xcs_failure__: raise`` (an
                                     earlier call's failure passes every ``except``)
``locals()``, ``vars()``, ``dir()``  ``__xcs_names__(locals())`` (without the names the
                                     compiler added: its helpers, its temporaries)
``await v``                          ``await __xcs_await__(v)`` (a pending async call outside
                                     ``try``/``with`` is not waited for; code xcs does not
                                     compile always waits: ``wait_for``, ``timeout``)
===================================  ==========================================================
"""

from __future__ import annotations

import ast
from typing import Any

__all__ = ["Transformer"]

#: Calls that read the caller's frame: compiling them as plain calls keeps them working.
_FRAME_READERS = frozenset({"super", "locals", "vars", "dir", "eval", "exec", "globals",
                            "breakpoint"})
#: Frame readers that list the frame's names: the compiler's own are taken out of their answer.
_NAME_READERS = frozenset({"locals", "vars", "dir"})

def _call(name: str, *args: ast.expr) -> ast.Call:
    return ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=list(args), keywords=[])


class Transformer(ast.NodeTransformer):
    """Rewrites one ``def``/``lambda`` (and everything nested in it); see the module doc."""

    def __init__(self, root: ast.AST) -> None:
        self.root = root
        self.scopes: list[set[str]] = [set()]  # names declared global/nonlocal per function
        self.temps = 0  # temporaries made for stores (``__xcs_t1``, ...)

    def rewrite(self) -> ast.AST:
        root = self.root
        if isinstance(root, (ast.FunctionDef, ast.AsyncFunctionDef)) and root.decorator_list:
            # the original is already decorated; its code starts at the first decorator
            root.lineno = root.decorator_list[0].lineno
            root.decorator_list = []
        return self.visit(root)

    # -- scopes ------------------------------------------------------------------
    def _function(self, node: ast.AST) -> ast.AST:
        declared = {name for stmt in ast.walk(node) if isinstance(stmt, (ast.Global,
                    ast.Nonlocal)) for name in stmt.names}
        self.scopes.append(declared)
        try:
            return self.generic_visit(node)
        finally:
            self.scopes.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    # -- calls and identity ----------------------------------------------------------
    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id in _FRAME_READERS:
            if node.func.id in _NAME_READERS and not node.args and not node.keywords:
                return ast.copy_location(_call("__xcs_names__", node), node)
            return node
        return ast.copy_location(
            ast.Call(func=ast.Name(id="__xcs_call__", ctx=ast.Load()),
                     args=[node.func, *node.args], keywords=node.keywords), node)

    def visit_Await(self, node: ast.Await) -> ast.AST:
        self.generic_visit(node)
        node.value = ast.copy_location(_call("__xcs_await__", node.value), node.value)
        return node

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        if any(isinstance(op, (ast.Is, ast.IsNot)) for op in node.ops):
            node.left = self._force(node.left)
            node.comparators = [self._force(c) for c in node.comparators]
        return node

    def _force(self, expr: ast.expr) -> ast.expr:
        if isinstance(expr, ast.Constant):
            return expr
        return ast.copy_location(_call("__xcs_force__", expr), expr)

    # -- keys and stores -----------------------------------------------------------
    def _key(self, expr: ast.expr) -> ast.expr:
        if isinstance(expr, (ast.Constant, ast.Slice)) or (
                isinstance(expr, ast.Tuple) and any(isinstance(e, ast.Slice) for e in expr.elts)):
            return expr
        return ast.copy_location(_call("__xcs_key__", expr), expr)

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        self.generic_visit(node)
        if not isinstance(node.ctx, ast.Load):
            node.slice = self._key(node.slice)
        return node

    def visit_Dict(self, node: ast.Dict) -> ast.AST:
        self.generic_visit(node)
        node.keys = [k if k is None else self._key(k) for k in node.keys]
        return node

    def visit_Set(self, node: ast.Set) -> ast.AST:
        self.generic_visit(node)
        node.elts = [self._key(e) for e in node.elts]
        return node

    def visit_SetComp(self, node: ast.SetComp) -> ast.AST:
        self.generic_visit(node)
        node.elt = self._key(node.elt)
        return node

    def visit_DictComp(self, node: ast.DictComp) -> ast.AST:
        self.generic_visit(node)
        node.key = self._key(node.key)
        return node

    def _escapes(self, target: ast.expr) -> bool:
        """A store that makes a value outlive the call: attributes, globals, nonlocals."""
        if isinstance(target, ast.Attribute):
            return True
        if isinstance(target, ast.Name):
            return target.id in self.scopes[-1]
        if isinstance(target, (ast.Tuple, ast.List)):
            return any(self._escapes(e) for e in target.elts)
        if isinstance(target, ast.Starred):
            return self._escapes(target.value)
        return False

    def visit_Assign(self, node: ast.Assign) -> Any:
        """``x[k] = v`` goes through ``__xcs_store__`` (lists and dicts that receive a
        pending value are remembered for the boundary).  So does each subscript among
        several targets (``d[k] = r = v``, ``r, d[k] = v``): it is assigned a temporary
        first and stored from it.  A value stored into an attribute, a global or a slice
        is made concrete."""
        self.generic_visit(node)
        target = node.targets[0]
        if len(node.targets) == 1 and isinstance(target, ast.Subscript) and _plain(target):
            key = target.slice.args[0] if isinstance(target.slice, ast.Call) else target.slice
            return ast.copy_location(ast.Expr(_call(
                "__xcs_store__", node.value, target.value, key)), node)
        if any(self._escapes(t) or _slice_store(t) for t in node.targets):
            node.value = ast.copy_location(_call("__xcs_stored__", node.value), node.value)
            return node
        stores: list[ast.stmt] = []
        node.targets = [self._store_later(t, stores) for t in node.targets]
        return [node, *(ast.copy_location(s, node) for s in stores)]

    def _store_later(self, target: ast.expr, stores: list[ast.stmt]) -> ast.expr:
        """``target`` with each subscript replaced by a temporary, stored from afterwards."""
        if isinstance(target, ast.Subscript):
            temp = self._temp()
            stores.append(ast.Expr(_call("__xcs_store__", ast.Name(id=temp, ctx=ast.Load()),
                                         target.value, target.slice)))
            return ast.Name(id=temp, ctx=ast.Store())
        if isinstance(target, (ast.Tuple, ast.List)):
            target.elts = [self._store_later(e, stores) for e in target.elts]
        elif isinstance(target, ast.Starred):
            target.value = self._store_later(target.value, stores)
        return target

    def _temp(self) -> str:
        self.temps += 1
        return f"__xcs_t{self.temps}"

    def visit_AugAssign(self, node: ast.AugAssign) -> Any:
        """``x[k] += v`` reads, updates and stores back through ``__xcs_store__``;
        ``xs += v`` goes through ``__xcs_grown__`` (a list or dict grown in place, perhaps
        one the caller holds, is remembered for the boundary, and a mutable ``xs`` gets a
        concrete ``v``); attributes, globals and slices get concrete values."""
        self.generic_visit(node)
        target = node.target
        if isinstance(target, ast.Subscript) and _plain(target):
            obj, key, item = self._temp(), self._temp(), self._temp()
            load = [ast.Name(id=n, ctx=ast.Load()) for n in (obj, key, item)]
            steps = [
                ast.Assign(targets=[ast.Tuple(elts=[ast.Name(id=obj, ctx=ast.Store()),
                                                    ast.Name(id=key, ctx=ast.Store())],
                                              ctx=ast.Store())],
                           value=ast.Tuple(elts=[target.value, target.slice], ctx=ast.Load())),
                ast.Assign(targets=[ast.Name(id=item, ctx=ast.Store())],
                           value=ast.Subscript(value=load[0], slice=load[1], ctx=ast.Load())),
                ast.AugAssign(target=ast.Name(id=item, ctx=ast.Store()), op=node.op,
                              value=self._grown(load[2], node.value)),
                ast.Expr(_call("__xcs_store__", load[2], load[0], load[1]))]
            return [ast.copy_location(step, node) for step in steps]
        if self._escapes(target) or isinstance(target, ast.Subscript):
            node.value = ast.copy_location(_call("__xcs_stored__", node.value), node.value)
            return node
        if isinstance(target, ast.Name):
            node.value = self._grown(ast.Name(id=target.id, ctx=ast.Load()), node.value)
        return node

    def _grown(self, target: ast.expr, value: ast.expr) -> ast.expr:
        """``x op= value``: the value through ``__xcs_grown__(x, value)`` (a mutable ``x``
        changes in place: it gets a concrete value, and a list or dict is remembered)."""
        if isinstance(value, ast.Constant):
            return value
        return ast.copy_location(_call("__xcs_grown__", target, value), value)

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        """``a % b`` through ``__xcs_mod__``: a str or bytes ``a`` formats ``b``, which it
        tells apart by type (a tuple of arguments, a mapping, one value).  A literal tuple
        or dict ``b``, or a number ``a``, is left as written."""
        self.generic_visit(node)
        if not isinstance(node.op, ast.Mod) or isinstance(node.right, (
                ast.Constant, ast.Tuple, ast.Dict)) or (
                isinstance(node.left, ast.Constant) and not isinstance(node.left.value,
                                                                      (str, bytes))):
            return node
        return ast.copy_location(_call("__xcs_mod__", node.left, node.right), node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST:
        self.generic_visit(node)
        if node.value is not None and self._escapes(node.target):
            node.value = ast.copy_location(_call("__xcs_stored__", node.value), node.value)
        return node

    def visit_Match(self, node: Any) -> ast.AST:
        """``match`` tests types, identities and structure: the subject is made concrete,
        deeply (``case [None, x]`` looks inside)."""
        self.generic_visit(node)
        node.subject = ast.copy_location(_call("__xcs_stored__", node.subject), node.subject)
        return node

    # -- regions whose exceptions the code itself observes -------------------------------
    def _guard(self, node: Any) -> ast.AST:
        self.generic_visit(node)
        guard = ast.With(items=[ast.withitem(context_expr=_call("__xcs_guard__"))],
                         body=node.body)
        node.body = [ast.copy_location(guard, node.body[0])]
        return node

    def visit_Try(self, node: ast.Try) -> ast.AST:
        """A guarded body, and (with handlers) a first handler that re-raises an earlier
        call's failure (``DeferredFailure``, which may surface inside the body where its
        value is first used): plain Python raised it before this ``try``, so no handler of
        it runs, ``except:`` and ``except BaseException:`` included."""
        self._guard(node)
        if node.handlers:
            first = ast.ExceptHandler(type=ast.Name(id="__xcs_failure__", ctx=ast.Load()),
                                      name=None, body=[ast.Raise(exc=None, cause=None)])
            node.handlers.insert(0, ast.copy_location(first, node.handlers[0]))
        return node

    def visit_TryStar(self, node: Any) -> ast.AST:
        """``except*`` wraps what it matches in a group: the failure is raised bare again
        (from ``except* __xcs_failure__``), as ``visit_Try`` re-raises it."""
        self._guard(node)
        name = self._temp()
        again = ast.Raise(exc=ast.Subscript(
            value=ast.Attribute(value=ast.Name(id=name, ctx=ast.Load()), attr="exceptions",
                                ctx=ast.Load()),
            slice=ast.Constant(0), ctx=ast.Load()), cause=None)
        first = ast.ExceptHandler(type=ast.Name(id="__xcs_failure__", ctx=ast.Load()),
                                  name=name, body=[again])
        node.handlers.insert(0, ast.copy_location(first, node.handlers[0]))
        return node

    visit_With = visit_AsyncWith = _guard


def _plain(target: ast.Subscript) -> bool:
    """A subscript store whose index is one key (not a slice)."""
    return _is_call(target.slice, "__xcs_key__") or isinstance(target.slice, ast.Constant)


def _slice_store(target: ast.expr) -> bool:
    """Does ``target`` store into a slice (``xs[i:j] = v``), anywhere in it?"""
    if isinstance(target, ast.Subscript):
        return not _plain(target)
    if isinstance(target, (ast.Tuple, ast.List)):
        return any(_slice_store(e) for e in target.elts)
    if isinstance(target, ast.Starred):
        return _slice_store(target.value)
    return False


def _is_call(expr: ast.AST, name: str) -> bool:
    return (isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name)
            and expr.func.id == name)
