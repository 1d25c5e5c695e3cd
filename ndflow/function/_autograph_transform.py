"""AutoGraph's source transformation: the AST analysis and the rewriting of `if`, `while` and
`for` statements into calls of the runtime helpers in `ndflow.function.autograph`."""

import ast
import copy


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_LOOPS = (ast.For, ast.While)
_RETURN_IN_LOOP = ("this loop on a tensor contains a `return`, which cannot be converted to a "
                   "graph loop; assign the value to a variable, `break`, and return it after "
                   "the loop")
_RETURN_IN_IF = ("this `if` on a tensor contains a `return` inside a loop, `with` or `try` "
                 "block, which cannot become a graph conditional; assign the result to a "
                 "variable and return it at the end of the function")
_JUMP_IN_IF = ("this `if` on a tensor contains a `break` or `continue` of a loop that also "
               "contains a `return`; move the `return` after the loop so the loop can be "
               "converted")


def _walk(nodes, stop=_SCOPES):
    """The nodes under `nodes`, not descending into nested scopes (those are yielded)."""
    stack = list(nodes)
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, stop):
            stack.extend(ast.iter_child_nodes(node))


def _contains(nodes, kinds, stop=_SCOPES):
    return any(isinstance(node, kinds) for node in _walk(nodes, stop))


def _reads(nodes):
    """Every name read under `nodes`, nested functions included (a conservative liveness)."""
    names = set()
    for root in nodes:
        for node in ast.walk(root):
            if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
                names.add(node.target.id)
    return names


def _assigned(nodes):
    """The names a block binds in its own scope."""
    names = set()
    for node in _walk(nodes, _SCOPES + _COMPREHENSIONS):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
    return sorted(n for n in names if not n.startswith("ag__fn_"))


def _read_before_assigned(statements, defined=()):
    """Names a loop body may read before assigning them in the same iteration."""
    defined = set(defined)
    early = set()
    for statement in statements:
        early |= _reads([statement]) - defined
        if isinstance(statement, ast.Assign):
            defined |= {n.id for t in statement.targets for n in ast.walk(t)
                        if isinstance(n, ast.Name)}
    return early


def _always_returns(statements):
    if not statements:
        return False
    last = statements[-1]
    if isinstance(last, (ast.Return, ast.Raise)):
        return True
    return isinstance(last, ast.If) and _always_returns(last.body) and _always_returns(
        last.orelse)


def _name(identifier, store=False):
    return ast.Name(identifier, ast.Store() if store else ast.Load())


def _helper(attribute):
    return ast.Attribute(_name("ag__"), attribute, ast.Load())


def _call(attribute, *args):
    return ast.Call(_helper(attribute), list(args), [])


def _lambda(body):
    return ast.Lambda(ast.arguments(posonlyargs=[], args=[], vararg=None, kwonlyargs=[],
                                    kw_defaults=[], kwarg=None, defaults=[]), body)


def _constant(value):
    if isinstance(value, tuple):
        return ast.Tuple([_constant(v) for v in value], ast.Load())
    return ast.Constant(value)


def _assign(identifier, value):
    return ast.Assign([_name(identifier, store=True)], ast.Constant(value))


