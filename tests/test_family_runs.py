"""How `genspec families` words a family whose process ended without a row of verdicts (genspec/families/runs.py): killed at the
time limit, or dead, with the last line its log holds. A tool test (`pytest -m tool`); the whole command runs end to end in
tests/test_families.py."""

import json

import pytest

from genspec.families import builds as tiny
from genspec.families import runs as family_runs

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
    from genspec import PACKAGE  # an editable install: genspec's own files named from its folder, not the checkout's path

    assert family_runs.without_machine_paths(f"only run by failing cases: {PACKAGE}/agreement.py:120", tmp_path) == \
        "only run by failing cases: genspec/agreement.py:120"


# A red cell reaches the findings only when it is not float32 rounding (float64 judges it on the same build) and independent
# builds confirm it. The builds and the proof are played here: each build a manifest with its seed and weights' hash, each
# proof the verdicts a test gives it.
RED = {"status": "failed", "detail": "the prefix's 2 positions score otherwise once 4 tokens follow: by up to 0.01225"}


def played(monkeypatch, workdir, verdicts_by_dtype: dict, hash_of_seed=lambda seed: f"{seed:064x}") -> list[tuple]:
    """family_runs with tiny.write_tiny writing a manifest per build and _verdicts answering from `verdicts_by_dtype`
    (dtype -> build number -> claim -> verdict); returns the proofs asked for, as (build, dtype, claims)."""
    asked = []

    def write_tiny(family, directory, seed=0, tokenizer_files=None):
        directory.mkdir(parents=True)
        (directory / tiny.MANIFEST).write_text(json.dumps({"seed": seed, "recipe": {"seed_shift": 0}, "weights sha256": hash_of_seed(seed),
                                                           "float32 against float64": {"largest score difference": 1e-6}}))
        return directory

    def verdicts(directory, report, claims, cache_root, dtype="float32"):
        build = 1 if directory.name == "dory" else int(directory.name.rsplit("build", 1)[1])
        asked.append((build, dtype, list(claims)))
        answers = verdicts_by_dtype.get(dtype, {}).get(build)
        return None if answers is None else {claim: answers.get(claim, {"status": "proven", "detail": "as it should"}) for claim in claims}

    monkeypatch.setattr(tiny, "write_tiny", write_tiny)
    monkeypatch.setattr(family_runs, "_verdicts", verdicts)
    monkeypatch.setattr(family_runs, "_keep_script_inputs", lambda row, checkpoint, workdir: None)
    write_tiny("dory", workdir / "checkpoints" / "dory")
    return asked


def proven_family(monkeypatch, workdir, first: dict, **answers) -> dict:
    """The family's row after its first build's verdicts `first`: red cells judged in float64, then on more builds."""
    asked = played(monkeypatch, workdir, answers)
    row = {"family": "dory", "row": "proven on", "claims": json.loads(json.dumps(first)), "builds": [family_runs.build_of(workdir / "checkpoints" / "dory")]}
    family_runs.judge_red_cells(row, workdir / "checkpoints" / "dory", workdir, None)
    return row | {"asked": asked}


def test_a_red_cell_proven_in_float64_on_the_same_build_is_float32_rounding(monkeypatch, workdir):
    row = proven_family(monkeypatch, workdir, {"K3": RED}, float64={1: {"K3": {"status": "proven", "detail": "prefix fixed within 1e-12"}}})
    cell = row["claims"]["K3"]
    assert cell["status"] == family_runs.FLOAT32_ROUNDING, cell
    assert cell["detail"] == ("float32 rounding amplified by this build (float32: the prefix's 2 positions score otherwise once 4 tokens "
                              "follow: by up to 0.01225; float64, the same build: proven — prefix fixed within 1e-12)"), cell["detail"]
    assert row["asked"] == [(1, "float64", ["K3"])], "no other build is drawn for rounding"


def test_a_red_cell_red_in_float64_and_on_a_second_build_is_confirmed_with_both_hashes(monkeypatch, workdir):
    row = proven_family(monkeypatch, workdir, {"K3": RED}, float64={1: {"K3": RED}}, float32={2: {"K3": RED}})
    cell = row["claims"]["K3"]
    assert cell["status"] == "failed" and cell["float64"].startswith("failed in float64 too, on the same build: "), cell
    first, second = (build["weights sha256"] for build in row["builds"])
    assert cell["confirmed"] == f"red on 2 of 2 independent builds (sha256 {first[:12]}, sha256 {second[:12]})", cell
    seeds = [build["seed"] for build in row["builds"]]
    assert seeds[1] >= seeds[0] + len(tiny.SEED_SHIFTS), "the second build draws seeds no recipe of the first tried"


def test_a_red_cell_the_second_build_does_not_share_is_decided_on_a_third(monkeypatch, workdir):
    row = proven_family(monkeypatch, workdir, {"K3": RED}, float64={1: {"K3": RED}}, float32={2: {}, 3: {}})
    cell = row["claims"]["K3"]
    assert cell["status"] == family_runs.ONE_BUILD_ONLY and "[red on 1 of 3 independent builds (" in cell["detail"], cell
    assert [(build, dtype) for build, dtype, _ in row["asked"]] == [(1, "float64"), (2, "float32"), (3, "float32")]


