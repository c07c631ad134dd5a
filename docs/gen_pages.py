"""Pages written at build time (run by mkdocs-gen-files, see mkdocs.yml).

- ``labs/<name>.md`` and ``labs/<name>/*.png``: each of the 15 labs run in quick mode on ONE
  seed (seed 0), its table, figures, checks and verdict. ``profond lab NAME --quick`` states the
  same claims over 3 seeds and ``profond lab NAME`` over 5; one seed keeps the whole docs build
  within a few minutes on 2 cores. Each page says so.
- ``labs/index.md``: which claims the figures bear out, with each lab's time.
- ``reference/index.md``: the public modules, with the first line of their docstrings.
- ``figures/parameter_free_layers.png``: the guide's figure for the layers without weights
  (concept 5, the one concept without a lab), drawn by running those layers on one digit.

A lab's result is cached under ``build/docs-labs/`` keyed by a hash of every source file of
profond, so ``mkdocs serve`` reloads do not rerun them; any change to the code reruns them all.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import pathlib
import shutil
import sys
import time

import mkdocs_gen_files

ROOT = pathlib.Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "profond"
# The pages describe the code of this tree, whatever profond the environment has installed.
sys.path.insert(0, str(SRC.parent))
CACHE = ROOT / "build" / "docs-labs"
SEED = 0

# The modules of the API reference, in the order of the house (floor by floor).
REFERENCE = ["autograd", "ops", "layers", "models", "activations", "initializers",
             "regularizers", "constraints", "losses", "metrics", "optimizers", "schedules",
             "callbacks", "saving", "training", "io", "data", "datasets", "pruning", "utils",
             "lr_finder", "plotting", "diagnosis", "testing", "random", "backend", "labs",
             "sklearn", "distribution"]


def _source_hash() -> str:
    digest = hashlib.sha256()
    for path in sorted(SRC.rglob("*.py")):
        digest.update(str(path.relative_to(SRC)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _run_lab(name: str, key: str) -> tuple[dict, pathlib.Path]:
    """The lab's result and the folder of its figures, from the cache or by running it."""
    from profond import labs

    folder = CACHE / key / name
    result_file = folder / "result.json"
    if result_file.exists():
        return json.loads(result_file.read_text(encoding="utf-8")), folder
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    module = labs.get(name)
    t0 = time.perf_counter()
    result = module.run(quick=True, seed=SEED, seeds=1)
    result["images"] = [os.path.relpath(p, folder) for p in module.plot(result, folder)]
    result["build_seconds"] = round(time.perf_counter() - t0, 1)
    result_file.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return result, folder


