"""The labs' HTML report: one self-contained file that opens in any browser, with no server.

One section per lab: its claim, the table of figures, the plots (PNG files embedded as base64
``data:`` URIs, so the file can be mailed or moved alone), the checks of the claim and the
verdict. A summary table at the top says which claims the figures bear out.
"""

from __future__ import annotations

import base64
import html
import json
import os
import time

__all__ = ["write_report", "render_report"]

_CSS = """
body { font-family: system-ui, sans-serif; max-width: 1150px; margin: 2em auto; padding: 0 1em;
       color: #222; line-height: 1.45; }
h1 { margin-bottom: 0.2em; }
section { border-top: 2px solid #ddd; margin-top: 2.5em; padding-top: 0.5em; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th { background: #f3f3f3; }
td:first-child, th:first-child { text-align: left; }
.claim { background: #f6f8fa; border-left: 4px solid #888; padding: 0.5em 1em; }
.verdict { padding: 0.6em 1em; border-left: 4px solid; }
.holds { border-color: #2a7; background: #eef9f2; }
.fails { border-color: #c33; background: #fdf0f0; }
.ok { color: #2a7; font-weight: bold; }
.no { color: #c33; font-weight: bold; }
img { max-width: 100%; margin: 0.5em 0; border: 1px solid #eee; }
.meta { color: #777; font-size: 0.85em; }
"""


def _cell(value) -> str:
    if isinstance(value, float):
        return html.escape(f"{value:.6g}")
    return html.escape(str(value))


def _table(columns, rows, max_rows=40) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>"
                   for row in rows[:max_rows])
    more = (f"<p class='meta'>... and {len(rows) - max_rows} more rows in result.json</p>"
            if len(rows) > max_rows else "")
    return f"<table><tr>{head}</tr>{body}</table>{more}"


def _image(path: str, alt: str, embed: bool) -> str:
    if embed:
        with open(path, "rb") as fh:
            src = "data:image/png;base64," + base64.b64encode(fh.read()).decode("ascii")
    else:
        src = html.escape(path)
    return f"<img src=\"{src}\" alt=\"{html.escape(alt)}\" data-file=\"{html.escape(alt)}\">"


def render_report(results, base_dir, embed: bool = True, title: str = "profond labs") -> str:
    """The report's HTML text.

    Parameters
    ----------
    results : list of dict
        Lab results as returned by :func:`profond.labs.run_lab` (with ``"images"`` relative to
        ``base_dir/<lab name>/``), or ``{"lab": name, "error": message}`` for a lab that failed.
    base_dir : str
        The folder holding one sub-folder of images per lab.
    embed : bool
        Embed the images (base64); otherwise link them by relative path.
    """
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
             f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
             f"<h1>{html.escape(title)}</h1>",
             f"<p class='meta'>Written {time.strftime('%Y-%m-%d %H:%M:%S')}. Every figure below "
             "was computed by the lab's code; every verdict was written from those figures.</p>"]
    summary = []
    for r in results:
        if "error" in r:
            summary.append([r["lab"], "error", "", r["error"][:120]])
        else:
            summary.append([r["lab"], "yes" if r["holds"] else "NO",
                            f"{r['seconds']:.1f}", r["title"]])
    parts.append("<h2>Summary</h2>")
    parts.append(_table(["lab", "claim borne out", "seconds", "title"], summary))
    for r in results:
        name = r["lab"]
        anchor = html.escape(name)
        if "error" in r:
            parts.append(f"<section id='{anchor}'><h2>{anchor}</h2><p class='verdict fails'>"
                         f"The lab failed: {html.escape(r['error'])}</p></section>")
            continue
        mode = "quick" if r["quick"] else "full"
        parts.append(f"<section id='{anchor}'><h2>{html.escape(r['title'])} "
                     f"<span class='meta'>({anchor}, {mode} mode, seed {r['seed']}, "
                     f"{r['seconds']:.1f} s)</span></h2>")
        parts.append(f"<p class='claim'><b>The deck says:</b> {html.escape(r['claim'])}</p>")
        parts.append(_table(r["table"]["columns"], r["table"]["rows"]))
        for image in r.get("images", []):
            parts.append(_image(os.path.join(base_dir, name, image), f"{name}/{image}", embed)
                         if embed else _image(f"{name}/{image}", f"{name}/{image}", False))
        checks = "".join(f"<li><span class='{'ok' if ok else 'no'}'>{'pass' if ok else 'FAIL'}"
                         f"</span> {html.escape(k.replace('_', ' '))}</li>"
                         for k, ok in r["checks"].items())
        parts.append(f"<p><b>Checks of the claim on these numbers:</b></p><ul>{checks}</ul>")
        if r.get("claims"):
            parts.append(f"<p><b>Each check over seeds {', '.join(map(str, r['seeds']))}</b> "
                         f"(holds on its mean and on at least "
                         f"{next(iter(r['claims'].values()))['seeds_needed']} seeds):</p>")
            parts.append(_table(
                ["check", "figure", "test", "mean", "std", "min", "max", "seeds held", "holds"],
                [[k, c["what"], f"{c['op']} {c['threshold']:.4g}", round(c["mean"], 4),
                  round(c["std"], 4), round(c["min"], 4), round(c["max"], 4),
                  f"{c['seeds_held']} of {len(c['values'])}", "yes" if c["holds"] else "NO"]
                 for k, c in r["claims"].items()]))
        parts.append(f"<p class='verdict {'holds' if r['holds'] else 'fails'}'><b>Verdict:</b> "
                     f"{html.escape(r['verdict'])}</p></section>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(results, out_dir, embed: bool = True, filename: str = "report.html") -> str:
    """Write ``out_dir/report.html`` (and ``summary.json``); return the report's path."""
    from profond._files import atomic_write_text

    out_dir = os.fspath(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, filename)
    atomic_write_text(path, render_report(results, out_dir, embed=embed))
    summary = [{"lab": r["lab"], "holds": r.get("holds"), "seconds": r.get("seconds"),
                "error": r.get("error"), "verdict": r.get("verdict")} for r in results]
    atomic_write_text(os.path.join(out_dir, "summary.json"), json.dumps(summary, indent=1) + "\n")
    return path
