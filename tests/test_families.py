"""`genspec families` on a fixed sample, end to end: a tiny checkpoint of each family built from its own config, the general
claims proven on it in a process of its own, the claims × families matrix written, shards joined, and the cells that moved
between two matrices listed. `pytest -m end_to_end` (CI's sample of the matrix the GitHub workflow runs whole)."""

import json
import os
import re
import subprocess
import sys

import pytest

from genspec.families.command import GENERAL

pytestmark = pytest.mark.end_to_end

# A key/value cache with an untied head, a tied head (C1 fails loudly there, as it promises), a recurrent state, and a
# multimodal family, whose row names its text model instead.
SAMPLE = ("llama", "gpt2", "mamba", "gemma3")


def _genspec(arguments, cwd, settings) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("GENSPEC_", "HF_"))} | {"HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "genspec", *arguments, "--stand-in-cache", str(settings.cache_root)], check=False, cwd=cwd,
                          capture_output=True, text=True, env=environment, timeout=1800)


@pytest.fixture(scope="module")
def shards(tmp_path_factory, settings):
    """The sample in two shards, as two CI jobs run it, and their join."""
    root = tmp_path_factory.mktemp("families")
    for index in (1, 2):
        done = _genspec(["families", "--only", ",".join(SAMPLE), "--shard", f"{index}/2", "-n", "2", "-o", f"shard-{index}"], root, settings)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    joined = subprocess.run([sys.executable, "-m", "genspec", "families", "--join", "shard-1/families.json", "shard-2/families.json",
                             "-o", "joined"], check=False, cwd=root, capture_output=True, text=True)
    assert joined.returncode == 0, joined.stderr
    return root, json.loads((root / "joined" / "families.json").read_text(encoding="utf-8"))


def test_each_family_is_a_row_of_verdicts_or_one_line(shards):
    """Every sampled family is a row: the proof's verdict on each general claim, or the one line that says why it has none."""
    _, matrix = shards
    rows = {row["family"]: row for row in matrix["families"]}
    assert sorted(rows) == sorted(SAMPLE)
    for family in ("llama", "gpt2", "mamba"):
        assert rows[family]["row"] == "proven on" and set(rows[family]["claims"]) == set(GENERAL), rows[family]
    assert all(cell["status"] == "proven" for cell in rows["llama"]["claims"].values()), rows["llama"]
    assert rows["gpt2"]["claims"]["C1"]["status"] == "failed" and "stores no lm_head.weight" in rows["gpt2"]["claims"]["C1"]["detail"]
    assert rows["mamba"]["claims"]["C3"]["status"] == "not applicable", rows["mamba"]["claims"]["C3"]
    assert rows["gemma3"]["row"] == "cannot build tiny" and "its text model is gemma3_text" in rows["gemma3"]["reason"], rows["gemma3"]
    page = (shards[0] / "joined" / "families.md").read_text(encoding="utf-8")
    assert "| gpt2 |" in page and "## Not built or not loaded, each with its reason" in page and "## Every red cell, its kind and its cause" in page
    assert "| gemma3 | cannot build tiny | a multimodal model: its text model is gemma3_text, a row of its own |" in page


def test_each_red_cell_has_its_kind_and_cause_on_the_findings_page(shards):
    """gpt2's C1 is the articles' recipe, not a defect of transformers: its tied save stores no lm_head.weight, shown by the line
    of transformers that ties it; findings.md names it once, with its cells."""
    root, matrix = shards
    cell = next(row for row in matrix["families"] if row["family"] == "gpt2")["claims"]["C1"]
    assert cell["kind"] == "the articles' recipe" and cell["cause"] == "tied-save", cell
    assert cell["lines"] and cell["lines"][0].startswith("transformers/modeling_utils.py:"), cell["lines"]
    findings = (root / "joined" / "findings.md").read_text(encoding="utf-8")
    assert "1 red cell: 0 defect, 0 by design, 1 the articles' recipe, 0 cause not found." in findings, findings[:600]
    assert "### a tied save stores no lm_head.weight" in findings and "Cells: gpt2 C1 ([script](repro/gpt2-C1.py))" in findings


def test_the_cells_that_moved_between_two_matrices(shards, tmp_path):
    """Given two families matrices (two releases), the regression report lists each cell that moved, with both verdicts."""
    root, matrix = shards
    later = json.loads(json.dumps(matrix)) | {"transformers": "99.0.0"}
    llama = next(row for row in later["families"] if row["family"] == "llama")
    llama["claims"]["G4"] = {"status": "failed", "detail": "uncached loop and cached generate() part at step 3"}
    (tmp_path / "later.json").write_text(json.dumps(later), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "genspec", "regression", str(root / "joined" / "families.json"), str(tmp_path / "later.json")],
                          check=False, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "1 cell moved" in done.stdout and "| llama | G4 | proven | failed: uncached loop and cached generate() part at step 3 |" in done.stdout, done.stdout


def test_a_red_cell_is_confirmed_on_a_second_build_and_reproduced_without_genspec(shards, tmp_path):
    """gpt2's C1 (a tied save stores no lm_head.weight) is red on both builds, and its script — torch and transformers alone —
    shows it and exits 1 while it holds; the matrix links the cell to it."""
    root, matrix = shards
    cell = next(row for row in matrix["families"] if row["family"] == "gpt2")["claims"]["C1"]
    builds = next(row for row in matrix["families"] if row["family"] == "gpt2")["builds"]
    assert len({build["weights sha256"] for build in builds}) == len(builds) == 2, builds
    assert cell["status"] == "failed" and cell["confirmed"] == ("red on 2 of 2 independent builds ("
                                                              + ", ".join(f"sha256 {build['weights sha256'][:12]}" for build in builds) + ")"), cell
    script = root / "joined" / cell["repro"]
    text = script.read_text(encoding="utf-8")
    assert not re.search(r"^\s*(import|from)\s+genspec\b", text, re.MULTILINE), "the script imports nothing of genspec"
    done = subprocess.run([sys.executable, "-I", str(script)], check=False, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 1 and "lm_head.weight not among them" in done.stdout, done.stdout + done.stderr[-2000:]
    page = (root / "joined" / "families.md").read_text(encoding="utf-8")
    assert f"[gpt2-C1.py]({cell['repro']})" in page
