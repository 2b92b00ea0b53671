"""The figures layer has no import circle, each of its modules imports alone, and both executors are one callable."""
from __future__ import annotations

import ast
import inspect
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FIGURES = REPO / "hooks" / "figures"


def _module(path: Path) -> str:
    return ".".join(path.relative_to(REPO).with_suffix("").parts)


def _imports(path: Path) -> set[str]:
    """Every hooks module ``path`` imports, at the top or inside a function (a lazy import is still an edge)."""
    found = set()
    package = _module(path).rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}  # ``from hooks.figures import runner``
    return {name for name in found if name.startswith("hooks.")}


def _graph() -> dict[str, set[str]]:
    modules = {_module(p): p for p in sorted(FIGURES.glob("*.py"))}
    return {name: _imports(path) & set(modules) - {name} for name, path in modules.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import circle of ``graph`` (as a path that ends where it starts), or [] when there is none."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                return path[path.index(dep):] + [dep]
            if dep not in state:
                found = visit(dep)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return []


def test_the_cycle_finder_finds_a_circle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) == []


def test_no_module_of_hooks_figures_imports_itself_through_others() -> None:
    graph = _graph()
    assert "hooks.figures.runner" in graph and "hooks.figures.model" in graph
    assert graph["hooks.figures.runner"] >= {"hooks.figures.execute_local", "hooks.figures.execute_dask"}  # the edges are seen
    assert _cycle(graph) == [], " -> ".join(_cycle(graph))


def test_the_data_types_and_the_executors_import_neither_the_runner_nor_each_other() -> None:
    graph = _graph()
    assert graph["hooks.figures.model"] <= {"hooks.figures.spec"}
    assert "hooks.figures.runner" not in graph["hooks.figures.execute_local"] | graph["hooks.figures.execute_dask"]
    assert "hooks.figures.execute_dask" not in graph["hooks.figures.execute_local"]
    pages = _imports(FIGURES / "pages.py") | _imports(REPO / "hooks" / "site.py")
    assert not pages & {"hooks.figures.runner", "hooks.figures.execute_local", "hooks.figures.execute_dask"}


def test_every_figures_module_imports_alone_in_a_fresh_interpreter() -> None:
    names = sorted(_graph())
    code = (
        "import subprocess, sys\n"
        "bad = []\n"
        "for name in sys.argv[1:]:\n"
        "    p = subprocess.run([sys.executable, '-c', f'import {name}'], capture_output=True, text=True)\n"
        "    if p.returncode: bad.append(name + ': ' + p.stderr.strip().splitlines()[-1])\n"
        "print('\\n'.join(bad))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, *names], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""


def test_both_executors_are_the_same_callable() -> None:
    from hooks.figures import execute_dask, execute_local, runner

    assert inspect.signature(execute_local.execute) == inspect.signature(execute_dask.execute)
    call = inspect.signature(runner.Executor.__call__)
    assert list(call.parameters)[1:] == list(inspect.signature(execute_local.execute).parameters)
