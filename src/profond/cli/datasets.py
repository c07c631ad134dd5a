"""``profond datasets [NAME]``: the real datasets profond loads in one call, with their shapes
and sources."""

from __future__ import annotations

import argparse

HELP = """\
List the datasets that profond.datasets loads in one call: name, task, shapes of x and y,
number of classes, and where the data come from. The bundled ones ship with scikit-learn
(no download).

With NAME, describe one dataset: shapes, dtypes, value range, class counts, source, and the
call that loads it.
"""

# name -> (loader, task, source). Shapes and classes are read from the data themselves.
CATALOGUE = {
    "digits": ("load_digits", "classification",
               "UCI ML hand-written digits (Alpaydin & Kaynak, 1998), bundled with scikit-learn"),
    "iris": ("load_iris", "classification",
             "Fisher's iris flowers (1936), UCI, bundled with scikit-learn"),
    "wine": ("load_wine", "classification",
             "UCI wine recognition (Forina et al.), bundled with scikit-learn"),
    "breast_cancer": ("load_breast_cancer", "classification",
                      "UCI breast cancer Wisconsin, diagnostic (Street, Wolberg & Mangasarian, "
                      "1993), bundled with scikit-learn"),
    "diabetes": ("load_diabetes", "regression",
                 "Diabetes progression (Efron et al., 2004), bundled with scikit-learn"),
    "fashion_mnist": ("load_fashion_mnist", "classification",
                      "Fashion-MNIST, Zalando Research (Xiao, Rasul & Vollgraf, 2017), read from "
                      "its IDX files on disk"),
    "sunspots": ("load_sunspots", "forecasting (time series)",
                 "Yearly mean sunspot numbers 1700-2008, NOAA NGDC (public domain), bundled with "
                 "profond"),
}

# Series: one array of values, no targets; a recipe cuts it into windows (window, horizon).
_SERIES = ("sunspots",)

# Datasets read from files outside profond: listed with their documented shapes, and loaded
# only when described one by one (60,000 images take a moment).
_ON_DISK = {"fashion_mnist": {"x_shape": {"train": [60000, 28, 28], "test": [10000, 28, 28]},
                              "y_shape": {"train": [60000], "test": [10000]}, "classes": 10}}


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("datasets", help="list the real datasets, with shapes and sources",
                              description=HELP, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("name", nargs="?", default=None,
                   help=f"describe one dataset ({', '.join(CATALOGUE)})")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=run)


def available() -> dict:
    """The catalogue entries whose loader exists in this install of profond."""
    from profond import datasets

    return {name: entry for name, entry in CATALOGUE.items() if hasattr(datasets, entry[0])}


def describe(name: str, load: bool = True) -> dict:
    """Facts about one dataset, read from the data when ``load`` (bundled datasets only)."""
    import numpy as np

    from profond import datasets

    entries = available()
    if name not in entries:
        raise ValueError(f"Unknown dataset {name!r}. Available: {sorted(entries)}.")
    loader, task, source = entries[name]
    info = {"name": name, "loader": f"profond.datasets.{loader}()", "task": task,
            "source": source, "bundled": name not in _ON_DISK}
    doc = (getattr(datasets, loader).__doc__ or "").strip().splitlines()
    info["summary"] = doc[0] if doc else ""
    if name in _ON_DISK:
        info.update(_ON_DISK[name])
        if not load:
            return info
        try:
            (x, y), (x_test, y_test) = getattr(datasets, loader)()
        except FileNotFoundError as err:
            info["files"] = f"not found: {err}"
            return info
        info.update({"x_shape": {"train": list(x.shape), "test": list(x_test.shape)},
                     "y_shape": {"train": list(y.shape), "test": list(y_test.shape)}})
    elif not load:
        return info
    elif name in _SERIES:
        x = getattr(datasets, loader)()
        info.update({"x_shape": list(x.shape), "x_dtype": str(x.dtype),
                     "x_range": [float(x.min()), float(x.max())],
                     "windows": "a recipe's [data] window (and horizon) cut it into "
                                "(inputs, targets) pairs, split in time order"})
        return info
    else:
        x, y = getattr(datasets, loader)()
    if name not in _ON_DISK:
        info.update({"x_shape": list(x.shape), "y_shape": list(y.shape)})
    info.update({"x_dtype": str(x.dtype), "y_dtype": str(y.dtype),
                 "x_range": [float(x.min()), float(x.max())]})
    if task == "classification":
        classes, counts = np.unique(y, return_counts=True)
        info["classes"] = len(classes)
        info["class_counts"] = {int(c): int(k) for c, k in zip(classes, counts)}
    else:
        info["y_range"] = [float(y.min()), float(y.max())]
    return info


def _shape(info, key):
    if key not in info:
        return "-"
    value = info[key]
    if isinstance(value, dict):  # train and test parts
        return " + ".join(str(tuple(v)) for v in value.values())
    return str(tuple(value))


def run(args) -> int:
    import json

    if args.name is not None:
        info = describe(args.name)
        if args.json:
            print(json.dumps(info, indent=2))
            return 0
        width = max(len(k) for k in info)
        for key, value in info.items():
            print(f"{key:<{width}}  {value}")
        return 0
    rows = [describe(name, load=name not in _ON_DISK) for name in available()]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    header = ("name", "task", "x", "y", "classes", "source")
    table = [header] + [(r["name"], r["task"], _shape(r, "x_shape"), _shape(r, "y_shape"),
                         str(r.get("classes", "-")),
                         r["source"])
                        for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header) - 1)]
    for row in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[-1])
    return 0
