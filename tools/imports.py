"""Print each top-level part of profond and the parts it imports (top-level and lazy imports).

Usage: python tools/imports.py [SRC_DIR]
"""
from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path


def part_of(module: str) -> str:
    bits = module.split(".")
    return bits[1] if len(bits) > 1 else bits[0]


def imports(path: Path, module: str) -> set[str]:
    found = set()
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("profond"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            if name == "profond":  # from profond import ops, random
                found.update(f"profond.{a.name}" for a in node.names)
            elif name.startswith("profond"):
                found.add(name)
    return found


def main(src="src"):
    root = Path(src) / "profond"
    edges = defaultdict(set)
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root.parent).with_suffix("")
        module = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        me = part_of(module)
        for target in imports(path, module):
            other = part_of(target)
            exists = (root / f"{other}.py").exists() or (root / other).is_dir()
            if other != me and exists:
                edges[me].add(other)
    parts = sorted({part_of(".".join(p.relative_to(root.parent).with_suffix("").parts))
                    for p in root.rglob("*.py")} - {"profond", "__init__"})
    for part in parts:
        print(f"{part:14s} -> {', '.join(sorted(edges[part])) or '(nothing of profond)'}")


if __name__ == "__main__":
    main(*sys.argv[1:])
