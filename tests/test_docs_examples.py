"""Every ```python block of the documentation (docs/**/*.md) runs, as the reader would run it.

A page's blocks run in order in one namespace (a later block uses what an earlier one made), in
a fresh working folder. A block is left out only when the line just above its fence is
``<!-- not run: REASON -->`` with a written reason; a bare marker is an error. A page that uses
an optional library says so once, ``<!-- needs: keras -->``, and is skipped where it is absent
(Keras then runs on its PyTorch backend, as in the rest of the tests).
"""

import os
import pathlib
import re

import pytest

DOCS = pathlib.Path(__file__).resolve().parent.parent / "docs"
FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)
MARKER = re.compile(r"<!--\s*not run\b:?(.*?)-->\s*$", re.DOTALL)
NEEDS = re.compile(r"<!--\s*needs:\s*([\w., -]+?)\s*-->")


def blocks_of(text):
    """``[(line, code, skip_reason or None)]`` for each ```python block of a page."""
    out = []
    for match in FENCE.finditer(text):
        before = text[:match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        marker = MARKER.search(before)
        reason = None
        if marker is not None:
            reason = marker.group(1).strip()
            if not reason:
                line = text.count("\n", 0, match.start()) + 1
                raise ValueError(f"The block at line {line} is marked 'not run' without a "
                                 "reason: write why after 'not run:'.")
        out.append((text.count("\n", 0, match.start()) + 2, match.group(1), reason))
    return out


PAGES = sorted(p for p in DOCS.rglob("*.md") if FENCE.search(p.read_text(encoding="utf-8")))


def test_every_concept_of_the_guide_has_a_runnable_example_and_a_figure():
    concepts = [p for p in (DOCS / "guide").glob("*.md") if p.name != "index.md"]
    assert len(concepts) == 15
    for page in concepts:
        text = page.read_text(encoding="utf-8")
        assert any(reason is None for _, _, reason in blocks_of(text)), page.name
        # the figure is drawn at build time (a lab's plot, or docs/gen_pages.py's)
        assert re.search(r"!\[[^\]]*\]\(\.\./(labs|figures)/[^)]+\.png\)", text), page.name
    assert len(PAGES) >= 18         # the guide, getting started, and the two "coming from"


def test_extraction_keeps_order_and_reads_the_skip_reason():
    page = ("text\n```python\na = 1\n```\n<!-- not run: needs a GPU -->\n```python\n"
            "import cupy\n```\n```bash\nls\n```\n```python\nb = a + 1\n```\n")
    found = blocks_of(page)
    assert [code for _, code, _ in found] == ["a = 1\n", "import cupy\n", "b = a + 1\n"]
    assert [reason for _, _, reason in found] == [None, "needs a GPU", None]
    with pytest.raises(ValueError, match="without a reason"):
        blocks_of("<!-- not run -->\n```python\nx = 1\n```\n")


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(DOCS)) for p in PAGES])
def test_page_examples_run(page, tmp_path, monkeypatch):
    text = page.read_text(encoding="utf-8")
    found = blocks_of(text)
    runnable = [(line, code) for line, code, reason in found if reason is None]
    if not runnable:
        pytest.skip("no runnable python block on this page")
    pytest.importorskip("matplotlib")
    pytest.importorskip("sklearn")
    for needs in NEEDS.findall(text):
        for module in needs.replace(",", " ").split():
            if module == "keras":
                monkeypatch.setenv("KERAS_BACKEND", os.environ.get("KERAS_BACKEND", "torch"))
            pytest.importorskip(module)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace = {"__name__": "__docs__"}
    import profond

    with profond.random.preserved():
        for line, code in runnable:
            compiled = compile(code, f"{page.relative_to(DOCS)}:{line}", "exec")
            exec(compiled, namespace)  # noqa: S102 (running the page's examples is the test)
    try:
        import matplotlib.pyplot as plt

        plt.close("all")
    except ImportError:
        pass
