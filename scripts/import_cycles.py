"""No import circle among core/, config/ and tasks/, module by module, counting imports
inside functions (grimp sees every import statement); and every import left inside a
function says why on its line or the line above (`# start-up cost: …`, `# fork safety: …`,
`# import order: …`). `make lint` runs it after lint-imports, whose acyclic_siblings
contract checks the same between sibling packages."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import grimp

ROOTS = ("core", "config", "tasks")


def cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    modules = sorted(graph.modules)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in modules:
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in graph.modules:
                    continue
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph.find_modules_directly_imported_by(w)))))
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        found.append(sorted(comp))
    return found


def uncommented_lazy_imports(roots: tuple[str, ...] = ROOTS) -> list[str]:
    """file:line of every import inside a function with no comment saying why."""
    found: list[str] = []
    for root in roots:
        for path in sorted(Path(root).rglob("*.py")):
            if "alembic" in path.parts:
                continue
            lines = path.read_text().splitlines()
            tree = ast.parse("\n".join(lines))
            for fn in ast.walk(tree):
                if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                for node in ast.walk(fn):
                    if isinstance(node, ast.Import | ast.ImportFrom):
                        here = lines[node.lineno - 1]
                        above = lines[node.lineno - 2].strip() if node.lineno > 1 else ""
                        if "#" not in here and not above.startswith("#"):
                            found.append(f"{path}:{node.lineno}: {here.strip()}")
    return sorted(set(found))


def main() -> int:
    graph = grimp.build_graph(*ROOTS, cache_dir=None)
    found = cycles(graph)
    for comp in found:
        print("import circle:", " <-> ".join(comp))
        for a in comp:
            for b in comp:
                if a != b and graph.direct_import_exists(importer=a, imported=b):
                    lines = graph.get_import_details(importer=a, imported=b)
                    where = ", ".join(f"l.{d['line_number']}" for d in lines)
                    print(f"    {a} -> {b} ({where})")
    if not found:
        print(f"no import circle among {', '.join(ROOTS)}")
    lazy = uncommented_lazy_imports()
    for where in lazy:
        print(f"{where}  <- an import inside a function: say why (start-up cost, fork safety)")
    return 1 if found or lazy else 0


if __name__ == "__main__":
    sys.exit(main())
