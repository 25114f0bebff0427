"""Every public function of the package has a docstring, and one of three or more parameters documents
them in numpydoc sections: `Parameters` naming each parameter, `Returns` when it returns a value,
`Raises` naming InputError when it raises one. Read from the source with `ast` (nothing is imported).
The command line is exempt: typer builds its help from its functions' docstrings."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "smrplan"
EXEMPT = ("cli",)
MIN_PARAMETERS = 3

Function = ast.FunctionDef | ast.AsyncFunctionDef


def public_functions() -> Iterator[tuple[str, Function]]:
    """(where, node) of every module-level function whose name does not start with `_`."""
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] in EXEMPT:
            continue
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, Function) and not node.name.startswith("_"):
                yield f"{rel}:{node.lineno} {node.name}", node


def parameters(node: Function) -> list[str]:
    a = node.args
    names = [p.arg for p in [*a.posonlyargs, *a.args, *a.kwonlyargs]]
    return names + [p.arg for p in (a.vararg, a.kwarg) if p is not None]


def section(doc: str, title: str) -> list[str] | None:
    """The lines of a numpydoc section (title, a dashed underline, up to the next title), None if absent."""
    lines = doc.splitlines()
    for i in range(len(lines) - 1):
        if lines[i] == title and set(lines[i + 1]) == {"-"}:
            end = i + 2
            while end < len(lines) and not (end + 1 < len(lines) and lines[end + 1] and set(lines[end + 1]) == {"-"}):
                end += 1
            return lines[i + 2:end]
    return None


def documented(doc: str) -> set[str]:
    """Names in the `Parameters` section: its unindented lines, `name : type` or `a, b : type`."""
    names: set[str] = set()
    for line in section(doc, "Parameters") or []:
        if line.strip() and not line[0].isspace():
            names.update(n.strip().lstrip("*") for n in line.split(" : ")[0].split(","))
    return names


def _not_nested(nodes: Iterable[ast.AST]) -> list[ast.AST]:
    return [n for n in nodes if not isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef)]


def own_nodes(node: Function) -> Iterator[ast.AST]:
    """The function's own statements and expressions, not those of functions or classes inside it."""
    stack = _not_nested(node.body)
    while stack:
        n = stack.pop()
        yield n
        stack.extend(_not_nested(ast.iter_child_nodes(n)))


def returns_value(node: Function) -> bool:
    return any(isinstance(n, ast.Return) and n.value is not None
               and not (isinstance(n.value, ast.Constant) and n.value.value is None) for n in own_nodes(node))


def _raised(exc: ast.expr | None) -> str | None:
    """Name of the exception a `raise` statement raises (`raise X(...)`, `raise X`, `raise m.X(...)`)."""
    target = exc.func if isinstance(exc, ast.Call) else exc
    if isinstance(target, ast.Name):
        return target.id
    return target.attr if isinstance(target, ast.Attribute) else None


def raises_input_error(node: Function) -> bool:
    return any(isinstance(n, ast.Raise) and _raised(n.exc) == "InputError" for n in own_nodes(node))


def with_parameters() -> Iterator[tuple[str, Function, str]]:
    for where, node in public_functions():
        doc = ast.get_docstring(node)
        if doc and len(parameters(node)) >= MIN_PARAMETERS:
            yield where, node, doc


def test_public_functions_have_docstrings():
    missing = [where for where, node in public_functions() if not ast.get_docstring(node)]
    assert not missing, missing


def test_parameters_are_documented():
    bad = []
    for where, node, doc in with_parameters():
        if section(doc, "Parameters") is None:
            bad.append(f"{where}: no Parameters section")
        elif undocumented := [p for p in parameters(node) if p not in documented(doc)]:
            bad.append(f"{where}: {undocumented} not in Parameters")
    assert not bad, bad


def test_returns_and_raises_are_documented():
    bad = []
    for where, node, doc in with_parameters():
        if returns_value(node) and section(doc, "Returns") is None and section(doc, "Yields") is None:
            bad.append(f"{where}: no Returns section")
        if raises_input_error(node) and "InputError" not in "\n".join(section(doc, "Raises") or []):
            bad.append(f"{where}: raises InputError, no Raises section naming it")
    assert not bad, bad


def test_sections_are_read():
    doc = "Summary.\n\nParameters\n----------\nlon, lat : float\n    Degrees.\n**kw\n    Options.\n\nReturns\n-------\nfloat"
    assert documented(doc) == {"lon", "lat", "kw"}
    assert section(doc, "Returns") == ["float"]
    assert section(doc, "Raises") is None
