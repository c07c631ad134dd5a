"""The house of DESIGN.md: each floor imports only the floors under it, and no circle.

Two checks. The first imports every module first, before anything else of profond (the package's
``__init__`` is not run, so no module leans on the order in which it imports the others).
The second reads every ``import`` of every module with ``ast`` (the function-level ones too)
and checks the graph against the table of floors below: no import up a floor, no circle.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import profond

SRC = Path(profond.__file__).parent

# The floors, lowest first. A module's floor is that of its longest dotted prefix here.
FLOORS = [
    # 1. arrays, randomness, argument checks, atomic file writes, nested structures: the ground
    ["backend", "random", "_validation", "_files", "_structure", "config"],
    # 2. Tensor, its operators and the primitives they call, the backward pass
    ["autograd"],
    # 3. the functional ops; the gradient checks that test them
    ["ops", "testing"],
    # 4. the one registry and the serialization dicts
    ["saving"],
    # 5. building blocks
    ["activations", "initializers", "regularizers", "constraints", "losses", "metrics", "layers",
     "optimizers", "schedules", "dtype_policies"],
    # 6. what fit needs under the models; the model files, which models and checkpoints
    # write and read (io reads only building blocks: the layer registry rebuilds the model)
    ["training", "io"],
    # 7. models and what runs beside their training. plotting (it draws histories and
    # schedules, and imports nothing of profond but _files) and diagnosis (it reads a history)
    # are here because History's plot() and diagnose() call them.
    ["models", "callbacks", "distribution", "plotting", "diagnosis"],
    # 8. what uses models: data imports training's class weighting; lr_finder trains a model
    # (preprocessing: Keras's older path to some of utils)
    ["data", "datasets", "pruning", "utils", "preprocessing", "sklearn", "lr_finder"],
    # 9. the command, the recipes, the labs, and the package's face, which imports the floors
    # under it (the top floor may use it: it imports none of them)
    ["cli", "recipe", "labs", ""],
]

# Imports that break the house in files other parts of issue 13 rewrite at the same time.
EXPECTED = {
}


def _modules() -> dict:
    """Dotted name (without ``profond.``; "" for the package) -> path."""
    found = {}
    for path in sorted(SRC.rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _dotted(name: str) -> str:
    return f"profond.{name}" if name else "profond"


def _floor(name: str) -> int:
    """The floor (from 0) of the longest prefix of ``name`` in FLOORS ("" matches all)."""
    matches = [(len(prefix), level) for level, names in enumerate(FLOORS) for prefix in names
               if not prefix or name == prefix or name.startswith(prefix + ".")]
    return max(matches)[1]


def _target(dotted: str):
    """The module an absolute ``profond...`` name loads (its longest known prefix)."""
    if dotted != "profond" and not dotted.startswith("profond."):
        return None
    name = dotted[len("profond."):] if dotted != "profond" else ""
    while name not in MODULES:
        name = name.rpartition(".")[0]
    return name


def _imports(name: str, path: Path) -> set:
    """Every profond module that ``name`` imports, wherever in the file the import stands."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(_target(alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the package, up level - 1 packages
                base = package.split(".") if package else []
                base = base[:len(base) - (node.level - 1)]
                module = "profond." + ".".join(base + ([node.module] if node.module else []))
                module = module.rstrip(".")
            else:
                module = node.module
            # "from pkg import submodule" loads the submodule, "from pkg import name" pkg
            out.update(_target(f"{module}.{alias.name}") for alias in node.names)
    out.discard(None)
    out.discard(name)
    return out


GRAPH = {name: _imports(name, path) - {b for a, b in EXPECTED if a == name}
         for name, path in MODULES.items()}


def test_the_table_places_every_module():
    listed = {prefix for names in FLOORS for prefix in names if prefix}
    missing = {name.split(".")[0] for name in MODULES if name} - listed
    assert not missing, f"modules with no floor in FLOORS: {sorted(missing)}"


def test_expected_breaks_still_exist():
    # Once the part that owns a file fixes its import, its line in EXPECTED must go.
    gone = sorted((a, b) for a, b in EXPECTED if b not in _imports(a, MODULES[a]))
    assert not gone, f"these imports no longer exist; delete them from EXPECTED: {gone}"


def test_nothing_imports_up_a_floor():
    upward = sorted(f"{_dotted(a)} (floor {_floor(a) + 1}) imports {_dotted(b)} (floor "
                    f"{_floor(b) + 1})"
                    for a, targets in GRAPH.items() for b in targets if _floor(b) > _floor(a))
    assert not upward, "\n".join(upward)


def _circles(graph: dict) -> list:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_circle():
    # A package's __init__ may import its own modules; a module importing its package's
    # __init__ back is a circle like any other.
    circles = _circles(GRAPH)
    assert not circles, "\n".join(" <-> ".join(map(_dotted, c)) for c in circles)


def test_circle_finder_finds_circles():
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _circles({"a": {"b"}, "b": set()}) == []


_IMPORT_FIRST = r"""
import importlib, importlib.util, json, sys, types, traceback

spec = importlib.util.find_spec("profond")
failures = {}
for name in json.loads(sys.argv[1]):
    for key in [k for k in sys.modules if k == "profond" or k.startswith("profond.")]:
        del sys.modules[key]
    if name:  # an empty package in place of profond/__init__.py, which would import all
        stub = types.ModuleType("profond")
        stub.__path__ = list(spec.submodule_search_locations)
        stub.__spec__ = spec
        sys.modules["profond"] = stub
    try:
        importlib.import_module("profond." + name if name else "profond")
    except Exception:
        failures[name] = traceback.format_exc(limit=-3)
print(json.dumps(failures))
"""


def test_every_module_imports_first():
    names = list(MODULES)
    batches = [names[i::2] for i in range(2)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC.parent)] + sys.path)}
    runs = [subprocess.Popen([sys.executable, "-c", _IMPORT_FIRST, json.dumps(batch)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
            for batch in batches]
    failures = {}
    for run in runs:
        out, err = run.communicate(timeout=300)
        assert run.returncode == 0, err
        failures.update(json.loads(out.strip().splitlines()[-1]))
    assert not failures, "\n".join(f"{_dotted(k)}:\n{v}" for k, v in sorted(failures.items()))


def test_import_first_sees_a_broken_module(tmp_path):
    # The check above must fail where a module leans on one it does not import: here
    # lr_finder uses profond.layers, which "import profond" happens to load before it.
    copy = tmp_path / "profond"
    for path in SRC.rglob("*.py"):
        target = copy / path.relative_to(SRC)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    module = copy / "lr_finder.py"
    module.write_text(module.read_text(encoding="utf-8") +
                      "\nimport profond.backend\n_probe = profond.layers.Layer\n",
                      encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path)] + sys.path)}
    run = subprocess.run([sys.executable, "-c", _IMPORT_FIRST, json.dumps(["", "lr_finder"])],
                         capture_output=True, text=True, env=env, timeout=120)
    failures = json.loads(run.stdout.strip().splitlines()[-1])
    assert list(failures) == ["lr_finder"] and "attribute 'layers'" in failures["lr_finder"]
