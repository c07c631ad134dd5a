"""The labs' HTML report: every section, every image it names, and the CLI around it."""

import base64
import html
import re

import pytest

pytest.importorskip("matplotlib")

from profond import labs  # noqa: E402
from profond.cli.main import main  # noqa: E402
from profond.labs.report import write_report  # noqa: E402


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    results = [labs.run_lab("backprop", quick=True, seed=0, out_dir=out / "backprop"),
               labs.run_lab("losses", quick=True, seed=0, out_dir=out / "losses"),
               {"lab": "broken", "error": "RuntimeError: boom"}]
    path = write_report(results, out)
    return out, results, open(path, encoding="utf-8").read()


def test_report_has_a_section_per_lab_with_claim_table_and_verdict(report):
    _, results, text = report
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    for r in results[:2]:
        section = text.split(f"<section id='{r['lab']}'>")[1].split("</section>")[0]
        assert html.escape(r["claim"]) in section
        assert "<table>" in section
        assert "Verdict:" in section and html.escape(r["verdict"]) in section
        for column in r["table"]["columns"]:
            assert f"<th>{html.escape(column)}</th>" in section
    assert "<section id='broken'>" in text and "boom" in text


def test_report_embeds_every_image_it_names(report):
    out, results, text = report
    named = re.findall(r'<img src="data:image/png;base64,([^"]+)" alt="([^"]+)"', text)
    expected = {f"{r['lab']}/{p}" for r in results[:2] for p in r["images"]}
    assert {alt for _, alt in named} == expected and expected
    for data, alt in named:
        png = base64.b64decode(data)
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        assert png == (out / alt).read_bytes()


def test_report_links_images_when_not_embedded(report, tmp_path):
    out, results, _ = report
    path = write_report(results[:2], out, embed=False, filename="linked.html")
    text = open(path, encoding="utf-8").read()
    srcs = re.findall(r'<img src="([^"]+)"', text)
    assert srcs and all((out / s).exists() for s in srcs)


def test_cli_lab_list_and_one_lab(tmp_path, capsys):
    assert main(["lab", "list"]) == 0
    listed = capsys.readouterr().out
    for name in labs.names(include_missing=True):
        assert name in listed
    assert main(["lab", "backprop", "--quick", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "verdict: The figures bear the claim out" in printed
    assert (tmp_path / "backprop.png").exists() and (tmp_path / "result.json").exists()


def test_cli_unknown_lab_is_an_error(capsys):
    assert main(["lab", "no-such-lab"]) == 2
    assert "Unknown lab" in capsys.readouterr().err