class _Transformer(ast.NodeTransformer):
    """Rewrites one function's control flow into calls of the run-time helpers above."""

    def __init__(self, filename):
        self.filename = filename
        self.count = 0
        self.global_names = set()
        self.first_argument = None

    def run(self, node):
        positional = node.args.posonlyargs + node.args.args
        self.first_argument = positional[0].arg if positional else None
        for inner in _walk(node.body):
            if isinstance(inner, (ast.Global, ast.Nonlocal)):
                self.global_names.update(inner.names)
        node.body = self._lower_block(node.body)
        node.body = self._tail(node.body)
        ast.fix_missing_locations(node)
        self._annotate(node.body, set())
        node.body = [self.visit(s) for s in node.body]
        node.body = [s for item in node.body for s in (item if isinstance(item, list)
                                                        else [item])]
        return node

    def _next(self):
        self.count += 1
        return self.count

    # --- break / continue become flags ---------------------------------------------------

    def _lower_block(self, statements):
        lowered = []
        for statement in statements:
            lowered.extend(self._lower(statement))
        return lowered

    def _lower(self, node):
        if isinstance(node, _SCOPES):
            return [node]
        for field in ("body", "orelse", "finalbody"):
            block = getattr(node, field, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                setattr(node, field, self._lower_block(block))
        for handler in getattr(node, "handlers", ()):
            handler.body = self._lower_block(handler.body)
        if not isinstance(node, _LOOPS):
            return [node]
        if _contains(node.body, ast.Return):
            node.ag_python = True
            return [node]
        jumps = [n for n in _walk(node.body, _SCOPES + _LOOPS)
                 if isinstance(n, (ast.Break, ast.Continue))]
        if not jumps and not node.orelse:
            return [node]
        number = self._next()
        has_break = any(isinstance(j, ast.Break) for j in jumps)
        flags = (f"ag__break_{number}" if has_break else None, f"ag__continue_{number}")
        before, after = [], list(node.orelse)
        if jumps:
            node.body = [_assign(flags[1], False)] + self._guard(node.body, flags)
        if has_break:
            before.append(_assign(flags[0], False))
            not_broken = ast.UnaryOp(ast.Not(), _name(flags[0]))
            if isinstance(node, ast.While):
                node.test = ast.BoolOp(ast.And(), [not_broken, node.test])
            else:
                node.ag_extra_test = not_broken
            if after:
                after = [ast.If(ast.UnaryOp(ast.Not(), _name(flags[0])), after, [])]
        node.orelse = []
        for new in before + after:
            ast.copy_location(new, node)
        return before + [node] + after

    def _guard(self, statements, flags):
        """Replaces break/continue by flag assignments and skips what follows them."""
        out = []
        for index, node in enumerate(statements):
            if isinstance(node, ast.Continue):
                out.append(ast.copy_location(_assign(flags[1], True), node))
                return out
            if isinstance(node, ast.Break):
                out += [ast.copy_location(_assign(flags[0], True), node),
                        ast.copy_location(_assign(flags[1], True), node)]
                return out
            jumps = _contains([node], (ast.Break, ast.Continue), _SCOPES + _LOOPS)
            if jumps:
                for field in ("body", "orelse", "finalbody"):
                    block = getattr(node, field, None)
                    if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                        setattr(node, field, self._guard(block, flags))
                for handler in getattr(node, "handlers", ()):
                    handler.body = self._guard(handler.body, flags)
            out.append(node)
            if jumps and index < len(statements) - 1:
                rest = self._guard(statements[index + 1:], flags)
                guard = ast.If(ast.UnaryOp(ast.Not(), _name(flags[1])), rest, [])
                out.append(ast.copy_location(guard, statements[index + 1]))
                return out
        return out

    # --- returns: the rest of the function moves into both branches of a returning if ----

    def _tail(self, statements):
        for index, node in enumerate(statements):
            if isinstance(node, ast.If) and _contains([node], ast.Return):
                rest = statements[index + 1:]
                if not _always_returns(node.body):
                    node.body = node.body + copy.deepcopy(rest)
                if not _always_returns(node.orelse):
                    node.orelse = node.orelse + copy.deepcopy(rest)
                node.body = self._tail(node.body)
                node.orelse = self._tail(node.orelse)
                node.ag_return = True
                return statements[:index] + [node]
        return statements

    # --- liveness -------------------------------------------------------------------------

    def _annotate(self, statements, live_out):
        for index, node in enumerate(statements):
            after = _reads(statements[index + 1:]) | live_out
            node.ag_live = after
            if isinstance(node, ast.If):
                self._annotate(node.body, after)
                self._annotate(node.orelse, after)
            elif isinstance(node, _LOOPS):
                extra = getattr(node, "ag_extra_test", None)
                loop_reads = _reads([node] + ([extra] if extra is not None else []))
                self._annotate(node.body, after | loop_reads)
            elif isinstance(node, ast.With):
                self._annotate(node.body, after)
            elif isinstance(node, ast.Try):
                inner = after | _reads([node])
                for block in [node.body, node.orelse, node.finalbody] + [
                        h.body for h in node.handlers]:
                    self._annotate(block, inner)

    # --- code generation ------------------------------------------------------------------

    def _site(self, node):
        return _constant((self.filename, node.lineno))

    def _values(self, names):
        namespace = ast.Call(_name("locals"), [], [])
        if self.global_names & set(names):
            namespace = ast.Dict([None, None], [ast.Call(_name("globals"), [], []), namespace])
        return _call("get_vars", _constant(tuple(names)), namespace)

    def _function(self, kind, params, body, result):
        name = f"ag__fn_{kind}_{self._next()}"
        body = list(body)
        if result is not None:
            body.append(ast.Return(result))
        body = body or [ast.Pass()]
        args = ast.arguments(posonlyargs=[], args=[ast.arg(arg=p) for p in params],
                             vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None,
                             defaults=[])
        return ast.FunctionDef(name=name, args=args, body=body, decorator_list=[],
                               returns=None, type_comment=None)

    def _bind(self, names, call):
        if not names:
            return ast.Expr(call)
        targets = ast.Tuple([_name(n, store=True) for n in names], ast.Store())
        return ast.Assign([targets], call)

    def _emit(self, node, functions, statement):
        for new in functions + [statement]:
            ast.copy_location(new, node)
        return functions + [statement]

    def _block(self, statements):
        out = []
        for statement in statements:
            result = self.visit(statement)
            out.extend(result if isinstance(result, list) else [result])
        return out

    def visit_FunctionDef(self, node):
        return node  # nested functions are converted when called (converted_call)

    visit_AsyncFunctionDef = visit_FunctionDef
    visit_ClassDef = visit_FunctionDef
    visit_Lambda = visit_FunctionDef

    def visit_If(self, node):
        names = _assigned(node.body + node.orelse)
        returning = getattr(node, "ag_return", False)
        has_return = _contains(node.body + node.orelse, ast.Return)
        has_jump = _contains(node.body + node.orelse, (ast.Break, ast.Continue),
                             _SCOPES + _LOOPS)
        test = self.visit(node.test)
        body, orelse = self._block(node.body), self._block(node.orelse)
        site = self._site(node)
        if returning:
            for block, original in ((body, node.body), (orelse, node.orelse)):
                if not _always_returns(original):
                    block.append(ast.Return(_helper("NO_RETURN")))
            then = self._function("return_if", names, body, None)
            other = self._function("return_else", names, orelse, None)
            call = _call("if_return", test, _name(then.name), _name(other.name),
                         self._values(names), site)
            return self._emit(node, [then, other], ast.Return(call))
        if has_return or has_jump:
            node.test = _call("py_bool", test, site,
                              ast.Constant(_RETURN_IN_IF if has_return else _JUMP_IN_IF))
            node.body, node.orelse = body, orelse
            return node
        result = ast.Tuple([_name(n) for n in names], ast.Load())
        then = self._function("if_true", names, body, result)
        other = self._function("if_false", names, orelse, result)
        live = tuple(n in node.ag_live for n in names)
        call = _call("if_stmt", test, _name(then.name), _name(other.name), self._values(names),
                     _constant(tuple(names)), _constant(live), site)
        return self._emit(node, [then, other], self._bind(names, call))

    def _carried(self, node, names, reads):
        return tuple(n in node.ag_live or n in reads for n in names)

    def visit_While(self, node):
        site = self._site(node)
        if getattr(node, "ag_python", False):
            self.generic_visit(node)
            node.test = _call("py_bool", node.test, site, ast.Constant(_RETURN_IN_LOOP))
            return node
        names = _assigned(node.body)
        carried = self._carried(node, names, _reads([node.test]) | _read_before_assigned(
            node.body))
        test = self.visit(node.test)
        body = self._block(node.body)
        result = ast.Tuple([_name(n) for n in names], ast.Load())
        test_function = self._function("while_test", names, [], test)
        body_function = self._function("while_body", names, body, result)
        call = _call("while_stmt", _name(test_function.name), _name(body_function.name),
                     self._values(names), _constant(tuple(names)), _constant(carried), site)
        return self._emit(node, [test_function, body_function], self._bind(names, call))

    def visit_For(self, node):
        site = self._site(node)
        if getattr(node, "ag_python", False):
            self.generic_visit(node)
            node.iter = _call("py_iter", node.iter, site, ast.Constant(_RETURN_IN_LOOP))
            return node
        target_names = {n.id for n in ast.walk(node.target) if isinstance(n, ast.Name)}
        names = sorted(set(_assigned(node.body)) | target_names)
        extra = getattr(node, "ag_extra_test", None)
        reads = _read_before_assigned(node.body, target_names)
        if extra is not None:
            reads |= _reads([extra])
        carried = self._carried(node, names, reads)
        iterable = self.visit(node.iter)
        body = [ast.copy_location(ast.Assign([node.target], _name("ag__itr")), node)]
        body += self._block(node.body)
        result = ast.Tuple([_name(n) for n in names], ast.Load())
        functions = []
        test_reference = ast.Constant(None)
        if extra is not None:
            test_function = self._function("for_test", names, [], self.visit(extra))
            functions.append(test_function)
            test_reference = _name(test_function.name)
        body_function = self._function("for_body", ["ag__itr"] + names, body, result)
        functions.append(body_function)
        call = _call("for_stmt", iterable, test_reference, _name(body_function.name),
                     self._values(names), _constant(tuple(names)), _constant(carried), site)
        return self._emit(node, functions, self._bind(names, call))

    def visit_Call(self, node):
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id in ("super", "locals", "globals"):
            if node.func.id == "super" and not node.args and self.first_argument:
                # Zero-argument super() would see a generated function's first argument.
                node.args = [_name("__class__"), _name(self.first_argument)]
            return node
        node.func = ast.copy_location(_call("converted_call", node.func), node.func)
        return node

    def visit_BoolOp(self, node):
        self.generic_visit(node)
        if _contains(node.values, ast.NamedExpr):
            return node
        helper = "and_" if isinstance(node.op, ast.And) else "or_"
        result = node.values[-1]
        for value in reversed(node.values[:-1]):
            result = _call(helper, value, _lambda(result))
        return ast.copy_location(result, node)

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, ast.Not):
            return ast.copy_location(_call("not_", node.operand), node)
        return node

    def visit_IfExp(self, node):
        self.generic_visit(node)
        if _contains([node.body, node.orelse], ast.NamedExpr):
            return node
        call = _call("if_exp", node.test, _lambda(node.body), _lambda(node.orelse))
        return ast.copy_location(call, node)
