"""An IPython startup file for ``chapter_seeds.py --keep-going``: every ``assert`` records its outcome and runs on.

A chapter stops at its first failing assert, which hides every check after it. Loaded into a kernel (as a startup
file), this module rewrites each cell's ``assert test, msg`` into a call that records, as one JSON line in
``$GANCOURSE_ASSERT_LOG``, the assert's source, whether it held, and the values of the comparison operands that
can be read again without side effects (``real["FD"]``, ``ratio``, ``x.item()``): the margins a bar is set from.
The chapter then goes on, so one run of a chapter reports every check on that seed. Not for the chapters' own runs.
"""

from __future__ import annotations

import ast
import json
import math
import os


def _plain(value: object) -> object:
    """A JSON-friendly copy of an operand's value: numbers as floats, short reprs otherwise."""
    try:
        if hasattr(value, "numel") and value.numel() == 1:  # a one-element tensor
            value = value.item()
        number = float(value)
        return number if math.isfinite(number) else str(number)
    except (TypeError, ValueError, RuntimeError):
        return repr(value)[:120]


def record_assert(holds: object, source: str, operands) -> None:
    """Append one assert's outcome and its readable operands to the log; print a line when it failed."""
    try:
        values = {text: _plain(value) for text, value in operands().items()}
    except Exception as error:  # an operand that cannot be read again must not stop the chapter
        values = {"error": repr(error)[:120]}
    passed = bool(holds)
    with open(os.environ["GANCOURSE_ASSERT_LOG"], "a") as log:
        log.write(json.dumps({"source": source, "passed": passed, "values": values}) + "\n")
    if not passed:
        print(f"assert failed (kept going): {source}")


# Calls that only read: an operand made of these (and no other call) is evaluated a second time for the record.
_READING_FUNCTIONS = {"abs", "float", "int", "len", "min", "max", "round", "sum"}
_READING_METHODS = {"item", "min", "max", "mean", "median", "abs", "sum", "std", "float", "numel"}


def _reads_only(node: ast.AST) -> bool:
    for child in ast.walk(node):
        if isinstance(child, ast.Lambda | ast.NamedExpr | ast.Await | ast.Yield):
            return False
        if isinstance(child, ast.Call):
            func = child.func
            if not ((isinstance(func, ast.Name) and func.id in _READING_FUNCTIONS)
                    or (isinstance(func, ast.Attribute) and func.attr in _READING_METHODS)):
                return False
    return True


def _operands(test: ast.expr) -> list[ast.expr]:
    """The operands of every comparison in ``test`` (through and/or/not) that can be evaluated twice safely."""
    found = []
    for node in ast.walk(test):
        if isinstance(node, ast.Compare):
            found += [part for part in (node.left, *node.comparators)
                      if _reads_only(part) and not isinstance(part, ast.Constant)]
    return found


class SoftAsserts(ast.NodeTransformer):
    """``assert test, msg`` -> ``record_assert(test, "test", lambda: {"operand": operand, ...})``."""

    def visit_Assert(self, node: ast.Assert) -> ast.stmt:
        operands = _operands(node.test)
        table = ast.Dict(keys=[ast.Constant(ast.unparse(o)) for o in operands], values=operands)
        lazy = ast.Lambda(args=ast.arguments(posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[], defaults=[]),
                          body=table)
        call = ast.Call(func=ast.Name("_gancourse_record_assert", ast.Load()),
                        args=[node.test, ast.Constant(ast.unparse(node.test)), lazy], keywords=[])
        return ast.copy_location(ast.Expr(call), node)


def load_ipython_extension(ipython) -> None:
    ipython.user_ns["_gancourse_record_assert"] = record_assert
    ipython.ast_transformers.append(SoftAsserts())


if os.environ.get("GANCOURSE_ASSERT_LOG"):
    try:
        from IPython import get_ipython

        if get_ipython() is not None:
            load_ipython_extension(get_ipython())
    except ImportError:
        pass
