"""``profond lab``: run the deck's experiments.

``profond lab list`` lists them; ``profond lab NAME`` runs one (plots and ``result.json`` in
``--out``); ``profond lab all --out DIR`` runs them all and writes ``DIR/report.html``.
"""

from __future__ import annotations

import argparse
import os

HELP = """\
Run the course's experiments: each lab states a claim of the deck, measures it on real data,
plots it and says whether the figures bear it out.

  profond lab list                  the labs, in the deck's order
  profond lab losses --quick        one lab (quick: about a minute at most)
  profond lab all --out labs-report run every lab, write labs-report/report.html
"""


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("lab", help="run the deck's experiments (labs) and their report",
                              description=HELP, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("name", help="'list', 'all', or a lab's name (see 'profond lab list')")
    p.add_argument("--quick", action="store_true",
                   help="small data and few epochs (about a minute per lab at most)")
    p.add_argument("--seed", type=int, default=0,
                   help="first seed of the claims (3 seeds in quick mode, 5 in full; default 0)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="folder for plots, result.json and, for 'all', report.html "
                        "(default: labs/<name> or labs-report)")
    p.add_argument("--no-embed", action="store_true",
                   help="link the report's images by relative path instead of embedding them")
    p.set_defaults(func=run)


def _list() -> int:
    from profond import labs

    available = set(labs.names())
    for name in labs.names(include_missing=True):
        if name in available:
            print(f"{name:20s} {labs.get(name).TITLE}")
        else:
            print(f"{name:20s} (not available yet)")
    return 0


def _progress(items):
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is in the cli extra
        return None
    return tqdm(items, desc="labs", unit="lab")


def _run_all(args) -> int:
    import traceback

    from profond import labs
    from profond.labs.report import write_report

    from profond import distribution

    out = args.out or "labs-report"
    names = labs.names()
    quiet = not distribution.is_primary()  # under mpiexec, rank 0 reports
    bar = None if quiet else _progress(names)
    iterator = bar if bar is not None else names
    results = []
    for i, name in enumerate(iterator):
        if bar is not None:
            bar.set_postfix_str(name)
        elif not quiet:
            print(f"[{i + 1}/{len(names)}] {name}", flush=True)
        try:
            results.append(labs.run_lab(name, quick=args.quick, seed=args.seed,
                                        out_dir=os.path.join(out, name)))
        except Exception as err:  # one broken lab must not lose the others' report
            results.append({"lab": name, "error": f"{type(err).__name__}: {err}",
                            "traceback": traceback.format_exc()})
    if bar is not None:
        bar.close()
    if quiet:
        return 1 if any("error" in r for r in results) else 0
    path = write_report(results, out, embed=not args.no_embed)
    for r in results:
        status = "error" if "error" in r else ("holds" if r["holds"] else "DOES NOT HOLD")
        print(f"{r['lab']:20s} {status}")
    print(f"report: {path}")
    return 1 if any("error" in r for r in results) else 0


def run(args) -> int:
    from profond import labs
    from profond._validation import check_int

    check_int(args.seed, "--seed", "profond lab", low=0)
    if args.name not in ("list", "all"):
        labs.get(args.name)  # an unknown name is refused before anything runs
    if args.out is not None and os.path.isfile(args.out):
        raise ValueError(f"The '--out' parameter of profond lab must be a folder (new or "
                         f"existing). Got {args.out!r}, an existing file, instead.")
    if args.name == "list":
        return _list()
    if args.name == "all":
        return _run_all(args)
    module = labs.get(args.name)
    out = args.out or os.path.join("labs", module.NAME)
    result = labs.run_lab(module.NAME, quick=args.quick, seed=args.seed, out_dir=out)
    from profond import distribution

    if not distribution.is_primary():  # under mpiexec, rank 0 reports
        return 0
    print(f"{result['title']} ({result['seconds']:.1f} s)")
    print(f"claim: {result['claim']}")
    cols = result["table"]["columns"]
    print(" | ".join(str(c) for c in cols))
    for row in result["table"]["rows"][:30]:
        print(" | ".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in row))
    for k, ok in result["checks"].items():
        print(f"  [{'pass' if ok else 'FAIL'}] {k.replace('_', ' ')}")
    print(f"verdict: {result['verdict']}")
    print(f"plots: {', '.join(os.path.join(out, p) for p in result['images'])}")
    return 0