def _cell(value) -> str:
    if isinstance(value, float):
        text = f"{value:.4g}"
    else:
        text = str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def _table(columns, rows) -> str:
    lines = ["| " + " | ".join(_cell(c) for c in columns) + " |",
             "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _checks_table(result) -> str:
    rows = []
    for name, c in result["claims"].items():
        value = c["values"][0]
        rows.append([f"`{name}`", c["what"] or "held (1) or not (0)",
                     f"{value:.4g} {c['op']} {c['threshold']:.4g}",
                     "holds" if c["holds"] else "**fails**"])
    return _table(["check", "figure", "on seed 0", "result"], rows)


def _lab_page(name: str, result: dict) -> str:
    shown = result["verdict"].split("shown in the table and plots: ", 1)[-1]
    opening = ("The figures bear the claim out" if result["holds"]
               else "The figures do NOT fully bear the claim out")
    kind = "success" if result["holds"] else "failure"
    figures = "\n\n".join(f"![{name}: {img}]({name}/{img})" for img in result["images"])
    return f"""# {result['title']}

!!! quote "The claim (the deck)"
    {result['claim']}

!!! note "How this page was made"
    Run when the site was built, in quick mode on one seed (seed {SEED}):
    `profond.labs.get("{name}").run(quick=True, seed={SEED}, seeds=1)`, which took
    {result['build_seconds']} s. One seed keeps the docs build short; the library states its
    claims over 3 seeds in quick mode (`profond lab {name} --quick`) and over 5 in full mode
    (`profond lab {name}`), and the test suite checks them over 3 seeds. A claim that holds
    on one seed here is an example, not a proof.

## Figures

{figures}

## Table

{_table(result['table']['columns'], result['table']['rows'])}

## Checks of the claim

{_checks_table(result)}

!!! {kind} "Verdict"
    {opening}. On seed {SEED}: {shown}

The code: `profond.labs.{importlib.import_module('profond.labs').LABS[name]}` (see
[profond.labs](../reference/labs.md)). The lesson behind it: [the user guide](../guide/index.md).
"""


def _labs_index(results: dict) -> str:
    rows = []
    for name, r in results.items():
        rows.append([f"[{r['title']}]({name}.md)", "yes" if r["holds"] else "**no**",
                     f"{r['build_seconds']} s"])
    total = sum(r["build_seconds"] for r in results.values())
    return f"""# Labs

Each lesson of the deck is an experiment that runs on real data, measures, draws, and writes a
verdict from its own figures (including when they do not bear the claim out). The pages below
were produced when this site was built: each lab ran in quick mode on one seed (seed {SEED}),
{total:.0f} s (wall clock) for all of them on the build machine. On the command line:

```bash
profond lab list                        # the labs, in the deck's order
profond lab losses --quick              # one lab, its claims over 3 seeds
profond lab all --quick --out report    # all of them, and an HTML report
```

{_table(["lab", "bears the claim out (seed 0)", "time"], rows)}
"""


def _reference_index() -> str:
    rows = []
    for module in REFERENCE:
        doc = importlib.import_module(f"profond.{module}").__doc__ or ""
        first = doc.strip().split("\n\n")[0].replace("\n", " ")
        rows.append([f"[profond.{module}]({module}.md)", first])
    return ("# API reference\n\nGenerated from the numpydoc docstrings of each public module "
            "(in the order of the house: each module uses only the ones above it in "
            "DESIGN.md's floors). Start at [profond](profond.md) for the top-level names.\n\n"
            + _table(["module", "what it holds"], rows) + "\n")


def _parameter_free_figure() -> bytes:
    """One digit through the layers without weights, each output drawn with its shape."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from profond import layers
    from profond.datasets import load_digits

    x, _ = load_digits()
    image = (x[:1] / 16.0).reshape(1, 8, 8, 1).astype(np.float32)
    panels = [("input", image),
              ("MaxPooling2D(2)", layers.MaxPooling2D(2)(image)),
              ("AveragePooling2D(2)", layers.AveragePooling2D(2)(image)),
              ("UpSampling2D(2, bilinear)",
               layers.UpSampling2D(2, interpolation="bilinear")(image)),
              ("Flatten()", layers.Flatten()(image)),
              ("GlobalAveragePooling2D()", layers.GlobalAveragePooling2D()(image))]
    fig, axes = plt.subplots(1, len(panels), figsize=(3 * len(panels), 3.2))
    for ax, (title, value) in zip(axes, panels):
        value = value.numpy() if hasattr(value, "numpy") else np.asarray(value)
        shown = value[0, :, :, 0] if value.ndim == 4 else value.reshape(1, -1)
        ax.imshow(shown, cmap="gray_r", vmin=0, vmax=1, aspect="auto" if value.ndim == 2
                  else "equal")
        ax.set_title(f"{title}\n{tuple(value.shape)}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("One digit through layers that learn nothing (output shapes below the names)")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    return buffer.getvalue()


def main() -> None:
    from profond import labs

    with mkdocs_gen_files.open("reference/index.md", "w") as fh:
        fh.write(_reference_index())
    with mkdocs_gen_files.open("figures/parameter_free_layers.png", "wb") as fh:
        fh.write(_parameter_free_figure())
    key = _source_hash()
    if CACHE.exists():  # results of older code are never shown again
        for old in CACHE.iterdir():
            if old.name != key:
                shutil.rmtree(old)
    results = {}
    for name in labs.names():
        result, folder = _run_lab(name, key)
        results[name] = result
        for img in result["images"]:
            with mkdocs_gen_files.open(f"labs/{name}/{img}", "wb") as fh:
                fh.write((folder / img).read_bytes())
        with mkdocs_gen_files.open(f"labs/{name}.md", "w") as fh:
            fh.write(_lab_page(name, result))
    with mkdocs_gen_files.open("labs/index.md", "w") as fh:
        fh.write(_labs_index(results))


main()
