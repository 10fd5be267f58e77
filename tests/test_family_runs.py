"""How `genspec families` words a family whose process ended without a row of verdicts (genspec/family_runs.py): killed at the
time limit, or dead, with the last line its log holds. A tool test (`pytest -m tool`); the whole command runs end to end in
tests/test_families.py."""

import json

import pytest

from genspec import family_runs

pytestmark = pytest.mark.tool


@pytest.fixture
def workdir(tmp_path):
    for folder in ("rows", "logs", "checkpoints"):
        (tmp_path / folder).mkdir()
    return tmp_path


def test_a_row_the_process_wrote_is_its_row(workdir):
    (workdir / "rows" / "llama.json").write_text(json.dumps({"family": "llama", "row": "proven on", "claims": {}}), encoding="utf-8")
    assert family_runs.ended_row("llama", workdir, 0, 12.3) == {"family": "llama", "row": "proven on", "claims": {}, "seconds": 12.3}


def test_a_process_killed_at_the_limit_timed_out(workdir):
    (workdir / "logs" / "slow.log").write_text("....", encoding="utf-8")
    row = family_runs.ended_row("slow", workdir, -9, family_runs.PER_FAMILY_SECONDS + 0.5)
    assert row["row"] == "timed out" and f"within {family_runs.PER_FAMILY_SECONDS} s" in row["reason"], row


@pytest.mark.parametrize("built, expected", [(False, "cannot build tiny"), (True, "cannot load")])
def test_a_dead_process_says_how_it_died_and_its_last_words(workdir, built, expected):
    """Before its checkpoint was written the family could not be built; after, its proof could not run."""
    if built:
        (workdir / "checkpoints" / "odd").mkdir()
    (workdir / "logs" / "odd.log").write_text("building\nSegmentation fault in the family's own kernel\n", encoding="utf-8")
    row = family_runs.ended_row("odd", workdir, -11, 3.0)
    assert row["row"] == expected, row
    assert row["reason"] == "its process died (exit code -11): Segmentation fault in the family's own kernel", row


def test_a_verdict_names_no_machine_paths(tmp_path):
    """hypothesis' explanation and a crash's file, as any machine words them: packages from their own folder, the scratch as `.`."""
    said = ("Explanation: run by /usr/lib/python3.11/site-packages/transformers/models/dory/modeling_dory.py:212 on "
            f"{tmp_path}/checkpoints/dory/config.json")
    assert family_runs.without_machine_paths(said, tmp_path) == \
        "Explanation: run by transformers/models/dory/modeling_dory.py:212 on checkpoints/dory/config.json"
