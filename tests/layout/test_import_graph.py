"""The arrows between FedLoom's packages: the core knows no service, services know no other service, the agent
needs nothing of the simulator, and no module imports itself round a cycle (lazy and type-only imports count)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ROOTS = {
    "fedloom": REPO / "shared" / "fedloom",
    "fedloom_aggregator": REPO / "services" / "aggregator" / "fedloom_aggregator",
    "fedloom_generator": REPO / "services" / "generator" / "fedloom_generator",
    "fedloom_agent": REPO / "services" / "client_agent" / "fedloom_agent",
}


def module_files() -> Iterator[tuple[str, Path]]:
    for package, root in ROOTS.items():
        for path in sorted(root.rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            parts = parts[:-1] if parts[-1] == "__init__" else parts
            yield ".".join((package, *parts)), path


def imported_modules(path: Path, known: set[str]) -> set[str]:
    """Every project module `path` imports (anywhere in the file), resolved to the longest known name."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:  # a submodule, or the package
            subs = [f"{node.module}.{alias.name}" for alias in node.names]
            names = [sub if sub in known else node.module for sub in subs]
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name:
                found.add(name)
    return found


GRAPH = {}
_FILES = dict(module_files())
for _module, _path in _FILES.items():
    GRAPH[_module] = imported_modules(_path, set(_FILES)) - {_module}


def reachable(start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in GRAPH[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def is_package_init(module: str) -> bool:
    return _FILES[module].name == "__init__.py"


def test_no_import_cycles() -> None:
    """A package's __init__ re-exporting its own modules is not a cycle; anything else coming back is."""
    cycles = []
    for module in GRAPH:
        for nxt in GRAPH[module]:
            if is_package_init(nxt) and module.startswith(nxt + "."):
                continue
            back = reachable(nxt) - {m for m in reachable(nxt) if is_package_init(m) and module.startswith(m + ".")}
            if module in back and not (is_package_init(module) and nxt.startswith(module + ".")):
                cycles.append(f"{module} -> {nxt}")
    assert not cycles, "import cycles: " + ", ".join(sorted(cycles))


@pytest.mark.parametrize("package", ["fedloom_aggregator", "fedloom_generator", "fedloom_agent"])
def test_the_core_imports_no_service(package: str) -> None:
    offenders = [m for m in GRAPH if m.startswith("fedloom.") and any(i.startswith(package) for i in GRAPH[m])]
    assert not offenders


@pytest.mark.parametrize(
    ("service", "others"),
    [
        ("fedloom_aggregator", ("fedloom_generator", "fedloom_agent")),
        ("fedloom_generator", ("fedloom_aggregator", "fedloom_agent")),
        ("fedloom_agent", ("fedloom_aggregator", "fedloom_generator", "fedloom.simulation", "fedloom.serving")),
    ],
)
def test_a_service_needs_no_other_service(service: str, others: tuple[str, ...]) -> None:
    used = {i for m in GRAPH if m.startswith(service) for i in reachable(m)}
    assert not [m for m in used if m.startswith(others)]


def test_the_agent_needs_no_server_side_package() -> None:
    """Nothing the agent imports, directly or through the core, imports FastAPI, Redis, MinIO or Jinja."""
    used = {m for start in GRAPH if start.startswith("fedloom_agent") for m in reachable(start) | {start}}
    server_only = ("fastapi", "starlette", "uvicorn", "redis", "minio", "jinja2", "matplotlib")
    offenders = {}
    for module in used:
        tree = ast.parse(_FILES[module].read_text())
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            names += [node.module] if isinstance(node, ast.ImportFrom) and node.module else []
            bad = [n for n in names if n.split(".")[0] in server_only]
            if bad:
                offenders[module] = bad
    assert not offenders
