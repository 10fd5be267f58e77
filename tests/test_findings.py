"""A red cell's kind and cause (genspec/families/causes.py, findings.py), as `genspec families` judges them: a defect's cause is
written only where the cell's script exits 1 as a maintainer runs it and 0 under its counter-patch — the smallest change of
transformers' lines, applied in the script's process; a counter-patch that does not mend reads "cause not found", naming what
was ruled out; a cause whose line a release no longer has is not stated. On RoBERTa, whose generate() numbers positions from 0
where its forward numbers them after its padding id (G1). `pytest -m tool`.
"""

import dataclasses

import pytest
import transformers

from genspec.embedded.tokenizer import build_tokenizer
from genspec.families import builds, causes, command, findings, scripts

pytestmark = [pytest.mark.tool, pytest.mark.skipif("roberta" not in builds.model_types(), reason="this transformers ships no RoBERTa")]


@pytest.fixture(scope="module")
def roberta(tmp_path_factory):
    """What a families run keeps of RoBERTa's row: its tiny build's script inputs, G1 red."""
    root = tmp_path_factory.mktemp("findings")
    build_tokenizer(root / "tokenizer")
    checkpoint = builds.write_tiny("roberta", root / "roberta", tokenizer_files=root / "tokenizer")
    return scripts.inputs(checkpoint, transformers.AutoTokenizer.from_pretrained(root / "tokenizer"))


def judged(given: dict, output) -> tuple[dict, str]:
    row = {"family": "roberta", "row": "proven on", "script inputs": given,
           "claims": {"G1": {"status": "failed", "detail": "the greedy loop and generate() part at step 0"}}}
    matrix = {"transformers": transformers.__version__, "families": [row]}
    command.write_scripts(matrix, output)
    findings.judge(matrix, output)
    return row["claims"]["G1"], findings.to_markdown(matrix)


def test_a_defect_is_stated_where_its_counter_patch_turns_the_script_green(roberta, tmp_path):
    cell, page = judged(roberta, tmp_path)
    assert cell["kind"] == causes.DEFECT and cell["cause"] == "positions-from-zero", cell
    assert cell["exits"]["script"] == 1 and cell["exits"]["counter"] == 0, cell["exits"]
    assert cell["exits"]["counter said"] == "the finding is gone on this release", cell["exits"]
    assert cell["cause text"].startswith("generate() hands every forward that takes `position_ids` positions counted from 0"), cell
    assert any(line.startswith("transformers/generation/utils.py:") for line in cell["lines"]), cell["lines"]
    assert "### generate() numbers positions from 0 where the model numbers them after its padding id" in page
    assert "| roberta | G1 | exit 1 | exit 0 |" in page
    counter = (tmp_path / cell["counter-patch"]).read_text(encoding="utf-8")
    assert "- accepts_position_ids = " in counter and "+ accepts_position_ids = " in counter, "the patch shown line by line"


def test_a_counter_patch_that_does_not_mend_reads_cause_not_found(roberta, tmp_path, monkeypatch):
    """Broken by hand: the counter-patch changes a line without changing what it computes."""
    cause = causes.cause_of("roberta", "G1")
    inert = dataclasses.replace(cause, counter_patch={"roberta": tuple(
        dataclasses.replace(each, new=each.old + "  # unchanged") for each in cause.counter_patch["roberta"])})
    monkeypatch.setattr(causes, "CAUSES", tuple(inert if each is cause else each for each in causes.CAUSES))
    cell, page = judged(roberta, tmp_path)
    assert cell["kind"] == causes.CAUSE_NOT_FOUND, cell
    assert cell["cause text"] == (f"ruled out: {cause.title} — under its counter-patch the script still exits 1 (the finding holds)"), cell
    assert "## Cause not found" in page and "ruled out: generate() numbers positions from 0" in page


def test_a_cause_whose_line_is_gone_is_not_stated(roberta, tmp_path, monkeypatch):
    """A release that no longer has the line a cause names: the cause is ruled out, never stated from memory."""
    cause = causes.cause_of("roberta", "G1")
    gone = dataclasses.replace(cause, lines=(causes.Line("{modeling}", "a line no release has"),), counter_patch={})
    monkeypatch.setattr(causes, "CAUSES", tuple(gone if each is cause else each for each in causes.CAUSES))
    cell, _ = judged(roberta, tmp_path)
    assert cell["kind"] == causes.CAUSE_NOT_FOUND and "exits" not in cell, cell
    assert cell["cause text"] == (f"ruled out: {cause.title} — its line is not in transformers {transformers.__version__} (a line no release "
                                  "has)"), cell


def test_every_cause_names_lines_this_transformers_has():
    """Each cause's lines are found in the installed transformers, for every family it names (a release that moves or drops one
    turns this red, and the matrix would say 'cause not found')."""
    missing = [(cause.name, family, line.text) for cause in causes.CAUSES for family in cause.cells if family != causes.ANY
               if causes.model_class(family) is not None for line in causes.lines_of(cause, family) if causes.where(line, family) is None]
    assert not missing, missing
