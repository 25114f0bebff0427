"""The package's structure: the dependency rule of docs/architecture.md holds (import-linter), there
are no import cycles, only the solver adapter touches linopy and HiGHS, and functions stay short."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "smrplan"
MAX_FUNCTION_LINES = 80
SOLVER_ADAPTER = "smrplan.optimize.milp"


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph("smrplan", include_external_packages=True, exclude_type_checking_imports=True)


def test_the_dependency_rule_holds():
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint, "import-linter is installed with the test extras"
    r = subprocess.run([lint, str(ROOT / "pyproject.toml")], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stdout[-3000:]


def test_no_import_cycles():
    graph = grimp.build_graph("smrplan", exclude_type_checking_imports=False)  # type-only imports count here
    modules = {m for m in graph.modules if m.startswith("smrplan.")}
    cycles = []
    for m in sorted(modules):
        for d in graph.find_modules_directly_imported_by(m):
            if d in modules and graph.chain_exists(importer=d, imported=m):
                cycles.append((m, d, graph.find_shortest_chain(importer=d, imported=m)))
    assert not cycles, cycles[:5]


def test_only_the_solver_adapter_imports_linopy_and_highspy(graph):
    for lib in ("linopy", "highspy"):
        importers = {m for m in graph.find_modules_that_directly_import(lib) if m.startswith("smrplan")}
        assert importers == {SOLVER_ADAPTER}, (lib, sorted(importers))


def test_functions_are_short():
    """Lines of code of each function: its docstring (numpydoc sections, tests/test_docstrings.py) is not counted."""
    long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                doc = node.body[0] if ast.get_docstring(node) is not None else None
                n = node.end_lineno - node.lineno + 1 - (doc.end_lineno - doc.lineno + 1 if doc else 0)
                if n > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {node.name} ({n} lines)")
    assert not long, long


def test_tests_mirror_the_packages():
    """Each stage package has a test folder of the same name."""
    packages = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()} - {"data", "scenarios"}
    folders = {p.name for p in (ROOT / "tests").iterdir() if p.is_dir()}
    assert packages <= folders, sorted(packages - folders)
