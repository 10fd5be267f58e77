"""The proof page (`--claims-report PATH` writes PATH with .html) as a reader's browser draws it: headless Chromium.

A tool test (`pytest -m tool`): it runs the tests that draw the articles' pictures on `embedded-small`
in a subprocess, then opens the page it wrote in Chromium. Where no Chromium is installed it says so
and skips; CI installs Debian's chromium first.
"""

import json
import re
import struct

import pytest

from genspec.reports import browser
from genspec.run.subprocess_run import run_suite

pytestmark = pytest.mark.tool

DRAWING = ["spec/test_shapes.py::test_shapes_follow_the_models_config", "spec/test_causality.py::test_one_pass_gives_every_prefix_prediction",
           "spec/test_generation.py::test_top_branch_at_each_step_is_the_greedy_path", "spec/test_generation.py::test_cache_changes_nothing_but_speed"]
K4_TEXT = "Hi, how are you doing today?"  # 001's table (spec/test_causality.py)
G9_BRANCHES, G9_DEPTH = 3, 3  # 001's tree: the top-3 branches, over SHORT // 2 steps (spec/test_generation.py)


@pytest.fixture(scope="module")
def page(settings, tmp_path_factory):
    if browser.find() is None:
        pytest.skip("no headless Chromium to draw the page: install Debian's chromium (apt-get install chromium); CI does")
    tmp_path = tmp_path_factory.mktemp("page")
    done, report = run_suite(["--model", "embedded-small"], "float32", tmp_path, settings.cache_root, paths=DRAWING)
    assert done.returncode == pytest.ExitCode.OK, done.stdout[-3000:]
    return tmp_path / "report.html", report


@pytest.fixture(scope="module")
def dom(page):
    """The page's DOM as Chromium serialises it after loading it (one Chromium start for the tests that read it)."""
    return browser.dump_dom(page[0])


def test_page_opens_offline_with_every_claim(page, dom):
    """The page is self-contained (nothing to fetch) and Chromium shows a section for every catalogued claim, with its verdict."""
    html, report = page
    text = html.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)=['"](https?:)?//""", text), "the page links something from the network"
    sections = re.findall(r"<section class=\"claim\" id=\"(\w+)\"", dom)
    assert sections == [row["id"] for row in report["claims"]], f"sections drawn: {sections}"
    assert dom.count("<span class=\"badge\">proven</span>") == sum(row["status"] == "proven" for row in report["claims"]) > 0


def test_page_draws_the_articles_pictures(dom, tokenizer):
    """Chromium's DOM holds 001's tree (the prompt and 3 branches per step, the greedy path marked), 001's table (a row per
    token of its text) and 000's flowchart (raw input to task head) with the shapes of the run."""
    tree = _section(dom, "G9")
    assert tree.count("<g class=\"node") == 1 + G9_BRANCHES * G9_DEPTH
    assert tree.count("<g class=\"node greedy\">") == 1 + G9_DEPTH, "the greedy path: the prompt and one node per step"
    table = _section(dom, "K4")
    assert table.count("<tr>") == 1 + len(tokenizer(K4_TEXT)["input_ids"]), "a header and one row per token of 001's text"
    flow = _section(dom, "S1")
    for stage in ("raw input", "tokenizer: input_ids", "embedding + 2 decoder layers", "task head"):  # embedded-small: 2 layers
        assert stage in flow, f"no stage {stage!r} in the flowchart"
    assert "last_hidden_state 1×1×1024" in flow and "logits 1×1×151936" in flow, "the shape journey of \"Hi\""
    assert "class=\"strip\"" in _section(dom, "G4"), "the uncached loop beside generate()"


def test_screenshot_is_a_picture_of_the_page(page, tmp_path):
    """Chromium renders the page to a PNG of the asked size (the README's screenshot is made this way)."""
    html, _ = page
    png = browser.screenshot(html, tmp_path / "page.png", width=1280, height=1600)
    header = png.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", header[16:24]) == (1280, 1600)
    assert png.stat().st_size > 50_000, "a blank page compresses to a few kilobytes"


def _section(dom: str, claim_id: str) -> str:
    found = re.search(rf"<section class=\"claim\" id=\"{claim_id}\".*?</section>", dom, re.DOTALL)
    assert found, f"no section for {claim_id}"
    return found.group(0)


def test_matrix_grid_has_a_cell_per_claim_and_version(tmp_path):
    """`genspec-matrix -o matrix.md` also writes matrix.html: a row per claim, a column per version in version order, each cell its status."""
    from genspec.reports import matrix
    paths = []
    for version, status in (("5.0.0", "proven"), ("4.51.3", "refuted")):  # given newest first: the grid orders versions
        report = {"environment": {"transformers": version, "identity": "embedded-small-seed0", "dtype": "float32", "device": "cpu", "torch": "2"},
                  "claims": [{"id": "C1", "kind": "structural", "status": status, "detail": "evidence"}], "tests": {}}
        paths.append(tmp_path / f"{version}.json")
        paths[-1].write_text(json.dumps(report), encoding="utf-8")
    assert matrix.main([*map(str, paths), "-o", str(tmp_path / "matrix.md")]) == 0
    grid = (tmp_path / "matrix.html").read_text(encoding="utf-8")
    assert re.findall(r"<th>([\d.]+)</th>", grid) == ["4.51.3", "5.0.0"]
    row = re.search(r"<tr><th>C1</th>.*?</tr>", grid).group(0)
    assert re.findall(r"<td class='status'[^>]*>(\w+)</td>", row) == ["refuted", "proven"]


def test_terminal_table_in_colour_names_every_claim():
    """In a colour terminal the proof table is drawn by rich: a row per claim, its status in its colour (green 32, red 31)."""
    from genspec.reports.proof_report import rich_table
    rows = [{"id": "G1", "kind": "structural", "status": "proven", "detail": "2 tests"},
            {"id": "V1", "kind": "value", "status": "failed", "detail": "top-1 after the how-are-you chat: " + "x" * 300}]
    drawn = rich_table(rows, {"proven": "green", "failed": "red"}, width=120)
    lines = [line for line in drawn.splitlines() if line.startswith(("G1", "V1"))]
    assert len(lines) == 2 and "\x1b[32mproven" in lines[0] and "\x1b[31mfailed" in lines[1], drawn
    assert all(len(re.sub(r"\x1b\[[\d;]*m", "", line)) <= 120 for line in drawn.splitlines()), "wider than the terminal"
