"""The house, read from the source: no import circle in `backend/`, none hidden in a function, and
the worker knows no domain."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "backend"
PACKAGE = ROOT / "loadbay"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _targets(node: ast.Import | ast.ImportFrom, module: str) -> list[str]:
    """The project's modules an import statement loads (``from pkg import sub`` loads ``pkg.sub``)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name in MODULES]
    base = node.module or ""
    if node.level:
        package = module.split(".")
        if MODULES[module].name != "__init__.py":
            package.pop()
        package = package[: len(package) - (node.level - 1)]
        base = ".".join([*package, *([base] if base else [])])
    out = []
    for a in node.names:
        if f"{base}.{a.name}" in MODULES:
            out.append(f"{base}.{a.name}")
        elif base in MODULES:
            out.append(base)
    return out


def _imports(module: str) -> tuple[set[str], list[tuple[int, str]]]:
    """(modules imported when this module loads, (line, module) of imports inside functions)."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    top: set[str] = set()
    local: list[tuple[int, str]] = []

    def walk(nodes: list[ast.stmt], in_function: bool) -> None:
        for node in nodes:
            if isinstance(node, ast.Import | ast.ImportFrom):
                for target in _targets(node, module):
                    (local.append((node.lineno, target)) if in_function else top.add(target))
            elif isinstance(node, ast.If) and _is_type_checking(node):
                continue  # for the type checker only: loads nothing
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                walk(node.body, True)
            elif isinstance(node, ast.ClassDef):
                walk(node.body, in_function)
            else:
                for child in ("body", "orelse", "finalbody", "handlers"):
                    walk(getattr(node, child, []) or [], in_function)

    walk(tree.body, False)
    return top, local


GRAPH = {m: _imports(m) for m in MODULES}


def _cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), or a module importing itself."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(GRAPH[v][0]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in GRAPH[v][0]:
                found.append(sorted(component))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    return found


def test_the_graph_is_read_from_the_source() -> None:
    # The reader itself works: these edges exist.
    assert "loadbay.worker.backend" in GRAPH["loadbay.jobs"][0]
    assert "loadbay.imports.jobs" in GRAPH["loadbay.jobs"][0]


def test_no_import_circle_in_the_backend() -> None:
    assert _cycles() == []


def test_no_import_of_the_project_inside_a_function() -> None:
    # A function-local import is how a circle hides; every import of the project's own modules
    # is at the top of its file.
    hidden = {m: local for m, (_, local) in GRAPH.items() if local}
    assert hidden == {}


def test_the_worker_imports_no_domain() -> None:
    domains = {"auth", "imports", "invitations", "records", "schema", "workspaces", "meta"}
    for module, (top, _) in GRAPH.items():
        if module.startswith("loadbay.worker"):
            reached = {t.split(".")[1] for t in top if t.count(".") >= 1}
            assert not reached & domains, (module, sorted(top))