def test_a_second_build_with_the_first_builds_weights_is_refused_and_leaves_the_cell_unconfirmed(monkeypatch, workdir):
    """Forced onto the first build's seed (the same weights, the same hash), a second build confirms nothing."""
    played(monkeypatch, workdir, {}, hash_of_seed=lambda seed: "a" * 64)
    row = {"family": "dory", "row": "proven on", "claims": {"C1": dict(RED)}, "builds": [family_runs.build_of(workdir / "checkpoints" / "dory")]}
    family_runs.judge_red_cells(row, workdir / "checkpoints" / "dory", workdir, None)
    cell = row["claims"]["C1"]
    assert cell["status"] == family_runs.UNCONFIRMED, cell
    assert cell["detail"].endswith("[unconfirmed: build 2 (seed 3) has the weights of an earlier build (sha256 aaaaaaaaaaaa): refused]"), cell


def test_a_row_is_kept_under_what_decides_it_and_given_back_only_for_the_same(tmp_path, monkeypatch):
    """An interrupted families run goes on where it stopped, a rerun proves again only what changed: a kept row comes back for
    the same family, release, torch, genspec source and claims (its scripts are written from it); for anything else, never."""
    from genspec.families import kept_rows

    row = {"family": "gpt2", "row": "proven on", "claims": {"C1": {"status": "failed", "detail": "…"}}, "script inputs": {"seed": 0}}
    kept_rows.keep(tmp_path, row, ("C1",))
    assert kept_rows.kept(tmp_path, "gpt2", ("C1",)) == row
    assert kept_rows.kept(tmp_path, "gpt2", ("C1", "G1")) is None and kept_rows.kept(tmp_path, "llama", ("C1",)) is None
    monkeypatch.setattr(kept_rows.transformers, "__version__", "99.0.0")
    assert kept_rows.kept(tmp_path, "gpt2", ("C1",)) is None, "another release proves again"
    monkeypatch.undo()
    (tmp_path / kept_rows.FOLDER / "gpt2.json").write_text('{"key": {"family": "gp', encoding="utf-8")
    assert kept_rows.kept(tmp_path, "gpt2", ("C1",)) is None, "a row cut short by a kill is proven again"


def test_what_is_written_from_the_rows_changes_no_row_key(monkeypatch):
    """The command's pages, the scripts, the causes and the findings are derived from the rows: a change to them rewrites the
    pages and scripts without proving 165 families again; a change to the proof or the builds does prove them again."""
    from genspec import PACKAGE
    from genspec.families import kept_rows

    before = kept_rows.source_sha256()
    for derived in kept_rows.DERIVED:
        assert (PACKAGE / derived).exists(), derived
    real = type(PACKAGE).read_bytes

    def edited(path, names=("causes.py", "runs.py")):
        return real(path) + (b"# edited" if path.name in names else b"")

    kept_rows.source_sha256.cache_clear()
    monkeypatch.setattr(type(PACKAGE), "read_bytes", lambda path: edited(path, ("causes.py", "findings.py", "scripts.py", "command.py")))
    assert kept_rows.source_sha256() == before, "an edit of what is derived from the rows changed the rows' key"
    kept_rows.source_sha256.cache_clear()
    monkeypatch.setattr(type(PACKAGE), "read_bytes", lambda path: edited(path, ("runs.py",)))
    assert kept_rows.source_sha256() != before, "an edit of how a family is proven left the rows' key as it was"
    kept_rows.source_sha256.cache_clear()


def test_float64_that_cannot_judge_never_reads_as_red_in_float64_too(monkeypatch, workdir):
    """A float64 run that raised where float32 computed, or scored NaN, says "float64 cannot judge: …" and the cell stays
    unarbitrated; the same raise in both dtypes is the same finding, judged."""
    raised64 = ("transformers itself raised RuntimeError: expected scalar type Float but found Double — called as XLNetLMHeadModel.forward(), "
                "raised at transformers/models/xlnet/modeling_xlnet.py:300 (in XLNetRelativeAttention.rel_attn_core), transformers 5.25.0")
    crash = ("transformers itself raised RuntimeError: The size of tensor a (48) must match the size of tensor b (33) — called as "
             "CpmAntForCausalLM.forward(), raised at transformers/models/cpmant/modeling_cpmant.py:131 (in CpmAntAttention.forward), transformers 5.25.0")
    nan = "the model's scores are not finite (NaN or inf): hi 151,936 of 151,936 scores of the articles' prompts; every weight is finite"
    first = {"K1": RED, "G1": {"status": "failed", "detail": crash}, "K3": RED}
    row = proven_family(monkeypatch, workdir, first, float64={1: {"K1": {"status": "failed", "detail": raised64},
                                                                 "G1": {"status": "failed", "detail": crash},
                                                                 "K3": {"status": "failed", "detail": nan}}},
                        float32={2: {"K1": RED, "G1": {"status": "failed", "detail": crash}, "K3": RED}})
    cells = row["claims"]
    assert cells["K1"]["float64"].startswith("float64 cannot judge: float64 raised where float32 computed (transformers itself raised"), cells["K1"]
    assert cells["K3"]["float64"].startswith("float64 cannot judge: its scores are not finite ("), cells["K3"]
    assert cells["G1"]["float64"].startswith("failed in float64 too, on the same build: transformers itself raised"), cells["G1"]
    assert all(cell["status"] == "failed" for cell in cells.values()), "float64 that cannot judge leaves the float32 verdict, unarbitrated"
