"""Checkpoints outside the suite's mold as `--model`: every claim gets a verdict, never an exception's name, end to end.

Tiny checkpoints (genspec/embedded/unusual.py) written as a user's local checkpoint would be; the suite runs on each in a
subprocess and its proof report is read back: a claim is proven, failed in its own words, or not applicable with the
family's difference. (The checkpoints that cannot start at all are tests/test_model_option.py's.) `pytest -m end_to_end`.
"""

import pytest

from genspec.embedded.unusual import HYBRIDS, STATEFUL, write_broken_checkpoint, write_soft_capped_checkpoint, write_stateful_checkpoint
from genspec.run.subprocess_run import run_suite

pytestmark = pytest.mark.end_to_end

# What a failed claim's line must never be: an exception escaping a test instead of a verdict.
EXCEPTION_NAMES = ("AttributeError", "TypeError", "KeyError", "IndexError", "ValueError", "StopIteration", "RuntimeError",
                   "NotImplementedError", "Traceback", "DID NOT RAISE")
# Per family: claims not applicable (words of the reason), and claims that fail in their own words (words of the verdict).
NOTHING_KEPT = "hands back nothing between steps"
NOT_APPLICABLE = {
    "gpt1": {"G4": NOTHING_KEPT},
    "mamba": {"C1": "no sequence-classification model for Mamba", "C3": "no sequence-classification"},
    "rwkv": {"G8": "no beam search for RwkvForCausalLM", "C1": "no sequence-classification"},
    "recurrent_gemma": {"G4": NOTHING_KEPT, "C1": "no sequence-classification model for RecurrentGemma"},
    "bert": {"G4": NOTHING_KEPT, "C1": "has no `score` head over the last token", "C3": "has no `score` head"},
}
FAILED = {
    # GPT-1 ties its head to the embedding: its save stores no lm_head.weight, and C1 fails loudly, as it promises.
    "gpt1": {"C1": "stores no lm_head.weight (a tied save)"},
    # BERT attends to later tokens: the causality claims are refuted, and generate() (with a cache) differs from the loops.
    # Said in the claim's words: how many scores differ beyond the kernel tolerance, by how much, where.
    "bert": {"K1": "scores differ by more than the kernel tolerance", "K3": "scores differ by more than the kernel tolerance",
             "G1": "attends to later tokens"},
    # Their state reads the left padding of a batch, which the attention mask marks.
    "rwkv": {"G10": "reads the padding"},
    "recurrent_gemma": {"G10": "reads the padding"},
}
# What G4's verdict names as kept between steps, where the family hands back a state.
KEPT = {"mamba": "recurrent layers", "rwkv": "a recurrent state", **dict.fromkeys(HYBRIDS, "key/value layers and")}
KEPT["falcon_h1"] = "4 key/value layers and 4 recurrent layers"  # each of its layers keeps both


def _suite_on(directory, settings, tmp_path) -> tuple[int, dict]:
    done, report = run_suite(["--model", str(directory)], "float32", tmp_path, settings.cache_root)
    rows = {row["id"]: row for row in report["claims"]}
    escaped = {claim: row["detail"] for claim, row in rows.items() if row["status"] == "failed" and any(name in row["detail"] for name in EXCEPTION_NAMES)}
    assert not escaped, f"{directory.name}: failed claims that carry an exception instead of a verdict: {escaped}"
    return done.returncode, rows


@pytest.mark.parametrize("family", list(STATEFUL))
def test_every_claim_gets_a_verdict_on_another_family(family, settings, tmp_path):
    returncode, rows = _suite_on(write_stateful_checkpoint(family, tmp_path / f"my-{family}"), settings, tmp_path)
    summary = "\n".join(f"{claim} {row['status']}: {row['detail'][:160]}" for claim, row in rows.items())
    for claim, words in NOT_APPLICABLE.get(family, {}).items():
        assert rows[claim]["status"] == "not applicable" and words in rows[claim]["detail"], f"{family} {claim}: {rows[claim]}"
    for claim, words in FAILED.get(family, {}).items():
        assert rows[claim]["status"] == "failed" and words in rows[claim]["detail"], f"{family} {claim}: {rows[claim]}"
    # The structural claims every causal LM shares are proven (BERT is no causal LM: K and G fail above).
    shared = ("S1", "S3", "S4", "S5", "G3") if family == "bert" else ("S1", "S3", "S4", "S5", "K1", "K3", "G3", "G5")
    assert all(rows[claim]["status"] == "proven" for claim in shared), summary
    if family in KEPT:  # the loops feed back what the family keeps, and G4 names it
        assert rows["G4"]["status"] == "proven" and KEPT[family] in rows["G4"]["detail"], f"{family} G4: {rows['G4']}"
    if family in ("mamba", *HYBRIDS):  # nothing fails
        assert returncode == pytest.ExitCode.OK, summary


def test_scores_that_are_not_finite_are_named_in_every_claim_that_reads_them(settings, tmp_path):
    """A layer of NaN: every claim that reads scores fails with the cause, named; the printed tree is still judged."""
    returncode, rows = _suite_on(write_broken_checkpoint("nan_layer", tmp_path / "my-nan-layer"), settings, tmp_path)
    assert returncode == pytest.ExitCode.TESTS_FAILED
    reads_scores = ("S1", "S3", "K1", "K2", "K3", "G1", "G5", "G6", "G8", "C3")
    for claim in reads_scores:
        detail = rows[claim]["detail"]
        assert rows[claim]["status"] == "failed" and "the model's scores are not finite" in detail, f"{claim}: {rows[claim]}"
        assert "transformer.h.1." in detail, f"{claim} does not name the weights that hold NaN: {detail}"
    assert rows["E1"]["status"] == "proven", rows["E1"]  # refusing a string reads no scores


def test_softmax_sums_to_one_up_to_rounding_on_soft_capped_scores(settings, tmp_path):
    """S4 on Gemma2's flat, soft-capped scores: its float32 softmax sums to 1.00005, which only rounding explains, so S4 holds."""
    directory = write_soft_capped_checkpoint(tmp_path / "my-gemma2")
    _, report = run_suite(["--model", str(directory), "--claims", "S4,K2"], "float32", tmp_path, settings.cache_root)
    rows = {row["id"]: row for row in report["claims"]}
    assert rows["S4"]["status"] == "proven" and rows["K2"]["status"] == "proven", {claim: rows[claim] for claim in ("S4", "K2")}
